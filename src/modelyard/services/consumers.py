"""Consumers: the services, pipelines and jobs that use a model, by reference.

A consumer declares ``namespace/name@REF`` (``@production``, ``@champion``, ``@7``…); which
version that is follows the reference as it moves. A pull that names a consumer records when
it was last seen and which version it got; a consumer named by a pull but never declared is
declared then (kind ``other``, with the reference it pulled), so the inventory learns who
uses a model without anyone filling in a form.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import ConsumerRow, ModelRow
from modelyard.db.types import utcnow
from modelyard.domain.errors import InvalidInputError, NotFoundError
from modelyard.domain.lineage import Consumer, check_consumer
from modelyard.domain.references import parse_reference
from modelyard.services import audit, references
from modelyard.services.lookup import model_row, writable_model


def full_reference(namespace: str, name: str, reference: str) -> str:
    """``production`` or ``ns/name@production`` -> ``ns/name@production`` (this model only)."""
    text = reference if "/" in reference else f"{namespace}/{name}@{reference}"
    ref = parse_reference(text)
    if (ref.namespace, ref.name) != (namespace, name):
        raise InvalidInputError(
            "REFERENCE_INVALID",
            f"a consumer of {namespace}/{name} declares a reference to that model, not {text}",
            reference=text,
        )
    return str(ref)


def declare(
    db: Database,
    actor: str,
    namespace: str,
    name: str,
    consumer: str,
    kind: str,
    reference: str,
    description: str = "",
) -> Consumer:
    """Declare (or re-declare: kind, reference and description are replaced) a consumer."""
    check_consumer(consumer, kind)
    text = full_reference(namespace, name, reference)
    with db.write() as s:
        model = writable_model(s, namespace, name)
        row = _row(s, model.id, consumer)
        audit.record(
            s,
            actor,
            "consumer.declared",
            f"{namespace}/{name}",
            namespace=namespace,
            before=None if row is None else {
                "consumer": consumer, "kind": row.kind, "reference": row.reference,
                "description": row.description,
            },
            after={
                "consumer": consumer, "kind": kind, "reference": text, "description": description,
            },
        )  # fmt: skip
        if row is None:
            row = ConsumerRow(
                id=uuid.uuid4(), model_id=model.id, name=consumer, declared_by=actor,
                created_at=utcnow(), last_seen_at=None, last_version=None,
            )  # fmt: skip
            s.add(row)
        row.kind, row.reference, row.description = kind, text, description
        s.flush()
        return record(row, namespace, name)


def _row(s: Session, model_id: uuid.UUID, consumer: str) -> ConsumerRow | None:
    stmt = select(ConsumerRow).where(ConsumerRow.model_id == model_id, ConsumerRow.name == consumer)
    return s.scalars(stmt).first()


def list_consumers(db: Database, namespace: str, name: str) -> list[Consumer]:
    with db.read() as s:
        model = model_row(s, namespace, name)
        stmt = select(ConsumerRow).where(ConsumerRow.model_id == model.id)
        return [record(r, namespace, name) for r in s.scalars(stmt.order_by(ConsumerRow.name))]


def remove(db: Database, actor: str, namespace: str, name: str, consumer: str) -> None:
    with db.write() as s:
        model = model_row(s, namespace, name, for_update=True)
        row = _row(s, model.id, consumer)
        if row is None:
            raise NotFoundError(
                "CONSUMER_NOT_FOUND",
                f"{namespace}/{name} has no consumer {consumer!r}",
                consumer=consumer,
            )
        audit.record(
            s,
            actor,
            "consumer.removed",
            f"{namespace}/{name}",
            namespace=namespace,
            before={"consumer": consumer, "kind": row.kind, "reference": row.reference},
        )
        s.delete(row)


def seen(
    db: Database, consumer: str, reference: str, namespace: str, name: str, number: int
) -> None:
    """A pull of ``reference`` by ``consumer`` resolved to version ``number``."""
    check_consumer(consumer, "other")
    try:
        with db.write() as s:
            model_id = s.scalar(
                select(ModelRow.id).where(ModelRow.namespace == namespace, ModelRow.name == name)
            )
            if model_id is None:
                return
            row = _row(s, model_id, consumer)
            if row is None:
                row = ConsumerRow(
                    id=uuid.uuid4(), model_id=model_id, name=consumer, kind="other",
                    reference=str(parse_reference(reference)), description="",
                    declared_by="(pull)", created_at=utcnow(),
                )  # fmt: skip
                s.add(row)
            row.last_seen_at, row.last_version = utcnow(), number
    except IntegrityError:
        pass  # two first pulls raced to declare it; the other one recorded the sighting


def current_targets(
    s: Session, model_ids: Sequence[uuid.UUID]
) -> list[tuple[ConsumerRow, uuid.UUID | None]]:
    """Each consumer of these models with the version its reference names now (None when it
    names none: an alias removed, no version in the stage)."""
    if not model_ids:
        return []
    stmt = select(ConsumerRow).where(ConsumerRow.model_id.in_(model_ids))
    return [(c, _target(s, c.reference)) for c in s.scalars(stmt.order_by(ConsumerRow.name))]


def _target(s: Session, reference: str) -> uuid.UUID | None:
    try:
        return references.resolve_row(s, parse_reference(reference)).id  # type: ignore[no-any-return]
    except NotFoundError:
        return None


def record(row: Any, namespace: str, name: str) -> Consumer:
    return Consumer(
        name=row.name,
        kind=row.kind,
        model=f"{namespace}/{name}",
        reference=row.reference,
        description=row.description,
        declared_by=row.declared_by,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        last_version=row.last_version,
    )
