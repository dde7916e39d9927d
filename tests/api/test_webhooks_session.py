"""Acceptance (issue 5, item 5): a local receiver gets every event of a scripted session, each
with a valid Standard Webhooks signature, on SQLite and PostgreSQL.

The session (create, push, tag, alias, risk change, comment, request, approve, apply, reject,
rollback, a denied request) runs through the SDK on the real app in process, as the admin
(requester) and tina (a technical reviewer); the delivery worker is driven by the test. Every
event the session committed to the outbox reaches the receiver exactly once here (it always
answers 200), signed with the webhook's secret; the denied request is audit-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from modelyard.api.app import create_app
from modelyard.client import Client, ForbiddenError
from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, OutboxEventRow
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings
from tests import identity as make
from tests.support import sync_transport
from tests.webhook_support import Receiver, running_worker, settle

MODEL = "risk-team/fraud-detector"
URL = "http://modelyard.test"
# Production needs one technical approval at high risk and no checks: the session pushes bare
# files (no card, no ingredients), and what it tests is the events, not the checks.
POLICY = """\
format: 1
stages:
  development: {}
  staging: {}
  production: {exclusive: true, previous_holder_to: archived}
  archived: {}
transitions:
  development: [staging, production, archived]
  staging: [development, production, archived]
  production: [staging, archived]
  archived: [development, staging, production]
requirements:
  production:
    risk:
      high:
        approvals: {technical: 1}
"""


@pytest.fixture
def app(settings: Settings, db: Database, tmp_path: Path):  # type: ignore[no-untyped-def]
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    changed = settings.with_(webhooks_allow_private=True, policy_file=str(policy))
    return create_app(changed, db)


@pytest.fixture
def clients(app, db: Database, admin_token: str) -> Iterator[tuple[Client, Client]]:  # type: ignore[no-untyped-def]
    """The admin and tina, a technical reviewer in risk-team (made by the session)."""
    make.user(db, "tina")
    with sync_transport(app) as transport:
        admin = Client(URL, token=admin_token, transport=transport)
        tina = Client(URL, token=make.token(db, "tina"), transport=transport)
        yield admin, tina
        admin.close()
        tina.close()


def committed(db: Database) -> list[tuple[str, str]]:
    """(event id, type) of every outbox event, in commit order."""
    with db.read() as s:
        rows = s.execute(select(OutboxEventRow.event_id, OutboxEventRow.type).order_by("seq"))
        return [(str(event_id), type_) for event_id, type_ in rows]


def push(client: Client, tmp_path: Path, content: bytes) -> int:
    folder = tmp_path / f"model-{len(content)}"
    folder.mkdir()
    (folder / "model.bin").write_bytes(content)
    version = client.push(folder, MODEL, code=False, environment=False, cache_dir=tmp_path / "c")
    return version.version


def session(admin: Client, tina: Client, tmp_path: Path) -> None:
    admin.create_namespace("risk-team")
    admin.set_member("risk-team", "tina", "viewer")
    admin.grant_capacity("risk-team", "tina", "technical")
    admin.create_model(MODEL, description="Card fraud")
    first = push(admin, tmp_path, b"weights v1")
    second = push(admin, tmp_path, b"weights v2, better")
    admin.set_model_tag(MODEL, "team", "fraud")
    admin.set_alias(MODEL, "champion", first)
    admin.set_model_risk(MODEL, "high", "scores card payments")
    admin.add_comment(f"{MODEL}@{first}", "backtest attached")
    one = admin.request_transition(f"{MODEL}@{first}", "production", "first release")
    assert tina.approve(one.id, "reviewed").status == "applied"
    two = admin.request_transition(f"{MODEL}@{second}", "production", "retrain")
    assert tina.reject(two.id, "drift report missing").status == "rejected"
    three = admin.request_transition(f"{MODEL}@{second}", "production", "retrain, with report")
    assert tina.approve(three.id, "reviewed").status == "applied"
    admin.rollback(MODEL, "false positives doubled")
    admin.set_model_risk(MODEL, "medium", "limits lowered")
    with pytest.raises(ForbiddenError):  # denied: recorded in the audit trail, not an event
        tina.set_alias(MODEL, "champion", second)


def test_every_event_of_a_scripted_session_reaches_the_receiver_signed(
    clients: tuple[Client, Client], db: Database, settings: Settings, tmp_path: Path
) -> None:
    admin, tina = clients
    before = committed(db)  # the admin's and tina's accounts: before the webhook
    with Receiver() as receiver:
        made = admin.create_webhook(receiver.url, description="release pipeline")
        session(admin, tina, tmp_path)
        with running_worker(db, SecretBox(settings.resolved_webhooks_key_file)) as worker:
            settle(worker, db)

    events = committed(db)[len(before) :]
    assert [t for _, t in events] == [
        "namespace.created",
        "member.set",
        "capacity.granted",
        "model.created",
        "version.created",
        "version.created",
        "tag.set",
        "alias.set",
        "risk.changed",
        "comment.added",
        "transition.requested",
        "transition.approved",
        "transition.applied",
        "transition.requested",
        "transition.rejected",
        "transition.requested",
        "transition.approved",
        "transition.applied",
        "version.rolled_back",
        "risk.changed",
    ]
    received = {r.event_id: r.event(made.secret) for r in receiver.requests}
    assert len(receiver.requests) == len(received) == len(events)
    assert {event_id: event["type"] for event_id, event in received.items()} == dict(events)
    assert {e["actor"] for e in received.values()} == {"admin", "tina"}
    rolled = next(e for e in received.values() if e["type"] == "version.rolled_back")
    assert (rolled["target"], rolled["namespace"]) == (f"{MODEL}@1", "risk-team")
    with db.read() as s:
        denied = s.scalars(select(AuditEventRow).where(AuditEventRow.action == "access.denied"))
        assert [(d.actor, d.target) for d in denied] == [("tina", MODEL)]
