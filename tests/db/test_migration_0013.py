"""Migration 0013 drops the outbox's unique index on event ids (each outbox row carries the id
of the audit event of its seq, unique there): rows survive it and its downgrade, and the index
is gone after it and back after the downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select

from modelyard.db import migrate
from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, OutboxEventRow
from modelyard.services import models, namespaces, versions
from tests.db.test_migrations import (
    _alembic,
    empty_url,  # noqa: F401  (the fixture: both databases)
)


def _outbox(db: Database) -> list[tuple[object, ...]]:
    with db.read() as s:
        rows = s.execute(
            select(OutboxEventRow.seq, OutboxEventRow.event_id, AuditEventRow.event_id)
            .join(AuditEventRow, AuditEventRow.seq == OutboxEventRow.seq)
            .order_by(OutboxEventRow.seq)
        )
        return [tuple(r) for r in rows]


def _event_id_indexed(db: Database) -> bool:
    inspector = inspect(db.engine)
    unique = inspector.get_unique_constraints("outbox_events")
    indexes = inspector.get_indexes("outbox_events")
    return any(c["column_names"] == ["event_id"] for c in [*unique, *indexes])


def test_outbox_rows_survive_the_upgrade_and_the_downgrade(empty_url: str) -> None:  # noqa: F811
    db = Database.from_url(empty_url)
    try:
        migrate.upgrade(db.engine, "0012")
        namespaces.create_namespace(db, "alice", "risk")
        models.create_model(db, "alice", "risk", "churn")
        before = _outbox(db)
        assert _event_id_indexed(db)

        migrate.upgrade(db.engine)
        assert _outbox(db) == before
        assert not _event_id_indexed(db)
        versions.create_version(db, "alice", "risk", "churn", "gradient boosting", {"team": "a"})
        after = _outbox(db)
        assert [r[0] for r in after] == [1, 2, 3]
        assert all(outbox_id == audit_id for _, outbox_id, audit_id in after)

        db.dispose()
        command.downgrade(_alembic(empty_url), "0012")
        assert _outbox(db) == after
        assert _event_id_indexed(db)
    finally:
        db.dispose()
