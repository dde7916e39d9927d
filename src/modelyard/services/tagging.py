"""Setting and removing one tag of a model or a version, with its audit event (one code path
for both: the tables differ only in their owner column)."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy.orm import Session

from modelyard.db.tables import ModelTagRow, VersionTagRow
from modelyard.domain.errors import NotFoundError
from modelyard.services import audit

TagTable = type[ModelTagRow] | type[VersionTagRow]


def _get(
    s: Session, table: TagTable, owner_id: uuid.UUID, key: str
) -> ModelTagRow | VersionTagRow | None:
    return cast("ModelTagRow | VersionTagRow | None", s.get(table, (owner_id, key)))


def put(
    s: Session,
    table: TagTable,
    owner_id: uuid.UUID,
    actor: str,
    target: str,
    namespace: str,
    key: str,
    value: str,
) -> None:
    """Add or replace tag ``key`` of ``target`` (``ns/name`` or ``ns/name@N``)."""
    tag = _get(s, table, owner_id, key)
    audit.record(
        s,
        actor,
        "tag.set",
        target,
        namespace=namespace,
        before={"key": key, "value": tag.value} if tag is not None else None,
        after={"key": key, "value": value},
    )
    if tag is None:
        owner = "model_id" if table is ModelTagRow else "version_id"
        s.add(table(**{owner: owner_id, "key": key, "value": value}))
    else:
        tag.value = value
    s.flush()


def remove(
    s: Session,
    table: TagTable,
    owner_id: uuid.UUID,
    actor: str,
    target: str,
    namespace: str,
    key: str,
    kind: str,
) -> None:
    """Remove tag ``key`` of ``target``; TAG_NOT_FOUND when it has none."""
    tag = _get(s, table, owner_id, key)
    if tag is None:
        raise NotFoundError("TAG_NOT_FOUND", f"{kind} {target} has no tag {key!r}", key=key)
    audit.record(
        s,
        actor,
        "tag.removed",
        target,
        namespace=namespace,
        before={"key": key, "value": tag.value},
    )
    s.delete(tag)
    s.flush()
