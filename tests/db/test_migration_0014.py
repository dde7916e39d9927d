"""Migration 0014 takes new documents out of the SQLite free-text index's triggers (a
background thread indexes them: db/fts_indexer.py): what was indexed stays indexed, search
finds what was written before, after and between, and the downgrade indexes what is pending
and makes the trigger that indexed every new document again. PostgreSQL is left as it was."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from modelyard.db import migrate
from modelyard.db.engine import Database
from modelyard.services import models, namespaces, versions
from tests.db.test_migration_0010 import found_versions
from tests.db.test_migrations import (
    _alembic,
    empty_url,  # noqa: F401  (the fixture: both databases)
)


def _found(db: Database, q: str) -> list[str]:
    return sorted(f"risk/{name}@{number}" for name, number in found_versions(db, q))


def _sqlite_names(db: Database) -> set[str]:
    with db.read() as s:
        return set(s.scalars(text("SELECT name FROM sqlite_master")))


def _watermark(db: Database) -> tuple[int, int]:
    """(indexed_up_to, the highest document id)."""
    with db.read() as s:
        row = s.execute(text("SELECT (SELECT indexed_up_to FROM search_fts_watermark),"
                             " (SELECT max(id) FROM search_documents)")).one()  # fmt: skip
        return int(row[0]), int(row[1])


def _all_indexed(db: Database) -> None:
    """FTS5 compares its index with every row of search_documents (``rank`` 1)."""
    with db.write() as s:
        s.execute(text("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)"))


def test_documents_stay_searchable_through_the_upgrade_and_the_downgrade(
    empty_url: str,  # noqa: F811
) -> None:
    db = Database.from_url(empty_url)
    try:
        migrate.upgrade(db.engine, "0013")
        namespaces.create_namespace(db, "alice", "risk")
        models.create_model(db, "alice", "risk", "churn")
        versions.create_version(db, "alice", "risk", "churn", "gradient boosting", {"team": "a"})

        migrate.upgrade(db.engine)
        sqlite = db.dialect == "sqlite"
        if sqlite:
            names = _sqlite_names(db)
            assert "search_fts_ai" not in names
            assert {"search_fts_ad", "search_fts_au", "search_fts_watermark"} <= names
            assert _watermark(db) == (2, 2)  # what was there is indexed
            _all_indexed(db)
        assert _found(db, "gradient") == ["risk/churn@1"]
        versions.create_version(db, "alice", "risk", "churn", "gradient descent", {"team": "b"})
        if sqlite:
            assert _watermark(db) == (2, 3)  # the new document waits for the indexer
        assert _found(db, "gradient") == ["risk/churn@1", "risk/churn@2"]

        db.dispose()
        command.downgrade(_alembic(empty_url), "0013")
        if sqlite:
            names = _sqlite_names(db)
            assert "search_fts_watermark" not in names
            assert {"search_fts_ai", "search_fts_ad", "search_fts_au"} <= names
            _all_indexed(db)  # the pending document was indexed on the way down
        assert _found(db, "gradient") == ["risk/churn@1", "risk/churn@2"]
        assert _found(db, "descent") == ["risk/churn@2"]
    finally:
        db.dispose()
