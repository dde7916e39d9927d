"""The inventory: every model matching a filter, with what the company needs to know about it
(domain/inventory.py lists the fields).

Built for ten thousand models and more: one query per aspect (tags, versions, owners, data,
inherited classifications, dependencies, consumers, completeness), each over every selected
model at once, joined to the model selection as a subquery (no per-model query, no id lists
that outgrow a database's bind-parameter limit), then assembled in Python.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from modelyard.db import fulltext
from modelyard.db.engine import Database
from modelyard.db.lineage import inheritance_pairs
from modelyard.db.search import MODELS, compile_filter
from modelyard.db.tables import (
    ConsumerRow,
    DataEdgeRow,
    DatasetClassificationRow,
    DatasetRow,
    IngredientsRow,
    MembershipRow,
    ModelRow,
    ModelTagRow,
    NamespaceRow,
    UserRow,
    VersionEdgeRow,
    VersionRow,
)
from modelyard.domain.filters import parse_filter
from modelyard.domain.ingredients import PARTS
from modelyard.domain.inventory import (
    Completeness,
    ConsumerUse,
    DatasetUse,
    Dependency,
    InventoryEntry,
)
from modelyard.domain.lifecycle import DEFAULT_STAGES

OWNER_ROLES = ("maintainer", "admin")
Readable = Callable[[str], bool]


def namespace_visibilities(db: Database) -> dict[str, str]:
    with db.read() as s:
        stmt = select(NamespaceRow.name, NamespaceRow.visibility)
        return dict(s.execute(stmt).all())


@dataclass
class _Aspects:
    """Everything known per model id while the inventory is being assembled."""

    tags: dict[uuid.UUID, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    versions: dict[uuid.UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))
    owners: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    data: dict[uuid.UUID, dict[tuple[str, str], DatasetUse]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    inherited: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=lambda: defaultdict(set))
    deps: dict[uuid.UUID, set[Dependency]] = field(default_factory=lambda: defaultdict(set))
    consumers: dict[uuid.UUID, list[ConsumerUse]] = field(default_factory=lambda: defaultdict(list))
    ingredients: dict[uuid.UUID, Any] = field(default_factory=dict)
    datasets: dict[uuid.UUID, Any] = field(default_factory=dict)
    labels: dict[uuid.UUID, list[str]] = field(default_factory=lambda: defaultdict(list))


def inventory(
    db: Database,
    filter: str | None = None,
    q: str | None = None,
    include_archived: bool = False,
    readable: Readable | None = None,
) -> list[InventoryEntry]:
    """Every model matching ``filter`` and free text ``q`` (as in search), ordered by
    namespace and name; ``readable`` leaves out namespaces the caller may not read."""
    selection = _selection(db.dialect, filter, q, include_archived)
    ordered = selection.order_by(ModelRow.namespace, ModelRow.name)
    with db.read() as s:
        models = [m for m in s.execute(ordered) if readable is None or readable(m.namespace)]
        if not models:
            return []
        ids = select(selection.subquery().c.id)
        found = _load(s, ids, include_archived)
    return [_entry(m, found) for m in models]


def _selection(dialect: str, filter: str | None, q: str | None, archived: bool) -> Select[Any]:
    stmt = select(ModelRow.__table__).where(compile_filter(parse_filter(filter or ""), MODELS))
    if not archived:
        stmt = stmt.where(ModelRow.archived_at.is_(None))
    if q and q.strip():
        stmt = stmt.where(ModelRow.id.in_(fulltext.matching_ids(dialect, "model", q)))
    return stmt


def _load(s: Session, ids: Select[Any], include_archived: bool) -> _Aspects:
    a = _Aspects()
    live = select(VersionRow.id).where(VersionRow.model_id.in_(ids))
    if not include_archived:
        live = live.where(VersionRow.archived_at.is_(None))
    for loader in (_tags, _versions, _owners, _datasets, _data, _inherited, _deps, _consumers):
        loader(s, a, ids, live)
    _ingredients(s, a, ids, live)
    return a


def _tags(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    stmt = select(ModelTagRow.model_id, ModelTagRow.key, ModelTagRow.value)
    for mid, key, value in s.execute(stmt.where(ModelTagRow.model_id.in_(ids))):
        a.tags[mid][key] = value


def _versions(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    v = VersionRow
    stmt = select(v.id, v.model_id, v.number, v.stage, v.archived_at).where(v.id.in_(live))
    for row in s.execute(stmt.order_by(v.model_id, v.number)):
        a.versions[row.model_id].append(row)


def _owners(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    namespaces = select(ModelRow.namespace_id).where(ModelRow.id.in_(ids))
    stmt = (
        select(NamespaceRow.name, UserRow.name)
        .join(MembershipRow, MembershipRow.namespace_id == NamespaceRow.id)
        .join(UserRow, UserRow.id == MembershipRow.user_id)
        .where(NamespaceRow.id.in_(namespaces), MembershipRow.role.in_(OWNER_ROLES))
        .order_by(UserRow.name)
    )
    for namespace, user in s.execute(stmt):
        a.owners[namespace].append(user)


def _datasets(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    """Every dataset with its classifications (a small table next to versions)."""
    for row in s.execute(select(DatasetRow.id, DatasetRow.namespace, DatasetRow.name,
                                DatasetRow.version, DatasetRow.status)):  # fmt: skip
        a.datasets[row.id] = row
    stmt = select(DatasetClassificationRow.dataset_id, DatasetClassificationRow.classification)
    for dataset_id, label in s.execute(stmt.order_by(DatasetClassificationRow.classification)):
        a.labels[dataset_id].append(label)


def _data(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    stmt = (
        select(VersionRow.model_id, DataEdgeRow.relation, DataEdgeRow.dataset_id, DataEdgeRow.uri)
        .join(VersionRow, VersionRow.id == DataEdgeRow.version_id)
        .where(DataEdgeRow.version_id.in_(live))
    )
    for mid, relation, dataset_id, uri in s.execute(stmt):
        d = a.datasets.get(dataset_id) if dataset_id is not None else None
        ref = f"{d.namespace}/{d.name}@{d.version}" if d is not None else uri
        status = d.status if d is not None else "unregistered"
        labels = tuple(a.labels.get(dataset_id, ())) if dataset_id is not None else ()
        a.data[mid][(ref, relation)] = DatasetUse(ref, relation, status, labels)


def _inherited(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    pairs = inheritance_pairs()
    stmt = (
        select(VersionRow.model_id, pairs.c.dataset_id)
        .join(VersionRow, VersionRow.id == pairs.c.vid)
        .where(pairs.c.vid.in_(live))
        .distinct()
    )
    for mid, dataset_id in s.execute(stmt):
        a.inherited[mid].add(dataset_id)


def _deps(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    up = aliased(VersionRow)
    stmt = (
        select(VersionRow.model_id, VersionEdgeRow.relation, up.namespace, up.model_name,
               up.number)
        .join(VersionRow, VersionRow.id == VersionEdgeRow.version_id)
        .join(up, up.id == VersionEdgeRow.upstream_id)
        .where(VersionEdgeRow.version_id.in_(live))
    )  # fmt: skip
    for mid, relation, namespace, name, number in s.execute(stmt):
        a.deps[mid].add(Dependency(relation, f"{namespace}/{name}@{number}"))


def _consumers(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    c = ConsumerRow
    stmt = select(c.model_id, c.name, c.kind, c.reference, c.last_seen_at)
    for row in s.execute(stmt.where(c.model_id.in_(ids)).order_by(c.name)):
        a.consumers[row.model_id].append(
            ConsumerUse(row.name, row.kind, row.reference, row.last_seen_at)
        )


def _ingredients(s: Session, a: _Aspects, ids: Select[Any], live: Select[Any]) -> None:
    i = IngredientsRow
    stmt = select(i.version_id, i.complete, i.missing).where(i.version_id.in_(live))
    for row in s.execute(stmt):
        a.ingredients[row.version_id] = row


def _entry(m: Any, a: _Aspects) -> InventoryEntry:
    versions = a.versions.get(m.id, [])
    stages: dict[str, list[int]] = {}
    for v in versions:
        stages.setdefault(v.stage, []).append(v.number)
    production = max(stages.get("production", []), default=None)
    latest = max((v.number for v in versions), default=None)
    inherited = [a.datasets[d] for d in a.inherited.get(m.id, ()) if d in a.datasets]
    labels = sorted({c for d in inherited for c in a.labels.get(d.id, ())})
    revoked = sorted(
        f"{d.namespace}/{d.name}@{d.version}" for d in inherited if d.status == "revoked"
    )
    return InventoryEntry(
        namespace=m.namespace,
        name=m.name,
        description=m.description,
        owners=tuple(dict.fromkeys([m.created_by, *a.owners.get(m.namespace, [])])),
        risk_level=m.risk_level,
        risk_reason=m.risk_reason,
        production_version=production,
        stages={s: stages[s] for s in _stage_order(stages)},
        latest_version=latest,
        datasets=tuple(sorted(a.data.get(m.id, {}).values(), key=lambda d: (d.role, d.reference))),
        classifications=tuple(labels),
        revoked_datasets=tuple(revoked),
        dependencies=tuple(sorted(a.deps.get(m.id, ()), key=lambda d: (d.relation, d.reference))),
        consumers=tuple(a.consumers.get(m.id, ())),
        completeness=_completeness(versions, production, latest, a),
        tags=dict(sorted(a.tags.get(m.id, {}).items())),
        archived=m.archived_at is not None,
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def _stage_order(stages: dict[str, list[int]]) -> list[str]:
    known = [s for s in DEFAULT_STAGES if s in stages]
    return known + sorted(s for s in stages if s not in DEFAULT_STAGES)


def _completeness(
    versions: list[Any], production: int | None, latest: int | None, a: _Aspects
) -> Completeness | None:
    current = production if production is not None else latest
    if current is None:
        return None
    vid = next(v.id for v in versions if v.number == current)
    row = a.ingredients.get(vid)
    if row is None:
        return Completeness(current, False, PARTS)
    missing = row.missing or {}
    return Completeness(current, bool(row.complete), tuple(p for p in PARTS if p in missing))
