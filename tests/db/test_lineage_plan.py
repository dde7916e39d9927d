"""The walk up a version's lineage (db/lineage.py INHERITED) runs on every version read: on
SQLite it must search ``lineage_data`` by version, never scan it, even in a store that was
never ANALYZEd (a new one: SQLite's planner then guesses the table sizes)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from modelyard.db.engine import Database
from modelyard.db.lineage import INHERITED


def _plan(db: Database) -> list[str]:
    sql = INHERITED.params(ids=[uuid.uuid4(), uuid.uuid4()]).compile(
        db.engine, compile_kwargs={"literal_binds": True}
    )
    with db.read() as s:
        return [str(row[3]) for row in s.execute(text(f"EXPLAIN QUERY PLAN {sql}"))]


def test_inherited_searches_lineage_data_by_version_on_sqlite(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's planner: PostgreSQL keeps statistics of its own (autovacuum)")
    plan = _plan(db)
    assert any(step.startswith("SEARCH lineage_data USING") for step in plan), plan
    assert not any(step.startswith("SCAN lineage_data") for step in plan), plan
    assert not any("AUTOMATIC" in step for step in plan), plan


def test_inherited_plans_the_same_after_analyze(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's planner: PostgreSQL keeps statistics of its own (autovacuum)")
    with db.write() as s:
        s.execute(text("ANALYZE"))
    plan = _plan(db)
    assert not any(step.startswith("SCAN lineage_data") for step in plan), plan
