"""Webhook test support: a real HTTP receiver on 127.0.0.1, a Standard Webhooks verifier written
from the specification (not from Modelyard's signing code), and a worker to drive by hand.

The verifier follows https://www.standardwebhooks.com: the signed content is
``{webhook-id}.{webhook-timestamp}.{body}``, the key is the base64 after ``whsec_``, the header
holds space-separated ``v1,<base64 HMAC-SHA256>`` signatures, and a timestamp more than five
minutes from now is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import WebhookDeliveryRow
from modelyard.services.deliveries import RetryPolicy
from modelyard.services.secretbox import SecretBox
from modelyard.services.worker import DeliveryWorker, WorkerConfig

TOLERANCE_SECONDS = 5 * 60
WAIT_SECONDS = 60.0  # a guard against hanging, never a measurement


class SignatureInvalid(AssertionError):
    pass


def verify(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """The event, if ``headers`` carry a valid Standard Webhooks signature of ``body``."""
    message_id = headers["webhook-id"]
    stamp = headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
        raise SignatureInvalid(f"timestamp {stamp} is too far from now")
    if not secret.startswith("whsec_"):
        raise SignatureInvalid("the secret is not whsec_…")
    key = base64.b64decode(secret[len("whsec_") :])
    content = message_id.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            event: dict[str, Any] = json.loads(body)
            return event
    raise SignatureInvalid(f"no valid v1 signature in {headers['webhook-signature']!r}")


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def event_id(self) -> str:
        return self.headers["webhook-id"]

    def event(self, secret: str) -> dict[str, Any]:
        return verify(secret, self.headers, self.body)


class Receiver:
    """An HTTP server in a thread. ``answers``: status codes for the first requests, in order;
    after them it answers ``then`` (which a test may change). Every request is kept in
    ``requests``."""

    def __init__(
        self, answers: list[int] | None = None, then: int = 200, delay: float = 0.0
    ) -> None:
        self.answers = list(answers or [])
        self.then = then
        self.delay = delay  # seconds each answer takes (a slow endpoint)
        self.requests: list[Received] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver._record(self.path, headers, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._changed:
            status = self.answers.pop(0) if self.answers else self.then
            self.requests.append(Received(path, headers, body, status))
            self._changed.notify_all()
            return status

    def wait_until(self, done: Callable[[list[Received]], bool]) -> list[Received]:
        deadline = time.monotonic() + WAIT_SECONDS
        with self._changed:
            while not done(self.requests):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"gave up waiting; received {len(self.requests)}")
                self._changed.wait(left)
            return list(self.requests)

    def delivered_ids(self) -> set[str]:
        return {r.event_id for r in self.requests if 200 <= r.status < 300}

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def worker_config(**changes: Any) -> WorkerConfig:
    """Small numbers for tests: retries after 10 ms, private targets allowed."""
    policy = RetryPolicy(
        max_attempts=changes.pop("max_attempts", 5),
        base_seconds=changes.pop("base_seconds", 0.01),
        cap_seconds=changes.pop("cap_seconds", 0.05),
        disable_after_dead=changes.pop("disable_after_dead", 0),
    )
    values: dict[str, Any] = {
        "concurrency": 4,
        "poll_seconds": 0.05,
        "timeout_seconds": 5.0,
        "allow_private": True,
        "policy": policy,
    }
    values.update(changes)
    return WorkerConfig(**values)


@contextmanager
def running_worker(
    db: Database, box: SecretBox, registry: CollectorRegistry | None = None, **changes: Any
) -> Iterator[DeliveryWorker]:
    worker = DeliveryWorker(db, box, worker_config(**changes), registry)
    try:
        yield worker
    finally:
        worker.stop()


def settle(worker: DeliveryWorker, db: Database) -> None:
    """Run the worker until no delivery is pending (retries included)."""
    deadline = time.monotonic() + WAIT_SECONDS
    worker.run_once()
    while pending(db):
        if time.monotonic() > deadline:
            raise AssertionError(f"{pending(db)} deliveries still pending")
        time.sleep(0.005)
        worker.run_once()


def pending(db: Database) -> int:
    with db.read() as s:
        rows = s.scalars(
            select(WebhookDeliveryRow.id).where(WebhookDeliveryRow.status == "pending")
        )
        return len(list(rows))
