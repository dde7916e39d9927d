"""Metrics per version (name, value, dataset, split), and their comparison across versions.

Every metric is a row of ``version_metrics``; the version's ``metrics`` JSON column keeps the
dict view (the rows with neither dataset nor split) so reads of a version need no extra query.
Both are written in the transaction that creates or updates the version.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import MetricRow, VersionRow
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.metrics import MetricValue, VersionMetrics
from modelyard.domain.names import check_tag
from modelyard.services.lookup import model_row, version_row

MAX_COMPARED_NAMES = 50


def write(s: Session, version_id: uuid.UUID, values: Sequence[MetricValue]) -> None:
    """Insert or replace these metrics of a version (others stay)."""
    if not values:
        return
    keys = [(m.name, m.dataset, m.split) for m in values]
    s.execute(
        delete(MetricRow).where(
            MetricRow.version_id == version_id,
            tuple_(MetricRow.name, MetricRow.dataset, MetricRow.split).in_(keys),
        )
    )
    s.execute(
        insert(MetricRow),
        [
            {"version_id": version_id, "name": m.name, "dataset": m.dataset, "split": m.split,
             "value": m.value}
            for m in values
        ],
    )  # fmt: skip


def version_metrics(db: Database, namespace: str, name: str, number: int) -> list[MetricValue]:
    with db.read() as s:
        version = version_row(s, model_row(s, namespace, name), number)
        return of_version(s, version.id)


def of_version(s: Session, version_id: uuid.UUID) -> list[MetricValue]:
    return _of(s, [version_id]).get(version_id, [])


def compare(
    db: Database,
    namespace: str,
    name: str,
    names: Sequence[str] | None = None,
    include_archived: bool = False,
) -> list[VersionMetrics]:
    """Each version of the model (oldest first) with its metrics, only ``names`` if given."""
    wanted = _check_names(names)
    with db.read() as s:
        model = model_row(s, namespace, name)
        stmt = select(VersionRow).where(VersionRow.model_id == model.id)
        if not include_archived:
            stmt = stmt.where(VersionRow.archived_at.is_(None))
        versions = list(s.scalars(stmt.order_by(VersionRow.number)))
        found = _of(s, [v.id for v in versions], wanted)
        return [
            VersionMetrics(v.number, v.stage, v.archived_at is not None, v.created_at,
                           found.get(v.id, []))
            for v in versions
        ]  # fmt: skip


def _check_names(names: Sequence[str] | None) -> list[str] | None:
    if not names:
        return None
    if len(names) > MAX_COMPARED_NAMES:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"compare at most {MAX_COMPARED_NAMES} metric names at once"
        )
    for n in names:
        check_tag(n, "")
    return list(names)


def _of(
    s: Session, ids: list[uuid.UUID], names: list[str] | None = None
) -> dict[uuid.UUID, list[MetricValue]]:
    found: dict[uuid.UUID, list[MetricValue]] = defaultdict(list)
    if not ids:
        return found
    stmt = select(MetricRow).where(MetricRow.version_id.in_(ids))
    if names is not None:
        stmt = stmt.where(MetricRow.name.in_(names))
    order = (MetricRow.name, MetricRow.dataset, MetricRow.split)
    for r in s.scalars(stmt.order_by(*order)):
        found[r.version_id].append(MetricValue(r.name, r.value, r.dataset, r.split))
    return found
