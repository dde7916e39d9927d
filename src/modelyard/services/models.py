"""Models: create, read, update metadata, tags, risk level, archive."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db import fulltext, queries
from modelyard.db.engine import Database
from modelyard.db.tables import ModelRow, ModelTagRow
from modelyard.db.types import utcnow
from modelyard.domain.errors import ConflictError, InvalidInputError
from modelyard.domain.lifecycle import RISK_LEVELS
from modelyard.domain.names import check_name, check_tag, check_tags
from modelyard.domain.policy import Policy
from modelyard.domain.policy_document import default_policy
from modelyard.domain.records import Model
from modelyard.services import audit, stages, tagging, transitions
from modelyard.services.lookup import model_row, namespace_row, writable_model
from modelyard.services.records import model_from, model_records


def create_model(
    db: Database,
    actor: str,
    namespace: str,
    name: str,
    description: str = "",
    tags: dict[str, str] | None = None,
) -> Model:
    check_name("namespace", namespace)
    check_name("model", name)
    tags = check_tags(tags or {})
    now = utcnow()
    try:
        with db.write() as s:
            ns = s.execute(queries.NAMESPACE_BY_NAME, {"name": namespace}).first()
            if ns is None or ns.archived_at is not None:
                namespace_row(s, namespace)  # NAMESPACE_NOT_FOUND
                raise ConflictError(
                    "NAMESPACE_ARCHIVED",
                    f"namespace {namespace!r} is archived",
                    namespace=namespace,
                )
            row = {
                "id": uuid.uuid4(),
                "namespace_id": ns.id,
                "namespace": namespace,
                "name": name,
                "description": description,
                "risk_level": "unassessed",
                "risk_reason": "",
                "version_counter": 0,
                "archived_at": None,
                "created_by": actor,
                "created_at": now,
                "updated_by": actor,
                "updated_at": now,
            }
            # A duplicate name fails on uq_models_namespace_id_name (IntegrityError below).
            queries.INSERT_MODEL.run(s, row)
            queries.INSERT_MODEL_TAGS.run_many(
                s, [{"model_id": row["id"], "key": k, "value": v} for k, v in tags.items()]
            )
            body = fulltext.document_body(namespace, name, description, *tags, *tags.values())
            queries.INSERT_SEARCH_DOCUMENT.run(
                s, {"entity_id": row["id"], "kind": "model", "body": body}
            )
            audit.record(
                s,
                actor,
                "model.created",
                f"{namespace}/{name}",
                namespace=namespace,
                after={"description": description, "tags": tags},
            )
    except IntegrityError:
        raise _exists(namespace, name) from None
    return model_from(row, tags)


def _exists(namespace: str, name: str) -> ConflictError:
    return ConflictError(
        "MODEL_EXISTS", f"model {namespace}/{name} exists", model=f"{namespace}/{name}"
    )


def _index(s: Session, row: ModelRow, tags: dict[str, str] | None = None) -> None:
    if tags is None:
        stmt = select(ModelTagRow.key, ModelTagRow.value).where(ModelTagRow.model_id == row.id)
        tags = {t.key: t.value for t in s.execute(stmt)}
    parts = [row.namespace, row.name, row.description, *tags.keys(), *tags.values()]
    fulltext.put_document(s, row.id, "model", *parts)


def get_model(db: Database, namespace: str, name: str) -> Model:
    with db.read() as s:
        row = s.execute(queries.MODEL_BY_NAME, {"namespace": namespace, "name": name}).first()
        if row is None:
            model_row(s, namespace, name)  # raises MODEL_NOT_FOUND
        return model_records(s, [row])[0]


def update_model(
    db: Database, actor: str, namespace: str, name: str, description: str | None = None
) -> Model:
    with db.write() as s:
        row = writable_model(s, namespace, name)
        if description is not None and description != row.description:
            audit.record(
                s,
                actor,
                "model.updated",
                f"{namespace}/{name}",
                namespace=namespace,
                before={"description": row.description},
                after={"description": description},
            )
            row.description = description
            _touch(row, actor)
            _index(s, row)
        return model_records(s, [row])[0]


def _touch(row: ModelRow, actor: str) -> None:
    row.updated_at = utcnow()
    row.updated_by = actor


def set_risk(
    db: Database,
    actor: str,
    namespace: str,
    name: str,
    level: str,
    reason: str,
    policy: Policy | None = None,
) -> Model:
    """Set the risk level with a reason; pending transition requests of the model are worked
    out again under ``policy`` (the server's; the built-in one when not given)."""
    if level not in RISK_LEVELS:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"risk level must be one of {', '.join(RISK_LEVELS)}", level=level
        )
    if not reason.strip():
        raise InvalidInputError("VALIDATION_FAILED", "a risk level needs a reason")
    rules = policy or default_policy()
    try:
        with db.write() as s:
            row = writable_model(s, namespace, name)
            before = {"risk_level": row.risk_level, "risk_reason": row.risk_reason}
            row.risk_level, row.risk_reason = level, reason
            _touch(row, actor)
            s.flush()
            after: dict[str, object] = {"risk_level": level, "risk_reason": reason}
            pending = transitions.pending_of(s, row.id)
            if pending:  # the requests this change re-evaluates
                after["reevaluated"] = pending
            audit.record(
                s,
                actor,
                "risk.changed",
                f"{namespace}/{name}",
                namespace=namespace,
                before=before,
                after=after,
            )
            transitions.reevaluate(s, rules, row, before["risk_level"], actor)
            return model_records(s, [row])[0]
    except IntegrityError as exc:
        raise stages.conflict_from(exc, f"{namespace}/{name}", "") from None


def archive_model(db: Database, actor: str, namespace: str, name: str) -> Model:
    with db.write() as s:
        row = model_row(s, namespace, name, for_update=True)
        if row.archived_at is None:
            row.archived_at = utcnow()
            _touch(row, actor)
            audit.record(s, actor, "model.archived", f"{namespace}/{name}", namespace=namespace)
            # An archived model accepts no changes: its pending requests could never apply.
            for version_id in transitions.open_versions(s, row.id):
                stages.withdraw(s, actor, version_id, f"{namespace}/{name} was archived")
        return model_records(s, [row])[0]


def set_model_tag(
    db: Database, actor: str, namespace: str, name: str, key: str, value: str
) -> Model:
    check_tag(key, value)
    with db.write() as s:
        row = writable_model(s, namespace, name)
        tagging.put(s, ModelTagRow, row.id, actor, f"{namespace}/{name}", namespace, key, value)
        _touch(row, actor)
        _index(s, row)
        return model_records(s, [row])[0]


def remove_model_tag(db: Database, actor: str, namespace: str, name: str, key: str) -> Model:
    with db.write() as s:
        row = writable_model(s, namespace, name)
        target = f"{namespace}/{name}"
        tagging.remove(s, ModelTagRow, row.id, actor, target, namespace, key, "model")
        _touch(row, actor)
        _index(s, row)
        return model_records(s, [row])[0]
