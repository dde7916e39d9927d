"""Aliases: movable names for one version of a model (``@champion``)."""

from __future__ import annotations

from collections.abc import Iterable

from modelyard.db.engine import Database
from modelyard.db.tables import AliasRow
from modelyard.db.types import utcnow
from modelyard.domain.errors import NotFoundError
from modelyard.domain.lifecycle import RESERVED_ALIASES
from modelyard.domain.names import check_alias
from modelyard.domain.records import Model
from modelyard.services import audit
from modelyard.services.lookup import writable_model, writable_version
from modelyard.services.records import model_records


def set_alias(
    db: Database,
    actor: str,
    namespace: str,
    name: str,
    alias: str,
    number: int,
    stages: Iterable[str] = (),
) -> Model:
    """``stages``: the policy's stage names, reserved like the built-in ones (``@STAGE``
    resolves to the newest version in that stage)."""
    check_alias(alias, RESERVED_ALIASES | frozenset(stages))
    with db.write() as s:
        model = writable_model(s, namespace, name)
        version = writable_version(s, model, number)
        row = s.get(AliasRow, (model.id, alias))
        audit.record(
            s,
            actor,
            "alias.set",
            f"{namespace}/{name}",
            namespace=namespace,
            before={"alias": alias, "version": row.version_number} if row is not None else None,
            after={"alias": alias, "version": version.number},
        )
        if row is None:
            row = AliasRow(model_id=model.id, alias=alias)
            s.add(row)
        row.version_id, row.version_number = version.id, version.number
        row.updated_by, row.updated_at = actor, utcnow()
        model.updated_at, model.updated_by = utcnow(), actor
        s.flush()
        return model_records(s, [model])[0]


def remove_alias(db: Database, actor: str, namespace: str, name: str, alias: str) -> Model:
    with db.write() as s:
        model = writable_model(s, namespace, name)
        row = s.get(AliasRow, (model.id, alias))
        if row is None:
            raise NotFoundError(
                "ALIAS_NOT_FOUND", f"model {namespace}/{name} has no alias {alias!r}", alias=alias
            )
        audit.record(
            s,
            actor,
            "alias.removed",
            f"{namespace}/{name}",
            namespace=namespace,
            before={"alias": alias, "version": row.version_number},
        )
        s.delete(row)
        s.flush()
        model.updated_at, model.updated_by = utcnow(), actor
        return model_records(s, [model])[0]
