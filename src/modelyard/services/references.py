"""Resolve ``namespace/name@REF`` to one version (the grammar is in ``domain/references.py``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from modelyard.db import queries
from modelyard.db.engine import Database
from modelyard.db.prepared import Prepared
from modelyard.domain.errors import NotFoundError
from modelyard.domain.records import Version
from modelyard.domain.references import Reference, RefKind, parse_reference
from modelyard.services.lookup import model_row
from modelyard.services.records import version_record, version_records


def resolve(db: Database, reference: str) -> Version:
    ref = parse_reference(reference)
    statement, params = _statement(ref)
    with db.snapshot() as snapshot:  # one prepared read, without a Session
        found = statement.first(snapshot, params)
    if found is not None and not found.has_upstream:
        return version_record(found)  # the common case: nothing more to read
    with db.read() as s:
        # None: the right NOT_FOUND error (or a version made meanwhile). Else what the version
        # inherits through its upstream links (which never change) is read here.
        row = found if found is not None else resolve_row(s, ref)
        return version_records(s, [(row, row.risk_level)])[0]


def resolve_row(s: Session, ref: Reference) -> Any:
    """The Core row (versions columns + the model's ``risk_level``) ``ref`` names, in the
    caller's transaction; the right NOT_FOUND error if none. ``@NAME`` is an alias first, else
    the stage of that name (the policy may define stages beyond the built-in four; an alias
    may not take a stage's name, services/aliases.py)."""
    statement, params = _statement(ref)
    row = statement.first(s, params)
    if row is None and ref.kind is RefKind.ALIAS:
        # No alias of that name: a stage the policy defines beyond the four built-in ones
        # (``@canary``) names the newest version in it, as ``@production`` does.
        row = _IN_STAGE.first(s, {"namespace": ref.namespace, "name": ref.name, "stage": ref.value})
    if row is None:
        model_row(s, ref.namespace, ref.name)  # MODEL_NOT_FOUND first, if that is the cause
        raise NotFoundError(
            "ALIAS_NOT_FOUND" if ref.kind is RefKind.ALIAS else "VERSION_NOT_FOUND",
            f"{ref} resolves to no version",
            reference=str(ref),
        )
    return row


# Prepared (db/prepared.py): a resolve is the registry's most frequent read.
_BY_NUMBER = Prepared(queries.VERSION_BY_NUMBER)
_BY_ALIAS = Prepared(queries.VERSION_BY_ALIAS)
_IN_STAGE = Prepared(queries.NEWEST_IN_STAGE)
_WITH_DIGEST = Prepared(queries.NEWEST_WITH_DIGEST)
_LATEST = Prepared(queries.LATEST_VERSION)


def _statement(ref: Reference) -> tuple[Prepared, dict[str, Any]]:
    params: dict[str, Any] = {"namespace": ref.namespace, "name": ref.name}
    match ref.kind:
        case RefKind.NUMBER:
            return _BY_NUMBER, {**params, "number": int(ref.value)}
        case RefKind.ALIAS:
            return _BY_ALIAS, {**params, "alias": ref.value}
        case RefKind.STAGE:
            return _IN_STAGE, {**params, "stage": ref.value}
        case RefKind.DIGEST:
            return _WITH_DIGEST, {**params, "digest": ref.value}
    return _LATEST, params
