"""Version records are read with one query per page (tags, aliases and whether the version has
upstream links are columns of the same rows); the inheritance walk runs only for versions that
have upstream links. SQLite and PostgreSQL (JSON aggregates differ: json_group_object and
json_agg)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from sqlalchemy import event

from modelyard.db.engine import Database
from modelyard.db.prepared import Prepared
from modelyard.domain.lineage import Upstream
from modelyard.services import references, search, versions
from tests import factories as make


@contextmanager
def selects(db: Database) -> Iterator[list[str]]:
    """The SELECTs run meanwhile, through SQLAlchemy or as ``Prepared`` statements (which
    SQLAlchemy's cursor events do not see)."""
    seen: list[str] = []

    def log(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(sql)

    prepared = Prepared._execute

    def logged(self: Prepared, session: Any, params: Any, many: bool) -> Any:
        plan, cursor = prepared(self, session, params, many)
        log(None, cursor, plan.sql)
        return plan, cursor

    event.listen(db.engine, "before_cursor_execute", log)
    try:
        with patch.object(Prepared, "_execute", logged):
            yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", log)


def test_a_version_is_resolved_with_its_tags_and_aliases_in_one_query(db: Database) -> None:
    m = make.model(db, "team/fraud")
    make.version(db, m, tags={"team": "risk", "owner": "ann"})
    make.alias(db, m, "zeta", 1)
    make.alias(db, m, "champion", 1)
    with selects(db) as seen:
        v = references.resolve(db, "team/fraud@champion")
    assert len(seen) == 1
    assert v.tags == {"owner": "ann", "team": "risk"}
    assert list(v.tags) == ["owner", "team"]
    assert v.aliases == ["champion", "zeta"]


def test_a_version_without_tags_or_aliases_has_empty_ones(db: Database) -> None:
    m = make.model(db, "team/bare")
    make.version(db, m)
    v = versions.get_version(db, "team", "bare", 1)
    assert (v.tags, v.aliases, v.classifications) == ({}, [], [])


def test_a_page_of_versions_is_one_query(db: Database) -> None:
    m = make.model(db, "team/many")
    for i in range(5):
        make.version(db, m, tags={"i": str(i)})
    make.alias(db, m, "best", 3)
    with selects(db) as seen:
        page = search.search_versions(db, "name = 'many'", order_by="version")
    assert len(seen) == 1
    assert [(v.version, v.tags, v.aliases) for v in page.items] == [
        (1, {"i": "0"}, []),
        (2, {"i": "1"}, []),
        (3, {"i": "2"}, ["best"]),
        (4, {"i": "3"}, []),
        (5, {"i": "4"}, []),
    ]


def test_the_inheritance_walk_runs_only_for_versions_with_upstream_links(db: Database) -> None:
    base = make.model(db, "team/base")
    make.version(db, base)
    small = make.model(db, "team/small")
    versions.create_version(
        db, "t", "team", "small", upstream=Upstream(derived_from=("team/base@1",), depends_on=())
    )
    with selects(db) as plain:
        references.resolve(db, "team/base@1")
    with selects(db) as derived:
        references.resolve(db, f"{small.namespace}/{small.name}@1")
    assert len(plain) == 1
    assert len(derived) == 2
    assert "lineage_up" in derived[1]
