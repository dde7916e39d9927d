"""Migration 0010 rebuilds the audit and outbox tables (sequence numbers as rowids on SQLite),
the version tags (WITHOUT ROWID) and the SQLite free-text index (no per-document sizes), and
drops the outbox type index: what was written before it is all there after it, and after a
downgrade, and the chain, the tags and the free-text search still work either way."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from modelyard.db import migrate
from modelyard.db.engine import Database
from modelyard.db.tables import OutboxEventRow, VersionRow, VersionTagRow
from modelyard.services import audit, models, namespaces, search, versions
from tests.db.test_migrations import (
    _alembic,
    empty_url,  # noqa: F401  (the fixture: both databases)
)


def _state(db: Database) -> tuple[object, ...]:
    with db.read() as s:
        tags = s.execute(select(VersionTagRow.key, VersionTagRow.value)).all()
        outbox = s.execute(select(OutboxEventRow.seq, OutboxEventRow.type)).all()
    found = found_versions(db, "churn gradient")
    events = list(audit.iter_events(db, audit.AuditFilter()))
    return (
        sorted(tuple(t) for t in tags),
        [tuple(o) for o in outbox],
        found,
        [(e["seq"], e["action"], e["hash"]) for e in events],
    )


def found_versions(db: Database, q: str) -> list[tuple[str, int]]:
    """(model name, number) of the versions the free-text search finds for ``q``, newest
    first. The search reads the schema of the newest migration; below 0014, on SQLite, the
    FTS5 index is read directly (every document is in it there: migration 0014 says why)."""
    if db.dialect != "sqlite" or "search_fts_watermark" in _sqlite_objects(db):
        return [(v.name, v.version) for v in search.search_versions(db, q=q, page_size=100).items]
    match = " AND ".join(f'"{w}"*' for w in q.split())
    sql = ("SELECT v.model_name, v.number FROM versions v"
           " JOIN search_documents d ON d.entity_id = v.id"
           " WHERE d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH :m)"
           " ORDER BY v.created_at DESC")  # fmt: skip
    with db.read() as s:
        rows = s.execute(text(sql), {"m": match})
        return [(str(r[0]), int(r[1])) for r in rows]


def _sqlite_objects(db: Database) -> set[str]:
    with db.read() as s:
        return set(s.scalars(text("SELECT name FROM sqlite_master")))


def _key_indexes(db: Database, table: str) -> int:
    """How many indexes SQLite keeps for ``table``'s primary key (none when it is the rowid)."""
    with db.read() as s:
        sql = "SELECT count(*) FROM pragma_index_list(:t) WHERE origin = 'pk'"
        return int(s.scalar(text(sql), {"t": table}) or 0)


def _one_version_per_exclusive_stage(db: Database) -> None:
    """The partial unique index holds what the constraint held (and the error names the
    column, which services/stages.py turns into TRANSITION_CONFLICT)."""
    with db.write() as s:
        s.execute(update(VersionRow).where(VersionRow.number == 1).values(
            stage="production", exclusive_stage="production"))  # fmt: skip
    with pytest.raises(IntegrityError, match="exclusive_stage"), db.write() as s:
        s.execute(update(VersionRow).where(VersionRow.number == 2).values(
            stage="production", exclusive_stage="production"))  # fmt: skip
    with db.write() as s:
        s.execute(update(VersionRow).values(stage="development", exclusive_stage=None))


def test_rows_survive_the_upgrade_and_the_downgrade(empty_url: str) -> None:  # noqa: F811
    db = Database.from_url(empty_url)
    try:
        migrate.upgrade(db.engine, "0009")
        namespaces.create_namespace(db, "alice", "risk")
        models.create_model(db, "alice", "risk", "churn")
        versions.create_version(db, "alice", "risk", "churn", "gradient boosting", {"team": "a"})
        versions.create_version(db, "alice", "risk", "churn", "linear", {"team": "b", "x": "y"})
        before = _state(db)
        assert before[2] == [("churn", 1)]

        migrate.upgrade(db.engine)
        assert _state(db) == before
        assert audit.verify(db).ok
        versions.create_version(db, "alice", "risk", "churn", "gradient again", {"team": "c"})
        after = _state(db)
        assert after[2] == [("churn", 3), ("churn", 1)]
        assert [e[0] for e in after[3]] == [1, 2, 3, 4, 5]
        if db.dialect == "sqlite":
            names = _sqlite_objects(db)
            assert _key_indexes(db, "audit_events") == 0  # seq is the rowid
            assert _key_indexes(db, "outbox_events") == 0
            assert "search_fts_docsize" not in names
            assert "ix_outbox_events_type" not in names
            with db.read() as s:
                plan = s.execute(text("EXPLAIN QUERY PLAN SELECT id FROM versions"
                                      " WHERE manifest_digest = 'sha256:x'")).all()  # fmt: skip
            assert "ix_versions_manifest_digest" in str(plan)  # the partial index serves it

        _one_version_per_exclusive_stage(db)

        db.dispose()
        command.downgrade(_alembic(empty_url), "0009")
        assert _state(db) == after
        assert audit.verify(db).ok
        if db.dialect == "sqlite":
            assert {"search_fts_docsize", "ix_outbox_events_type"} <= _sqlite_objects(db)
            assert _key_indexes(db, "audit_events") == 1
        _one_version_per_exclusive_stage(db)
    finally:
        db.dispose()
