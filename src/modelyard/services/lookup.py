"""Row look-ups shared by the services: by name, raising the right NOT_FOUND error.

``for_update`` takes a row lock on PostgreSQL (SQLite writers are already serialised by
``BEGIN IMMEDIATE``), so changes that read-then-write one model never interleave.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.db.tables import ModelRow, NamespaceRow, VersionRow
from modelyard.domain.errors import ConflictError, NotFoundError
from modelyard.domain.lifecycle import MAX_VERSION_NUMBER


def namespace_row(session: Session, name: str, for_update: bool = False) -> NamespaceRow:
    stmt = select(NamespaceRow).where(NamespaceRow.name == name)
    row = session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if row is None:
        raise NotFoundError("NAMESPACE_NOT_FOUND", f"namespace {name!r} not found", namespace=name)
    return row


def model_row(session: Session, namespace: str, name: str, for_update: bool = False) -> ModelRow:
    stmt = select(ModelRow).where(ModelRow.namespace == namespace, ModelRow.name == name)
    row = session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if row is None:
        raise NotFoundError(
            "MODEL_NOT_FOUND", f"model {namespace}/{name} not found", model=f"{namespace}/{name}"
        )
    return row


def in_range(number: int) -> bool:
    """Whether ``number`` can be a version number; PostgreSQL refuses to bind a larger one to
    the INTEGER column (a 500), so callers skip the query and report VERSION_NOT_FOUND."""
    return 1 <= number <= MAX_VERSION_NUMBER


def version_row(
    session: Session, model: ModelRow, number: int, for_update: bool = False
) -> VersionRow:
    stmt = select(VersionRow).where(VersionRow.model_id == model.id, VersionRow.number == number)
    row = None
    if in_range(number):
        row = session.scalars(stmt.with_for_update() if for_update else stmt).first()
    if row is None:
        raise NotFoundError(
            "VERSION_NOT_FOUND",
            f"version {number} of {model.namespace}/{model.name} not found",
            reference=f"{model.namespace}/{model.name}@{number}",
        )
    return row


def writable_model(session: Session, namespace: str, name: str) -> ModelRow:
    """The model, locked for a change; archived models accept none."""
    row = model_row(session, namespace, name, for_update=True)
    if row.archived_at is not None:
        raise ConflictError(
            "MODEL_ARCHIVED", f"model {namespace}/{name} is archived", model=f"{namespace}/{name}"
        )
    return row


def writable_version(session: Session, model: ModelRow, number: int) -> VersionRow:
    row = version_row(session, model, number, for_update=True)
    if row.archived_at is not None:
        raise ConflictError(
            "VERSION_ARCHIVED",
            f"version {model.namespace}/{model.name}@{number} is archived",
            reference=f"{model.namespace}/{model.name}@{number}",
        )
    return row
