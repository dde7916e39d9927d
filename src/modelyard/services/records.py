"""Turn database rows into domain records, loading tags and aliases for a page in batches."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.db import queries
from modelyard.db.tables import (
    ModelRow,
    NamespaceRow,
    VersionRow,
)
from modelyard.domain.records import Model, Namespace, Version
from modelyard.services import inheritance
from modelyard.services.inheritance import Inheritance


def namespace_record(row: NamespaceRow) -> Namespace:
    return Namespace(
        name=row.name,
        description=row.description,
        archived=row.archived_at is not None,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        visibility=row.visibility,
    )


def model_records(session: Session, rows: Sequence[Any]) -> list[Model]:
    """``rows``: ORM ModelRows or Core rows of the models table."""
    ids = [row.id for row in rows]
    if not ids:
        return []
    tags: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    for t in session.execute(queries.MODEL_TAGS, {"ids": ids}):
        tags[t.model_id][t.key] = t.value
    aliases: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for a in session.execute(queries.MODEL_ALIASES, {"ids": ids}):
        aliases[a.model_id][a.alias] = a.version_number
    latest = {r.model_id: r.latest for r in session.execute(queries.LATEST_NUMBERS, {"ids": ids})}
    return [_model(row, tags[row.id], aliases[row.id], latest.get(row.id)) for row in rows]


def _model(row: Any, tags: dict[str, str], aliases: dict[str, int], latest: int | None) -> Model:
    return Model(
        namespace=row.namespace,
        name=row.name,
        description=row.description,
        tags=dict(sorted(tags.items())),
        risk_level=row.risk_level,
        risk_reason=row.risk_reason,
        aliases=dict(sorted(aliases.items())),
        archived=row.archived_at is not None,
        latest_version=latest,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
    )


def version_records(session: Session, rows: Sequence[tuple[Any, str]]) -> list[Version]:
    """``rows`` are (version row, its model's risk level) pairs. Core rows selected with
    ``queries.VERSION_EXTRAS`` carry their tags and aliases; others are looked up here."""
    if not rows:
        return []
    if hasattr(rows[0][0], "tags_json"):
        return _with_extras(session, rows)
    ids = [v.id for v, _ in rows]
    tags: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    for t in session.execute(queries.VERSION_TAGS, {"ids": ids}):
        tags[t.version_id][t.key] = t.value
    aliases: dict[uuid.UUID, list[str]] = defaultdict(list)
    for a in session.execute(queries.VERSION_ALIASES, {"ids": ids}):
        aliases[a.version_id].append(a.alias)
    inherited = inheritance.inherited(session, ids)
    return [_version(v, risk, tags[v.id], aliases[v.id], inherited.get(v.id)) for v, risk in rows]


def version_record(row: Any) -> Version:
    """The record of a Core row selected with ``queries.VERSION_EXTRAS`` and the model's
    ``risk_level``, of a version without upstream links (nothing to inherit: no query)."""
    assert not row.has_upstream
    return _version(row, row.risk_level, row.tags_json or {}, sorted(row.aliases_json or ()))


def _with_extras(session: Session, rows: Sequence[tuple[Any, str]]) -> list[Version]:
    upstream = [v.id for v, _ in rows if v.has_upstream]
    inherited = inheritance.inherited(session, upstream) if upstream else {}
    return [
        _version(v, risk, v.tags_json or {}, sorted(v.aliases_json or ()), inherited.get(v.id))
        for v, risk in rows
    ]


def _version(
    row: Any,
    risk: str,
    tags: dict[str, str],
    aliases: list[str],
    inherited: Inheritance | None = None,
) -> Version:
    """``row``: an ORM VersionRow or a Core row of the versions table (same attribute names);
    search pages select ``queries.VERSION_RECORD_COLUMNS`` only: a new attribute read here
    goes there too."""
    inherited = inherited or inheritance.NOTHING
    return Version(
        namespace=row.namespace,
        name=row.model_name,
        version=row.number,
        description=row.description,
        tags=dict(sorted(tags.items())),
        metrics=dict(row.metrics or {}),
        stage=row.stage,
        status=row.status,
        aliases=aliases,
        risk_level=risk,
        manifest_digest=row.manifest_digest,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        classifications=list(inherited.classifications),
        revoked_datasets=list(inherited.revoked_datasets),
    )


def model_from(values: dict[str, Any], tags: dict[str, str]) -> Model:
    """A new model's record from the values a service has just inserted (no read back)."""
    return _model(SimpleNamespace(**values), tags, {}, None)


def version_from(
    values: dict[str, Any],
    risk: str,
    tags: dict[str, str],
    aliases: list[str],
    inherited: Inheritance | None = None,
) -> Version:
    """A record from the values a service has just inserted (no read back)."""
    return _version(SimpleNamespace(**values), risk, tags, aliases, inherited)


def one_version(session: Session, row: VersionRow) -> Version:
    risk = session.scalar(select(ModelRow.risk_level).where(ModelRow.id == row.model_id)) or ""
    return version_records(session, [(row, risk)])[0]
