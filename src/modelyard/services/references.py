"""Resolve ``namespace/name@REF`` to one version (the grammar is in ``domain/references.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from modelyard.db import queries
from modelyard.db.engine import Database
from modelyard.domain.errors import NotFoundError
from modelyard.domain.records import Version
from modelyard.domain.references import Reference, RefKind, parse_reference
from modelyard.services.lookup import model_row
from modelyard.services.records import version_records


def resolve(db: Database, reference: str) -> Version:
    with db.read() as s:
        row = resolve_row(s, parse_reference(reference))
        return version_records(s, [(row, row.risk_level)])[0]


def resolve_row(s: Session, ref: Reference) -> Any:
    """The Core row (versions columns + the model's ``risk_level``) ``ref`` names, in the
    caller's transaction; the right NOT_FOUND error if none."""
    row = s.execute(*_statement(ref)).first()
    if row is None:
        model_row(s, ref.namespace, ref.name)  # MODEL_NOT_FOUND first, if that is the cause
        raise NotFoundError(
            "ALIAS_NOT_FOUND" if ref.kind is RefKind.ALIAS else "VERSION_NOT_FOUND",
            f"{ref} resolves to no version",
            reference=str(ref),
        )
    return row


def _statement(ref: Reference) -> tuple[Any, dict[str, Any]]:
    params: dict[str, Any] = {"namespace": ref.namespace, "name": ref.name}
    match ref.kind:
        case RefKind.NUMBER:
            return queries.VERSION_BY_NUMBER, {**params, "number": int(ref.value)}
        case RefKind.ALIAS:
            return queries.VERSION_BY_ALIAS, {**params, "alias": ref.value}
        case RefKind.STAGE:
            return queries.NEWEST_IN_STAGE, {**params, "stage": ref.value}
        case RefKind.DIGEST:
            return queries.NEWEST_WITH_DIGEST, {**params, "digest": ref.value}
    return queries.LATEST_VERSION, params
