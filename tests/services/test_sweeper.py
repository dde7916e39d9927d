"""Expired transition requests are closed in the background (services/sweeper.py), without
anybody looking at them, on SQLite and PostgreSQL; ``serve`` runs the sweeper."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, OutboxEventRow, TransitionRow
from modelyard.domain.policy_document import default_policy
from modelyard.services import transitions
from modelyard.services.sweeper import ExpirySweeper
from modelyard.settings import Settings
from tests.governance import MODEL, model, team, who
from tests.support import started

WAIT_SECONDS = 10.0


def pending_request(db: Database, expires_in: timedelta) -> int:
    team(db)
    model(db, risk="high")
    mia = who(db, "mia")
    t = transitions.request_transition(
        db, default_policy(), "mia", mia.user_id, f"{MODEL}@1", "production", "ship", expires_in
    )
    assert t.status == "pending"
    return t.id


def status_of(db: Database, transition_id: int) -> str:
    with db.read() as s:
        return str(s.scalar(select(TransitionRow.status).where(TransitionRow.id == transition_id)))


def wait_for_status(db: Database, transition_id: int, wanted: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while (status := status_of(db, transition_id)) != wanted and time.monotonic() < deadline:
        time.sleep(0.02)
    return status


def test_an_expired_request_is_closed_without_anybody_looking(db: Database) -> None:
    transition_id = pending_request(db, timedelta(milliseconds=1))
    sweeper = ExpirySweeper(db, interval=0.05)
    sweeper.start()
    try:
        assert wait_for_status(db, transition_id, "expired") == "expired"
    finally:
        sweeper.stop()
    with db.read() as s:
        audited = s.scalars(
            select(AuditEventRow.action).where(AuditEventRow.action == "transition.expired")
        )
        queued = s.scalars(
            select(OutboxEventRow.type).where(OutboxEventRow.type.like("transition.%"))
        )
        assert list(audited) == ["transition.expired"]
        assert "transition.expired" in list(queued)  # webhooks hear of it now, not on a read


def test_a_request_not_yet_due_stays_pending(db: Database) -> None:
    transition_id = pending_request(db, timedelta(days=1))
    sweeper = ExpirySweeper(db, interval=0.02)
    sweeper.start()
    time.sleep(0.2)  # several rounds
    sweeper.stop()
    assert status_of(db, transition_id) == "pending"


def test_serve_runs_the_sweeper_unless_turned_off(settings: Settings, db: Database) -> None:
    transition_id = pending_request(db, timedelta(milliseconds=1))
    off = create_app(settings.with_(transition_sweep_seconds=0.0), db)
    with started(off):
        assert not off.state.expiry_sweeper.is_running()
        time.sleep(0.2)
        assert status_of(db, transition_id) == "pending"
    on = create_app(settings.with_(transition_sweep_seconds=0.05), db)
    with started(on):
        assert on.state.expiry_sweeper.is_running()
        assert wait_for_status(db, transition_id, "expired") == "expired"
    assert not on.state.expiry_sweeper.is_running()
