"""Turn database rows into domain records, loading tags and aliases for a page in batches."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelyard.db.tables import (
    AliasRow,
    ModelRow,
    ModelTagRow,
    NamespaceRow,
    VersionRow,
    VersionTagRow,
)
from modelyard.domain.records import Model, Namespace, Version


def namespace_record(row: NamespaceRow) -> Namespace:
    return Namespace(
        name=row.name,
        description=row.description,
        archived=row.archived_at is not None,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def model_records(session: Session, rows: Sequence[ModelRow]) -> list[Model]:
    ids = [row.id for row in rows]
    if not ids:
        return []
    tags: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    for t in session.scalars(select(ModelTagRow).where(ModelTagRow.model_id.in_(ids))):
        tags[t.model_id][t.key] = t.value
    aliases: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for a in session.scalars(select(AliasRow).where(AliasRow.model_id.in_(ids))):
        aliases[a.model_id][a.alias] = a.version_number
    latest: dict[uuid.UUID, int] = {
        model_id: number
        for model_id, number in session.execute(
            select(VersionRow.model_id, func.max(VersionRow.number))
            .where(VersionRow.model_id.in_(ids), VersionRow.archived_at.is_(None))
            .group_by(VersionRow.model_id)
        )
    }
    return [_model(row, tags[row.id], aliases[row.id], latest.get(row.id)) for row in rows]


def _model(
    row: ModelRow, tags: dict[str, str], aliases: dict[str, int], latest: int | None
) -> Model:
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


def version_records(session: Session, rows: Sequence[tuple[VersionRow, str]]) -> list[Version]:
    """``rows`` are (version row, its model's risk level) pairs."""
    ids = [v.id for v, _ in rows]
    if not ids:
        return []
    tags: dict[uuid.UUID, dict[str, str]] = defaultdict(dict)
    for t in session.scalars(select(VersionTagRow).where(VersionTagRow.version_id.in_(ids))):
        tags[t.version_id][t.key] = t.value
    aliases: dict[uuid.UUID, list[str]] = defaultdict(list)
    for a in session.scalars(
        select(AliasRow).where(AliasRow.version_id.in_(ids)).order_by(AliasRow.alias)
    ):
        aliases[a.version_id].append(a.alias)
    return [_version(v, risk, tags[v.id], aliases[v.id]) for v, risk in rows]


def _version(row: VersionRow, risk: str, tags: dict[str, str], aliases: list[str]) -> Version:
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
    )


def one_version(session: Session, row: VersionRow) -> Version:
    risk = session.scalar(select(ModelRow.risk_level).where(ModelRow.id == row.model_id)) or ""
    return version_records(session, [(row, risk)])[0]
