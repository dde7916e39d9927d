"""Acceptance (issue 5, item 5): a local receiver gets every event of a scripted session, each
with a valid Standard Webhooks signature, on SQLite and PostgreSQL.

The session runs through the SDK on the real app (in process); the delivery worker is driven by
the test. Every event the session committed to the outbox reaches the receiver, exactly once
here (the receiver always answers 200), signed with the webhook's secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from modelyard.api.app import create_app
from modelyard.client import Client
from modelyard.db.engine import Database
from modelyard.db.tables import OutboxEventRow
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings
from tests.support import sync_transport
from tests.webhook_support import Receiver, running_worker, settle

MODEL = "risk-team/fraud-detector"


@pytest.fixture
def client(settings: Settings, db: Database, admin_token: str) -> Iterator[Client]:
    app = create_app(settings.with_(webhooks_allow_private=True), db)
    with (
        sync_transport(app) as transport,
        Client("http://modelyard.test", token=admin_token, transport=transport) as c,
    ):
        yield c


def committed(db: Database) -> list[tuple[str, str]]:
    """(event id, type) of every outbox event, in commit order."""
    with db.read() as s:
        rows = s.execute(select(OutboxEventRow.event_id, OutboxEventRow.type).order_by("seq"))
        return [(str(event_id), type_) for event_id, type_ in rows]


def push(client: Client, tmp_path: Path, content: bytes) -> int:
    folder = tmp_path / f"model-{len(content)}"
    folder.mkdir()
    (folder / "model.bin").write_bytes(content)
    version = client.push(
        folder, MODEL, code=False, environment=False, cache_dir=tmp_path / "cache"
    )
    return version.version


def test_every_event_of_a_scripted_session_reaches_the_receiver_signed(
    client: Client, db: Database, settings: Settings, tmp_path: Path
) -> None:
    before = committed(db)  # the admin's account, made by the fixture
    with Receiver() as receiver:
        made = client.create_webhook(receiver.url, description="release pipeline")
        client.create_namespace("risk-team")
        client.create_model(MODEL, description="Card fraud")
        first = push(client, tmp_path, b"weights v1")
        second = push(client, tmp_path, b"weights v2, better")
        client.set_model_tag(MODEL, "team", "fraud")
        client.set_alias(MODEL, "champion", first)
        client.set_alias(MODEL, "champion", second)
        client.set_model_risk(MODEL, "high", "scores card payments")
        client.remove_model_tag(MODEL, "team")
        with running_worker(db, SecretBox(settings.resolved_webhooks_key_file)) as worker:
            settle(worker, db)

    session = committed(db)[len(before) :]
    assert [t for _, t in session] == [
        "namespace.created",
        "model.created",
        "version.created",
        "version.created",
        "tag.set",
        "alias.set",
        "alias.set",
        "risk.changed",
        "tag.removed",
    ]
    received = {r.event_id: r.event(made.secret) for r in receiver.requests}
    assert len(receiver.requests) == len(received) == len(session)
    assert {event_id: event["type"] for event_id, event in received.items()} == dict(session)
    assert {e["actor"] for e in received.values()} == {"admin"}
    risk = next(e for e in received.values() if e["type"] == "risk.changed")
    assert risk["target"] == MODEL
    assert risk["data"]["after"]["risk_level"] == "high"
