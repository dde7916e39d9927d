"""A real ``modelyard serve`` process, killed (SIGKILL) right after a burst of changes while its
worker is sending: after a restart every committed event reaches the receiver, none is lost,
and any event seen twice has the same webhook-id and body (at-least-once)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import OutboxEventRow
from modelyard.settings import Settings
from tests.api.test_blobs_crash import free_port, serve
from tests.webhook_support import Receiver

pytestmark = pytest.mark.slow
API = "/api/v1"

WEBHOOK_ENV = {
    "MODELYARD_WEBHOOKS_ALLOW_PRIVATE": "true",
    "MODELYARD_WEBHOOKS_POLL_SECONDS": "0.1",
    "MODELYARD_WEBHOOKS_TIMEOUT_SECONDS": "1",  # a lease of 13 s
    "MODELYARD_WEBHOOKS_RETRY_BASE_SECONDS": "0.1",
    "MODELYARD_WEBHOOKS_RETRY_MAX_SECONDS": "0.5",
    "MODELYARD_WEBHOOKS_MAX_ATTEMPTS": "1000",
}


def committed_ids(db: Database) -> set[str]:
    with db.read() as s:
        return {str(i) for i in s.scalars(select(OutboxEventRow.event_id))}


def test_events_committed_just_before_a_kill_are_delivered_after_restart(
    settings: Settings, db: Database, admin_token: str
) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    port = free_port()
    earlier = committed_ids(db)  # the admin's account: before the webhook, not for it
    # Slow, and refusing until the restart: at the kill, events wait in the outbox, in
    # delivery rows, and in attempts cut off mid-request.
    with Receiver(then=503, delay=0.2) as receiver:
        with (
            serve(settings, port, **WEBHOOK_ENV) as proc,
            httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth) as http,
        ):
            made = http.post(f"{API}/webhooks", json={"url": receiver.url})
            assert made.status_code == 201, made.text
            secret = made.json()["secret"]
            for n in range(10):
                answer = http.post(f"{API}/namespaces", json={"name": f"team-{n}"})
                assert answer.status_code == 201
                model = {"namespace": f"team-{n}", "name": "fraud"}
                assert http.post(f"{API}/models", json=model).status_code == 201
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        committed = committed_ids(db) - earlier
        assert len(committed) == 20
        assert receiver.delivered_ids() == set()
        receiver.then = 200
        with serve(settings, port, **WEBHOOK_ENV):
            receiver.wait_until(lambda _: receiver.delivered_ids() >= committed)

    assert receiver.delivered_ids() == committed
    bodies: dict[str, set[bytes]] = {}
    for request in receiver.requests:
        event = request.event(secret)  # every attempt validly signed
        assert event["id"] == request.event_id
        bodies.setdefault(request.event_id, set()).add(request.body)
    assert {event_id: len(b) for event_id, b in bodies.items()} == dict.fromkeys(committed, 1)


def test_the_standalone_worker_delivers_and_stops_on_sigterm(
    settings: Settings, db: Database
) -> None:
    from modelyard.services import namespaces
    from modelyard.services import webhooks as svc
    from modelyard.services.secretbox import SecretBox

    box = SecretBox(settings.resolved_webhooks_key_file)
    env = {
        **os.environ,
        **WEBHOOK_ENV,
        "MODELYARD_DATA_DIR": str(settings.data_dir),
        "MODELYARD_DATABASE_URL": settings.resolved_database_url,
    }
    with Receiver() as receiver:
        made = svc.create_webhook(db, box, "admin", svc.WebhookSpec(receiver.url, [], []))
        namespaces.create_namespace(db, "ann", "risk-team")
        proc = subprocess.Popen(
            [sys.executable, "-m", "modelyard", "webhooks", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            (request,) = receiver.wait_until(lambda got: len(got) >= 1)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr.decode()
    assert request.event(made.secret)["type"] == "namespace.created"
