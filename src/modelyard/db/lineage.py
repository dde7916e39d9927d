"""Lineage queries: inheritance of dataset classifications and revocations, walked in SQL.

A version inherits from the datasets it was ``trained_on`` and, transitively, from the versions
it is ``derived_from`` (domain/lineage.py says why only those two relations). Two walks:

    upward    INHERITED: for given versions, every (version, dataset) it inherits, with the
              dataset's status and classifications. One recursive CTE, prebuilt: it runs on
              every version read.
    downward  inheriting(datasets): the ids of every version that inherits from the datasets a
              subquery names. Filters (``classification = 'pii'``) and the inventory use it.

Both are ``WITH RECURSIVE … UNION`` (not UNION ALL): duplicates are dropped as the walk goes,
so diamonds cost nothing extra; the graph is acyclic (edges point at older versions) and the
walks end.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CTE, Join, Select, Table, and_, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from modelyard.db.tables import (
    DataEdgeRow,
    DatasetClassificationRow,
    DatasetRow,
    VersionEdgeRow,
    VersionRow,
)

LD = cast(Table, DataEdgeRow.__table__)
LV = cast(Table, VersionEdgeRow.__table__)
D = cast(Table, DatasetRow.__table__)
C = cast(Table, DatasetClassificationRow.__table__)
V = cast(Table, VersionRow.__table__)


def _upward() -> CTE:
    base = select(V.c.id.label("root"), V.c.id.label("vid")).where(
        V.c.id.in_(bindparam("ids", expanding=True))
    )
    up = base.cte("lineage_up", recursive=True)
    step = select(up.c.root, LV.c.upstream_id).join(
        LV, and_(LV.c.version_id == up.c.vid, LV.c.relation == "derived_from")
    )
    return up.union(step)


_UP = _upward()


class _OuterFirst(Join):
    """An inner join whose left side must drive the loop. On SQLite it is written ``CROSS JOIN``,
    the documented way to fix the order of a join there; elsewhere it is a plain ``JOIN``.

    Why: without statistics (a new store, never ``ANALYZE``d) SQLite's planner guesses that the
    materialised walk is the bigger side, scans the whole ``lineage_data`` table and probes the
    walk through an automatic index, on every version read; with ``CROSS JOIN`` it walks the few
    versions and searches ``lineage_data`` by its primary key (tests/db/test_lineage_plan.py)."""

    inherit_cache = True


@compiles(_OuterFirst, "sqlite")
def _cross_join(element: _OuterFirst, compiler: SQLCompiler, **kw: Any) -> str:
    sql: str = compiler.visit_join(element, **kw)  # type: ignore[no-untyped-call]
    left, join, rest = sql.partition(" JOIN ")
    if not join or " " in left:  # the left side is the walk's name: nothing else to rewrite
        raise AssertionError(f"unexpected join rendering: {sql[:80]}")
    return f"{left} CROSS JOIN {rest}"


# (root version id, dataset id, namespace, name, version, status, classification or NULL)
INHERITED = select(
    _UP.c.root,
    D.c.id.label("dataset_id"),
    D.c.namespace,
    D.c.name,
    D.c.version,
    D.c.status,
    C.c.classification,
).select_from(
    _OuterFirst(_UP, LD, and_(LD.c.version_id == _UP.c.vid, LD.c.relation == "trained_on"))
    .join(D, D.c.id == LD.c.dataset_id)
    .outerjoin(C, C.c.dataset_id == D.c.id)
)


def inheriting(datasets: Select[Any]) -> CTE:
    """Every version that inherits from the datasets ``datasets`` selects (one column of
    dataset ids): a CTE with one column, ``vid``."""
    base = select(LD.c.version_id.label("vid")).where(
        LD.c.relation == "trained_on", LD.c.dataset_id.in_(datasets)
    )
    down = base.cte(recursive=True)
    step = select(LV.c.version_id).join(
        down, and_(LV.c.upstream_id == down.c.vid, LV.c.relation == "derived_from")
    )
    return down.union(step)


def inheritance_pairs() -> CTE:
    """(vid, dataset_id) for every version and every dataset it inherits from: the whole
    relation, for the inventory (one query for all models)."""
    base = select(LD.c.version_id.label("vid"), LD.c.dataset_id).where(
        LD.c.relation == "trained_on", LD.c.dataset_id.is_not(None)
    )
    down = base.cte("inherits", recursive=True)
    step = select(LV.c.version_id, down.c.dataset_id).join(
        down, and_(LV.c.upstream_id == down.c.vid, LV.c.relation == "derived_from")
    )
    return down.union(step)


def classified(op: Any) -> Select[Any]:
    """Dataset ids whose classifications satisfy ``op(classification column)``."""
    return select(C.c.dataset_id).where(op(C.c.classification))


REVOKED = select(D.c.id).where(D.c.status == "revoked")
