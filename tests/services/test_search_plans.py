"""A page of models walks an index in the list's order instead of sorting every model that
passes the filter (SQLite keeps no planner statistics: the plan comes from the schema)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from modelyard.db.engine import Database
from modelyard.services import search


def _plans_of_model_search(db: Database, **kwargs: Any) -> list[list[str]]:
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "FROM models" in sql:
            statements.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        search.search_models(db, **kwargs)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    plans = []
    with db.read() as s:
        raw = s.connection().connection.driver_connection
        for sql, params in statements:
            rows = raw.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            plans.append([str(row[3]) for row in rows])
    assert plans, "search_models read no models"
    return plans


@pytest.mark.parametrize("order_by", [None, "namespace DESC, name DESC"])
def test_a_page_of_models_walks_the_list_order_index(db: Database, order_by: str | None) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's query plan")
    plan = _plans_of_model_search(db, order_by=order_by, page_size=10)[0]
    assert any("USING INDEX ix_models_namespace_name_id" in step for step in plan), plan
    assert not any("TEMP B-TREE" in step for step in plan), plan


def test_the_index_is_on_both_databases(db: Database) -> None:
    with db.read() as s:
        if db.dialect == "sqlite":
            names = s.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        else:
            names = s.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'models'"))
        assert "ix_models_namespace_name_id" in {row[0] for row in names}
