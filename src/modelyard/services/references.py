"""Resolve ``namespace/name@REF`` to one version (the grammar is in ``domain/references.py``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import AliasRow, ModelRow, VersionRow
from modelyard.domain.errors import NotFoundError
from modelyard.domain.records import Version
from modelyard.domain.references import Reference, RefKind, parse_reference
from modelyard.services.lookup import model_row
from modelyard.services.records import version_records


def resolve(db: Database, reference: str) -> Version:
    ref = parse_reference(reference)
    with db.read() as s:
        model = model_row(s, ref.namespace, ref.name)
        row = resolve_row(s, model, ref)
        return version_records(s, [(row, model.risk_level)])[0]


def resolve_row(s: Session, model: ModelRow, ref: Reference) -> VersionRow:
    v = VersionRow
    stmt = select(v).where(v.model_id == model.id)
    if ref.kind is RefKind.NUMBER:
        stmt = stmt.where(v.number == int(ref.value))
    elif ref.kind is RefKind.ALIAS:
        stmt = stmt.join(AliasRow, AliasRow.version_id == v.id).where(
            AliasRow.model_id == model.id, AliasRow.alias == ref.value
        )
    elif ref.kind is RefKind.STAGE:
        stmt = stmt.where(v.stage == ref.value, v.archived_at.is_(None))
    elif ref.kind is RefKind.DIGEST:
        stmt = stmt.where(v.manifest_digest == ref.value)
    else:
        stmt = stmt.where(v.archived_at.is_(None))
    row = s.scalars(stmt.order_by(v.number.desc()).limit(1)).first()
    if row is None:
        raise NotFoundError(
            "ALIAS_NOT_FOUND" if ref.kind is RefKind.ALIAS else "VERSION_NOT_FOUND",
            f"{ref} resolves to no version",
            reference=str(ref),
        )
    return row
