"""The webhook delivery worker: fan out the outbox, claim due deliveries, send, record.

It runs as a thread inside each ``modelyard serve`` process (``MODELYARD_WEBHOOKS_WORKER``)
and on its own (``modelyard webhooks worker``); any number may run against one database,
because all work is claimed from it (``services/deliveries.py``). It keeps no state of its own:
killed at any moment, it leaves leased deliveries that become due again when their lease runs
out, so an event is delivered at least once, every time with the same ``webhook-id``.

    loop: fan_out ─> claim (free slots) ─> thread pool: open secret, send, finish
          caught up? wait MODELYARD_WEBHOOKS_POLL_SECONDS (or until stopped)

"Caught up" means the step's fan-out read less than a whole batch and its claim left slots
free: nothing more can be done at once. It does not mean "found nothing": under a steady
stream of changes every step finds a few new events, and a worker that went round again at
once would fan them out a few at a time, each step three reads and a write transaction that
take the GIL and SQLite's writer lock from the requests (creating versions back to back: 8-9
steps instead of 47-70 per 3,000 creations; in a server, the worker thread's CPU per creation
21-26 -> 15-18 µs). Waiting instead fans out the poll interval's events in one batch, an event
reaching it no later than an idle worker's first.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter

from modelyard.db.engine import Database
from modelyard.domain.webhooks import DEAD
from modelyard.services import deliveries
from modelyard.services.deliveries import Claimed, Outcome, RetryPolicy
from modelyard.services.secretbox import SecretBox, SecretUnavailable
from modelyard.settings import Settings

if TYPE_CHECKING:
    from modelyard.services.sender import Sender

log = logging.getLogger("modelyard.webhooks")

# A lease outlasts one attempt (its timeout) by a margin, so a slow attempt is never taken
# over while it still runs.
LEASE_MARGIN_SECONDS = 10.0


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int
    poll_seconds: float
    timeout_seconds: float
    allow_private: bool
    policy: RetryPolicy

    @classmethod
    def of(cls, settings: Settings) -> WorkerConfig:
        return cls(
            concurrency=max(1, settings.webhooks_concurrency),
            poll_seconds=settings.webhooks_poll_seconds,
            timeout_seconds=settings.webhooks_timeout_seconds,
            allow_private=settings.webhooks_allow_private,
            policy=RetryPolicy(
                max_attempts=max(1, settings.webhooks_max_attempts),
                base_seconds=settings.webhooks_retry_base_seconds,
                cap_seconds=settings.webhooks_retry_max_seconds,
                disable_after_dead=max(0, settings.webhooks_disable_after_dead),
            ),
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout_seconds * 3 + LEASE_MARGIN_SECONDS)


class Metrics:
    """Counters of this process's attempts, on the app's /metrics when it runs in ``serve``."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.attempts = Counter(
            "modelyard_webhook_attempts",
            "Webhook delivery attempts made by this process, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.dead = Counter(
            "modelyard_webhook_dead_letters",
            "Webhook deliveries this process dead-lettered after their last attempt",
            registry=registry,
        )
        for outcome in ("delivered", "failed"):
            self.attempts.labels(outcome)


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        box: SecretBox,
        config: WorkerConfig,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.db, self.box, self.config = db, box, config
        self.metrics = Metrics(registry)
        self.batch = deliveries.FAN_OUT_BATCH  # events a fan-out reads at most
        self.name = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._sender: Sender | None = None  # made with the first attempt: see ``sender``
        self._sender_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(config.concurrency, thread_name_prefix="webhook")
        self._inflight: set[Future[None]] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls, db: Database, settings: Settings, registry: CollectorRegistry | None = None
    ) -> DeliveryWorker:
        box = SecretBox(settings.resolved_webhooks_key_file)
        return cls(db, box, WorkerConfig.of(settings), registry)

    # ------------------------------------------------------------------------- running

    def start(self) -> None:
        """Run the loop in a background thread (``stop`` ends it)."""
        self._thread = threading.Thread(target=self.run, name="webhook-worker", daemon=True)
        self._thread.start()

    def run(self) -> None:
        """The loop, until ``stop``. Errors (a database restarting) are logged and retried."""
        log.info("webhook worker %s started", self.name)
        while not self._stop.is_set():
            try:
                fanned, claimed, free = self._step()
                more = fanned >= self.batch or 0 < free <= claimed
            except Exception:
                log.exception("webhook worker %s: step failed; retrying", self.name)
                more = False
            if not more:  # caught up (see the module docstring)
                self._stop.wait(self.config.poll_seconds)
        log.info("webhook worker %s stopped", self.name)

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def request_stop(self) -> None:
        """Ask ``run`` to return after its current step (safe from a signal handler)."""
        self._stop.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; wait for attempts in flight (each ends within its timeout)."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)
        if self._sender is not None:
            self._sender.close()

    @property
    def sender(self) -> Sender:
        """The HTTP sender, made on first use: loading httpx and its HTTP stack (a tenth of a
        second) is left to the first delivery, off a server's start-up, and never happens on
        a server with no webhooks."""
        with self._sender_lock:
            if self._sender is None:
                from modelyard.services.sender import Sender

                self._sender = Sender(self.config.timeout_seconds, self.config.allow_private)
            return self._sender

    # ------------------------------------------------------------------------- one step

    def step(self) -> bool:
        """Fan out, then claim as many due deliveries as there are free slots and start them.
        Returns whether there was anything to do."""
        fanned, claimed, _ = self._step()
        return bool(fanned or claimed)

    def _step(self) -> tuple[int, int, int]:
        """``step``: the events fanned out, the deliveries claimed, the slots that were free."""
        self._inflight = {f for f in self._inflight if not f.done()}
        fanned = 0
        if deliveries.has_new_events(self.db):
            fanned = deliveries.fan_out(self.db, self.batch)
        free = self.config.concurrency - len(self._inflight)
        jobs = self._claim(free)
        for job in jobs:
            self._inflight.add(self._pool.submit(self._attempt_logged, job))
        return fanned, len(jobs), free

    def run_once(self) -> None:
        """Deliver what is due, until nothing is (``modelyard webhooks worker --once``)."""
        while True:
            busy = self.step()
            self.drain()
            if not busy:
                return

    def _claim(self, free: int) -> list[Claimed]:
        if free <= 0 or not deliveries.has_due(self.db):
            return []
        return deliveries.claim(self.db, self.name, free, self.config.lease)

    def drain(self) -> None:
        """Wait for the attempts in flight (tests and the standalone worker's shutdown)."""
        for future in list(self._inflight):
            future.result()
        self._inflight.clear()

    def _attempt_logged(self, job: Claimed) -> None:
        try:
            self.attempt(job)
        except Exception:
            # The lease runs out and the delivery is attempted again: nothing is lost.
            log.exception("webhook %s delivery %s: attempt failed", job.webhook_id, job.id)

    def attempt(self, job: Claimed) -> None:
        sealed = [job.secret_sealed, *filter(None, [job.previous_secret_sealed])]
        try:
            keys = [self.box.open(secret, str(job.webhook_id)) for secret in sealed]
        except SecretUnavailable as exc:
            outcome = Outcome(None, f"cannot sign: {exc}", 0)
        else:
            outcome = self.sender.send(job.url, keys, str(job.event_id), job.body)
        if outcome.error:
            log.info(
                "webhook %s delivery %s attempt %d failed: %s",
                job.webhook_id,
                job.id,
                job.attempt,
                outcome.error,
            )
        status = deliveries.finish(self.db, self.name, job, outcome, self.config.policy)
        self.metrics.attempts.labels("failed" if outcome.error else "delivered").inc()
        if status == DEAD:
            self.metrics.dead.inc()
