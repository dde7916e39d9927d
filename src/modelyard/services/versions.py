"""Versions: numbered 1, 2, 3… per model, gapless and never reused, under any concurrency.

The number comes from the model row's ``version_counter``, incremented by an
``UPDATE … RETURNING`` in the same transaction that inserts the version: on PostgreSQL the
UPDATE's row lock queues concurrent creators of one model; on SQLite ``BEGIN IMMEDIATE`` already
serialises writers. A rolled-back creation rolls the counter back too, so no gap appears, and
``uq_versions_model_id_number`` is the last line of defence.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from modelyard.db import fulltext, queries
from modelyard.db.engine import Database
from modelyard.db.prepared import Snapshot
from modelyard.db.tables import VersionRow, VersionTagRow
from modelyard.db.types import utcnow, uuid7
from modelyard.domain.errors import ConflictError, InvalidInputError
from modelyard.domain.ingredients import Ingredients
from modelyard.domain.lifecycle import INITIAL_STAGE
from modelyard.domain.lineage import Upstream
from modelyard.domain.manifests import Manifest
from modelyard.domain.metrics import metric_values
from modelyard.domain.names import check_tag, check_tags
from modelyard.domain.records import Version
from modelyard.services import audit, cards, inheritance, manifests, provenance, stages, tagging
from modelyard.services import metrics as metrics_service
from modelyard.services.access_cache import AccessChanged
from modelyard.services.lookup import (
    in_range,
    model_row,
    version_row,
    writable_model,
    writable_version,
)
from modelyard.services.records import version_from, version_records

MAX_METRICS = 1000


def check_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    if len(metrics) > MAX_METRICS:
        raise InvalidInputError("VALIDATION_FAILED", f"at most {MAX_METRICS} metrics per version")
    out: dict[str, float] = {}
    for key, value in metrics.items():
        check_tag(key, "")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InvalidInputError(
                "VALIDATION_FAILED", f"metric {key!r} must be a finite number", metric=key
            )
        out[key] = float(value)
    return out


def create_version(
    db: Database,
    actor: str,
    namespace: str,
    name: str,
    description: str = "",
    tags: dict[str, str] | None = None,
    metrics: dict[str, Any] | None = None,
    manifest_digest: str | None = None,
    manifest: Manifest | None = None,
    *,
    metric_details: Sequence[Mapping[str, Any]] = (),
    ingredients: Ingredients | None = None,
    upstream: Upstream | None = None,
    card: str | None = None,
    stage: str = INITIAL_STAGE,
    access_generation: int | None = None,
) -> Version:
    """``manifest``: the version's files; every blob it names must be on the server
    (services/manifests.py). Its digest becomes the version's ``manifest_digest``.
    ``ingredients`` and ``upstream`` are stored with it, never to change (services/provenance.py);
    ``metric_details`` are metrics with a dataset and split; ``card`` the author's model card.
    ``stage``: the policy's initial stage (never an exclusive one: the policy refuses that).
    ``access_generation``: the access generation the caller was authorised at without reading
    it (the fast path, ``api/access.py`` ``held_writer``); the transaction reads it first and
    raises ``AccessChanged`` (rolled back, nothing written) when it is another."""
    tags = check_tags(tags or {})
    values = metric_values(check_metrics(metrics or {}), metric_details)
    clean_metrics = {m.name: m.value for m in values if m.plain}
    version_id = uuid7()  # time-ordered: appended at its indexes' right edge (db/types.py)
    now = utcnow()
    row: dict[str, Any] = {
        "id": version_id,
        "model_id": None,  # and the number: from the model's counter, in the transaction
        "number": None,
        "namespace": namespace,
        "model_name": name,
        "description": description,
        "stage": stage,
        "status": "ready",
        "metrics": clean_metrics,
        "manifest_digest": manifest.digest if manifest is not None else manifest_digest,
        "archived_at": None,
        "created_by": actor,
        "created_at": now,
        "updated_at": now,
    }
    if manifest is None and not values and ingredients is None and upstream is None and not card:
        # The common creation is all prepared statements: no Session needed (db/engine.py).
        try:
            with db.write_prepared() as t:
                _check_access(t, access_generation)
                risk = _insert(t, actor, row, tags)
            return version_from(row, risk, tags, [])
        except _NotWritable:
            pass  # the Session below says why: MODEL_NOT_FOUND or MODEL_ARCHIVED
    with db.write() as s:
        _check_access(s, access_generation)
        risk = _insert(s, actor, row, tags)  # raises MODEL_NOT_FOUND or MODEL_ARCHIVED
        if manifest is not None:
            manifests.attach(s, version_id, manifest)
        metrics_service.write(s, version_id, values)
        provenance.record(s, version_id, ingredients, upstream, manifest)
        if card:
            cards.put(s, version_id, card, actor, now)
        inherited = inheritance.inherited(s, [version_id]) if ingredients or upstream else {}
    return version_from(row, risk, tags, [], inherited.get(version_id))


def _check_access(s: Session | Snapshot, assumed: int | None) -> None:
    """Raise ``AccessChanged`` when the access generation is not ``assumed`` (``None``: the
    caller read it before authorising, as every route does)."""
    if assumed is None:
        return
    got = queries.ACCESS_GENERATION_NOW.rows(s, {})
    if (int(got[0][0]) if got else 0) != assumed:
        raise AccessChanged


class _NotWritable(Exception):
    """No writable model to number a version of (the Session path names the error)."""


def _insert(s: Session | Snapshot, actor: str, row: dict[str, Any], tags: dict[str, str]) -> str:
    """Number and insert the version ``row`` (its model id and number filled in here), its tags,
    its search document and its audit event; the model's risk level."""
    namespace, name = row["namespace"], row["model_name"]
    model_id, number, risk = _next_number(s, namespace, name, row["created_at"])
    row["model_id"], row["number"] = model_id, number
    queries.INSERT_VERSION.run(s, row)
    version_id = row["id"]
    queries.INSERT_VERSION_TAGS.run_many(
        s, [{"version_id": version_id, "key": k, "value": v} for k, v in tags.items()]
    )
    body = fulltext.document_body(namespace, name, row["description"], *tags, *tags.values())
    queries.INSERT_SEARCH_DOCUMENT.run(
        s, {"entity_id": version_id, "kind": "version", "body": body}
    )
    audit.record(
        s,
        actor,
        "version.created",
        f"{namespace}/{name}@{number}",
        namespace=namespace,
        after={
            "version": number,
            "description": row["description"],
            "tags": tags,
            "metrics": row["metrics"],
            "manifest_digest": row["manifest_digest"],
            "stage": row["stage"],
        },
    )
    return risk


def _next_number(
    s: Session | Snapshot, namespace: str, name: str, now: datetime
) -> tuple[uuid.UUID, int, str]:
    got = queries.NEXT_VERSION_NUMBER.rows(
        s, {"model_namespace": namespace, "model_name": name, "now": now}
    )
    if not got:
        if not isinstance(s, Session):
            raise _NotWritable
        writable_model(s, namespace, name)  # raises MODEL_NOT_FOUND or MODEL_ARCHIVED
        raise AssertionError("unreachable: the model is writable but was not updated")
    model_id, counter, risk = got[0]
    return model_id, int(counter), str(risk)


def _index(s: Session, row: VersionRow, tags: dict[str, str] | None = None) -> None:
    if tags is None:
        tags = {t.key: t.value for t in s.query(VersionTagRow).filter_by(version_id=row.id)}
    parts = [row.namespace, row.model_name, row.description, *tags.keys(), *tags.values()]
    fulltext.put_document(s, row.id, "version", *parts)


def get_version(db: Database, namespace: str, name: str, number: int) -> Version:
    with db.read() as s:
        params = {"namespace": namespace, "name": name, "number": number}
        row = s.execute(queries.VERSION_BY_NUMBER, params).first() if in_range(number) else None
        if row is None:
            version_row(s, model_row(s, namespace, name), number)  # raises the right NOT_FOUND
        assert row is not None
        return version_records(s, [(row, row.risk_level)])[0]


def update_version(
    db: Database,
    actor: str,
    namespace: str,
    name: str,
    number: int,
    description: str | None = None,
    metrics: dict[str, Any] | None = None,
    metric_details: Sequence[Mapping[str, Any]] = (),
) -> Version:
    """Description and metrics are metadata; files and ingredients never change."""
    values = metric_values(check_metrics(metrics or {}), metric_details)
    clean_metrics = {m.name: m.value for m in values if m.plain}
    with db.write() as s:
        model = writable_model(s, namespace, name)
        row = writable_version(s, model, number)
        before = {"description": row.description, "metrics": dict(row.metrics or {})}
        if description is not None and description != row.description:
            row.description = description
            _index(s, row)
        if clean_metrics:
            row.metrics = {**(row.metrics or {}), **clean_metrics}
        old, new = audit.changes(before, {"description": row.description, "metrics": row.metrics})
        if old or values:
            audit.record(
                s,
                actor,
                "version.updated",
                f"{namespace}/{name}@{number}",
                namespace=namespace,
                before=old,
                after={
                    **new,
                    **({"metric_details": list(metric_details)} if metric_details else {}),
                },
            )
        metrics_service.write(s, row.id, values)
        row.updated_at = utcnow()
        return version_records(s, [(row, model.risk_level)])[0]


def archive_version(db: Database, actor: str, namespace: str, name: str, number: int) -> Version:
    with db.write() as s:
        model = model_row(s, namespace, name, for_update=True)
        row = version_row(s, model, number, for_update=True)
        if row.archived_at is None:
            refuse_held(row)
            stages.withdraw(s, actor, row.id, f"{namespace}/{name}@{number} was archived")
            row.archived_at = row.updated_at = utcnow()
            row.status = "archived"
            audit.record(
                s, actor, "version.archived", f"{namespace}/{name}@{number}", namespace=namespace
            )
        return version_records(s, [(row, model.risk_level)])[0]


def refuse_held(row: VersionRow) -> None:
    """A version holding an exclusive stage stays until another takes its place or it is moved
    out: archived, it would keep the stage's one place and block every later promotion."""
    if row.exclusive_stage is not None:
        ref = f"{row.namespace}/{row.model_name}@{row.number}"
        raise ConflictError(
            "STAGE_HELD",
            f"{ref} is in {row.exclusive_stage}; move it out first (promote another version,"
            f" or request a transition of {ref} to another stage)",
            reference=ref,
            stage=row.exclusive_stage,
        )


def set_version_tag(
    db: Database, actor: str, namespace: str, name: str, number: int, key: str, value: str
) -> Version:
    check_tag(key, value)
    with db.write() as s:
        model = writable_model(s, namespace, name)
        row = writable_version(s, model, number)
        target = f"{namespace}/{name}@{number}"
        tagging.put(s, VersionTagRow, row.id, actor, target, namespace, key, value)
        row.updated_at = utcnow()
        _index(s, row)
        return version_records(s, [(row, model.risk_level)])[0]


def remove_version_tag(
    db: Database, actor: str, namespace: str, name: str, number: int, key: str
) -> Version:
    with db.write() as s:
        model = writable_model(s, namespace, name)
        row = writable_version(s, model, number)
        target = f"{row.namespace}/{row.model_name}@{number}"
        tagging.remove(s, VersionTagRow, row.id, actor, target, namespace, key, "version")
        row.updated_at = utcnow()
        _index(s, row)
        return version_records(s, [(row, model.risk_level)])[0]
