"""The inventory: every model matching a filter, with what the company needs to know about it
(domain/inventory.py lists the fields).

Built for ten thousand models and more: one query per aspect (tags, versions, owners, data,
inherited classifications, dependencies, consumers, completeness), each over every selected
model at once, joined to the model selection as a subquery (no per-model query, no id lists
that outgrow a database's bind-parameter limit), then assembled in Python.
"""

from __future__ import annotations

import typing
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, String, Table, and_, cast, select, true

from modelyard.db import fulltext
from modelyard.db.engine import Database
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
from modelyard.db.visibility import readable_clause
from modelyard.domain.access import Readable
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
M = typing.cast(Table, ModelRow.__table__)
V = typing.cast(Table, VersionRow.__table__)
ING = typing.cast(Table, IngredientsRow.__table__)
MT = typing.cast(Table, ModelTagRow.__table__)
LD = typing.cast(Table, DataEdgeRow.__table__)
LV = typing.cast(Table, VersionEdgeRow.__table__)


def namespace_visibilities(db: Database) -> dict[str, str]:
    with db.read() as s:
        stmt = select(NamespaceRow.name, NamespaceRow.visibility)
        return dict(s.execute(stmt).all())


@dataclass
class _Aspects:
    """Everything known per model id while the inventory is being assembled."""

    tags: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))
    versions: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    owners: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    data: dict[str, dict[tuple[str, str], DatasetUse]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    inherited: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    deps: dict[str, set[Dependency]] = field(default_factory=lambda: defaultdict(set))
    consumers: dict[str, list[ConsumerUse]] = field(default_factory=lambda: defaultdict(list))
    # dataset key -> (namespace/name@version, status, classifications)
    datasets: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)


def inventory(
    db: Database,
    filter: str | None = None,
    q: str | None = None,
    include_archived: bool = False,
    readable: Readable | None = None,
) -> list[InventoryEntry]:
    """Every model matching ``filter`` and free text ``q`` (as in search), ordered by
    namespace and name; ``readable`` (the caller's rights) leaves out what they may not read."""
    selected = _condition(db.dialect, filter, q, include_archived)
    limited = readable is not None and not readable.everything
    if readable is not None:
        selected = and_(selected, readable_clause(readable, M.c.namespace, M.c.name))
    with db.read() as s:
        conn = s.connection()  # Core rows: no ORM result machinery per row
        models = list(conn.execute(_models(selected)).all())
        if not models:
            return []
        found = _Aspects()
        _datasets(conn, found)
        filtered = bool(filter or q or limited)
        for scope in _scopes(models, filtered=filtered, archived=include_archived):
            for loader in _LOADERS:
                loader(conn, found, scope)
    return [_entry(m, found) for m in models]


BATCH = 5000


def _scopes(models: list[Any], filtered: bool, archived: bool) -> list[_Scope]:
    """Without a filter, the aspect queries select by ``archived_at`` alone. With one, by id,
    in batches: a filter's subqueries (EXISTS over versions, lineage, packages) would
    correlate with the aspect queries' own tables if repeated there."""
    if not filtered:
        everything = true() if archived else M.c.archived_at.is_(None)
        return [_Scope(everything, archived)]
    ids = [m.id for m in models]
    return [_Scope(M.c.id.in_(ids[i : i + BATCH]), archived) for i in range(0, len(ids), BATCH)]


@dataclass(frozen=True)
class _Scope:
    """Some of the selected models (a condition on the models table), and whether archived
    versions count. Every aspect query joins to the models table and applies it."""

    models: ColumnElement[bool]
    include_archived: bool

    def of_models(self, stmt: Select[Any], model_id: Any) -> Select[Any]:
        return stmt.join(M, M.c.id == model_id).where(self.models)

    def of_versions(self, stmt: Select[Any], version_id: Any) -> Select[Any]:
        stmt = self.of_models(stmt.join(V, V.c.id == version_id), V.c.model_id)
        return stmt if self.include_archived else stmt.where(V.c.archived_at.is_(None))


def _condition(
    dialect: str, filter: str | None, q: str | None, archived: bool
) -> ColumnElement[bool]:
    parts = [compile_filter(parse_filter(filter or ""), MODELS)]
    if not archived:
        parts.append(M.c.archived_at.is_(None))
    if q and q.strip():
        parts.append(M.c.id.in_(fulltext.matching_ids(dialect, "model", q)))
    return and_(*parts)


def _models(selected: ColumnElement[bool]) -> Select[Any]:
    m = M.c
    archived = m.archived_at.is_not(None).label("archived")
    columns = (m.namespace, m.name, m.description, m.risk_level, m.risk_reason, archived,
               m.created_by, m.created_at, m.updated_at)  # fmt: skip
    stmt = select(_key(m.id), m.id, *columns).where(selected)
    return stmt.order_by(m.namespace, m.name)


def _key(column: Any, label: str = "key") -> Any:
    """An id as text: ids only join rows up in Python here, and building a UUID object per
    row costs more than the rest of the row (tens of thousands of rows per export)."""
    return cast(column, String).label(label)


def _tags(conn: Connection, a: _Aspects, scope: _Scope) -> None:
    stmt = scope.of_models(select(_key(MT.c.model_id), MT.c.key, MT.c.value), MT.c.model_id)
    for mid, key, value in conn.execute(stmt).all():
        a.tags[mid][key] = value


def _versions(conn: Connection, a: _Aspects, scope: _Scope) -> None:
    """Versions with their completeness flags (outer join: some have no ingredients)."""
    stmt: Select[Any] = select(
        _key(V.c.model_id, "mid"), V.c.number, V.c.stage, ING.c.complete,
        ING.c.has_code, ING.c.has_environment, ING.c.has_config, ING.c.has_data,
    ).outerjoin(ING, ING.c.version_id == V.c.id)  # fmt: skip
    stmt = scope.of_models(stmt, V.c.model_id)
    if not scope.include_archived:
        stmt = stmt.where(V.c.archived_at.is_(None))
    for mid, *rest in conn.execute(stmt).all():
        a.versions[mid].append(tuple(rest))  # (number, stage, complete, has_code, …)


def _owners(conn: Connection, a: _Aspects, scope: _Scope) -> None:
    namespaces = select(M.c.namespace_id).where(scope.models)
    stmt = (
        select(NamespaceRow.name, UserRow.name)
        .join(MembershipRow, MembershipRow.namespace_id == NamespaceRow.id)
        .join(UserRow, UserRow.id == MembershipRow.user_id)
        .where(NamespaceRow.id.in_(namespaces), MembershipRow.role.in_(OWNER_ROLES))
        .order_by(UserRow.name)
    )
    for namespace, user in conn.execute(stmt).all():
        if user not in a.owners[namespace]:  # a namespace may span batches
            a.owners[namespace].append(user)


def _datasets(conn: Connection, a: _Aspects) -> None:
    """Every dataset with its classifications (a small table next to versions)."""
    d, c = DatasetRow.__table__.c, DatasetClassificationRow.__table__.c
    labels: dict[str, list[str]] = defaultdict(list)
    stmt = select(_key(c.dataset_id), c.classification).order_by(c.classification)
    for dataset_id, label in conn.execute(stmt).all():
        labels[dataset_id].append(label)
    stmt = select(_key(d.id), d.namespace, d.name, d.version, d.status)
    for key, ns, name, version, status in conn.execute(stmt).all():
        a.datasets[key] = (f"{ns}/{name}@{version}", status, tuple(labels.get(key, ())))


def _data(conn: Connection, a: _Aspects, scope: _Scope) -> None:
    """Data each model's versions were trained and evaluated on; what they were trained on
    is also what they inherit from (the ancestors' part is ``_ancestry``'s)."""
    stmt = select(_key(V.c.model_id), LD.c.relation, _key(LD.c.dataset_id, "dataset"), LD.c.uri)
    unregistered: tuple[str, str, tuple[str, ...]] = ("", "unregistered", ())
    rows = conn.execute(scope.of_versions(stmt, LD.c.version_id)).all()
    for mid, relation, dataset_id, uri in rows:
        found = a.datasets.get(dataset_id, unregistered) if dataset_id else unregistered
        ref, status, labels = found
        a.data[mid][(ref or uri, relation)] = _use(ref or uri, relation, status, labels)
        if dataset_id and relation == "trained_on":
            a.inherited[mid].add(dataset_id)


@lru_cache(maxsize=65536)
def _use(ref: str, relation: str, status: str, labels: tuple[str, ...]) -> DatasetUse:
    """One record per distinct use: many models share a dataset (and the JSON rendering
    caches by record)."""
    return DatasetUse(ref, relation, status, labels)


def _ancestry(conn: Connection, a: _Aspects, scope: _Scope) -> None:
    """Datasets the ancestors (through derived_from, any depth) were trained on. The walk
    starts from the few versions that derive from another, not from every version."""
    base = select(LV.c.version_id.label("vid"), LV.c.upstream_id.label("anc")).where(
        LV.c.relation == "derived_from"
    )
    up = base.cte("ancestors", recursive=True)
    up = up.union(
        select(up.c.vid, LV.c.upstream_id).join(
            LV, and_(LV.c.version_id == up.c.anc, LV.c.relation == "derived_from")
        )
    )
    stmt = (
        select(_key(V.c.model_id), _key(LD.c.dataset_id, "dataset"))
        .select_from(up)
        .join(LD, and_(LD.c.version_id == up.c.anc, LD.c.relation == "trained_on"))
    )
    for mid, dataset_id in conn.execute(scope.of_versions(stmt, up.c.vid).distinct()).all():
        if dataset_id:
            a.inherited[mid].add(dataset_id)


def _deps(conn: Connection, a: _Aspects, scope: _Scope) -> None:
    up = V.alias("upstream")
    stmt = select(
        _key(V.c.model_id), LV.c.relation, up.c.namespace, up.c.model_name, up.c.number
    ).join(up, up.c.id == LV.c.upstream_id)
    for mid, relation, namespace, name, number in conn.execute(
        scope.of_versions(stmt, LV.c.version_id)
    ).all():
        a.deps[mid].add(Dependency(relation, f"{namespace}/{name}@{number}"))


def _consumers(conn: Connection, a: _Aspects, scope: _Scope) -> None:
    c = ConsumerRow.__table__.c
    stmt = select(_key(c.model_id), c.name, c.kind, c.reference, c.last_seen_at)
    for mid, name, kind, reference, seen in conn.execute(
        scope.of_models(stmt, c.model_id).order_by(c.name)
    ).all():
        a.consumers[mid].append(ConsumerUse(name, kind, reference, seen))


_LOADERS = (_tags, _versions, _owners, _data, _ancestry, _deps, _consumers)


def _entry(m: Any, a: _Aspects) -> InventoryEntry:
    key = m.key
    stages: dict[str, list[int]] = {}
    by_number: dict[int, tuple[Any, ...]] = {}
    for v in a.versions.get(key, ()):
        stages.setdefault(v[1], []).append(v[0])
        by_number[v[0]] = v
    production = max(stages["production"]) if "production" in stages else None
    latest = max(by_number) if by_number else None
    current = production if production is not None else latest
    labels, revoked = _inherited(a, key)
    return InventoryEntry(
        namespace=m.namespace,
        name=m.name,
        description=m.description,
        owners=_owners_of(m.created_by, tuple(a.owners.get(m.namespace, ()))),
        risk_level=m.risk_level,
        risk_reason=m.risk_reason,
        production_version=production,
        stages={s: _sorted(stages[s]) for s in _stage_order(tuple(stages))},
        latest_version=latest,
        datasets=tuple(sorted(a.data[key].values(), key=_by_role)) if key in a.data else (),
        classifications=labels,
        revoked_datasets=revoked,
        dependencies=tuple(sorted(a.deps[key], key=_by_relation)) if key in a.deps else (),
        consumers=tuple(a.consumers.get(key, ())),
        completeness=None if current is None else _completeness(current, by_number[current]),
        tags=dict(sorted(a.tags[key].items())) if key in a.tags else {},
        archived=bool(m.archived),
        created_by=m.created_by,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )


def _inherited(a: _Aspects, key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(classifications, revoked datasets) a model's versions inherit."""
    if key not in a.inherited:
        return (), ()
    found = [a.datasets[d] for d in a.inherited[key] if d in a.datasets]
    labels = tuple(sorted({c for _, _, cs in found for c in cs}))
    return labels, tuple(sorted(ref for ref, status, _ in found if status == "revoked"))


@lru_cache(maxsize=4096)
def _owners_of(creator: str, maintainers: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((creator, *maintainers)))


def _by_role(d: DatasetUse) -> tuple[str, str]:
    return d.role, d.reference


def _by_relation(d: Dependency) -> tuple[str, str]:
    return d.relation, d.reference


@lru_cache(maxsize=256)
def _stage_order(stages: tuple[str, ...]) -> tuple[str, ...]:
    known = [s for s in DEFAULT_STAGES if s in stages]
    return (*known, *sorted(s for s in stages if s not in DEFAULT_STAGES))


def _sorted(numbers: list[int]) -> list[int]:
    return numbers if len(numbers) < 2 else sorted(numbers)


def _completeness(current: int, row: tuple[Any, ...]) -> Completeness:
    """Of the current version: production's, else the newest live one."""
    return _report(current, row[2], row[3:])


@lru_cache(maxsize=1024)
def _report(number: int, complete: bool | None, has: tuple[bool, ...]) -> Completeness:
    if complete is None:  # created without ingredients
        return Completeness(number, False, PARTS)
    missing = tuple(p for p, present in zip(PARTS, has, strict=True) if not present)
    return Completeness(number, bool(complete), missing)
