"""Registered datasets: register a version, read, list, correct metadata, revoke, reinstate.

A dataset version's ``uri``, ``digest`` and ``size`` never change (a new snapshot of the data is
a new version). Its description, owner, licence and classifications may be corrected; every
version trained on it sees the correction at once (inheritance is computed when read, see
``db/lineage.py``). Revoking flags every affected version the same way.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import DatasetClassificationRow, DatasetRow
from modelyard.db.types import utcnow
from modelyard.domain.datasets import (
    Dataset,
    DatasetRef,
    check_classifications,
    check_dataset_version,
    parse_dataset_ref,
)
from modelyard.domain.digests import check_digest
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.names import check_name
from modelyard.domain.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    fingerprint,
)
from modelyard.domain.records import Page
from modelyard.services import audit
from modelyard.services.lookup import namespace_row

D = DatasetRow
C = DatasetClassificationRow


def create_dataset(
    db: Database,
    actor: str,
    namespace: str,
    name: str,
    version: str,
    uri: str = "",
    digest: str | None = None,
    size: int | None = None,
    owner: str = "",
    licence: str = "",
    description: str = "",
    classifications: Sequence[str] = (),
) -> Dataset:
    check_name("namespace", namespace)
    check_name("dataset", name)
    check_dataset_version(version)
    _check_data(uri, digest, size)
    labels = check_classifications(classifications)
    now = utcnow()
    try:
        with db.write() as s:
            ns = namespace_row(s, namespace)
            _refuse_archived(ns.archived_at, namespace)
            row = DatasetRow(
                id=uuid.uuid4(), namespace_id=ns.id, namespace=namespace, name=name,
                version=version, uri=uri, digest=digest, size=size, owner=owner or actor,
                licence=licence, description=description, status="active", revoked_reason="",
                revoked_by="", created_by=actor, created_at=now, updated_at=now,
            )  # fmt: skip
            s.add(row)
            s.flush()
            _set_classifications(s, row.id, labels)
            record = _record(row, labels)
            audit.record(
                s,
                actor,
                "dataset.created",
                f"{namespace}/{name}@{version}",
                namespace=namespace,
                after={
                    "uri": uri, "digest": digest, "size": size, "owner": row.owner,
                    "licence": licence, "description": description, "classifications": list(labels),
                },
            )  # fmt: skip
            return record
    except IntegrityError as exc:
        raise ConflictError(
            "DATASET_EXISTS",
            f"dataset {namespace}/{name}@{version} is registered already",
            dataset=f"{namespace}/{name}@{version}",
        ) from exc


def _check_data(uri: str, digest: str | None, size: int | None) -> None:
    if digest is not None:
        check_digest(digest, "dataset digest")
    if size is not None and size < 0:
        raise InvalidInputError("VALIDATION_FAILED", "a dataset's size is not negative")
    if not uri and digest is None:
        raise InvalidInputError(
            "VALIDATION_FAILED", "a dataset has a uri, a digest, or both (what data is it?)"
        )


def _refuse_archived(archived_at: Any, namespace: str) -> None:
    if archived_at is not None:
        raise ConflictError(
            "NAMESPACE_ARCHIVED", f"namespace {namespace} is archived", namespace=namespace
        )


def _set_classifications(s: Session, dataset_id: uuid.UUID, labels: Sequence[str]) -> None:
    s.execute(delete(C).where(C.dataset_id == dataset_id))
    if labels:
        s.execute(insert(C), [{"dataset_id": dataset_id, "classification": c} for c in labels])


def get_dataset(db: Database, reference: str) -> Dataset:
    """``ns/name@version``, or ``ns/name`` for its newest version."""
    with db.read() as s:
        row = dataset_row(s, parse_dataset_ref(reference))
        return records(s, [row])[0]


def dataset_row(s: Session, ref: DatasetRef, for_update: bool = False) -> DatasetRow:
    """The dataset ``ref`` names; without a version, the newest active one."""
    stmt = select(D).where(D.namespace == ref.namespace, D.name == ref.name)
    if ref.version is None:
        stmt = stmt.where(D.status == "active").order_by(D.created_at.desc(), D.version.desc())
    else:
        stmt = stmt.where(D.version == ref.version)
    row = s.scalars(stmt.limit(1).with_for_update() if for_update else stmt.limit(1)).first()
    if row is None:
        raise NotFoundError("DATASET_NOT_FOUND", f"dataset {ref} not found", dataset=str(ref))
    return row


def update_dataset(
    db: Database,
    actor: str,
    reference: str,
    description: str | None = None,
    owner: str | None = None,
    licence: str | None = None,
    classifications: Sequence[str] | None = None,
) -> Dataset:
    """Correct metadata; the data itself (uri, digest, size) never changes."""
    labels = None if classifications is None else check_classifications(classifications)
    changes = {"description": description, "owner": owner, "licence": licence}
    with db.write() as s:
        row = dataset_row(s, _pinned(reference), for_update=True)
        before = records(s, [row])[0]
        for field, value in changes.items():
            if value is not None:
                setattr(row, field, value)
        if labels is not None:
            _set_classifications(s, row.id, labels)
        row.updated_at = utcnow()
        after = records(s, [row])[0]
        old, new = audit.changes(_metadata(before), _metadata(after))
        if old:
            audit.record(
                s,
                actor,
                "dataset.updated",
                _ref(row),
                namespace=row.namespace,
                before=old,
                after=new,
            )
        return after


def revoke_dataset(db: Database, actor: str, reference: str, reason: str) -> Dataset:
    """Flag the dataset version as not to be used (consent withdrawn, licence ended…); every
    version trained on it, directly or through ``derived_from``, is flagged with it."""
    if not reason.strip():
        raise InvalidInputError("VALIDATION_FAILED", "revoking a dataset needs a reason")
    with db.write() as s:
        row = dataset_row(s, _pinned(reference), for_update=True)
        audit.record(
            s,
            actor,
            "dataset.revoked",
            _ref(row),
            namespace=row.namespace,
            before={"status": row.status},
            after={"status": "revoked", "reason": reason},
        )
        row.status, row.revoked_reason, row.revoked_by = "revoked", reason, actor
        row.revoked_at = row.updated_at = utcnow()
        return records(s, [row])[0]


def reinstate_dataset(db: Database, actor: str, reference: str) -> Dataset:
    """Undo a revocation made in error."""
    with db.write() as s:
        row = dataset_row(s, _pinned(reference), for_update=True)
        audit.record(
            s,
            actor,
            "dataset.reinstated",
            _ref(row),
            namespace=row.namespace,
            before={"status": row.status, "reason": row.revoked_reason},
            after={"status": "active"},
        )
        row.status, row.revoked_reason, row.revoked_by, row.revoked_at = "active", "", "", None
        row.updated_at = utcnow()
        return records(s, [row])[0]


def _ref(row: DatasetRow) -> str:
    return f"{row.namespace}/{row.name}@{row.version}"


def _metadata(dataset: Dataset) -> dict[str, Any]:
    return {
        "description": dataset.description,
        "owner": dataset.owner,
        "licence": dataset.licence,
        "classifications": list(dataset.classifications),
    }


def _pinned(reference: str) -> DatasetRef:
    ref = parse_dataset_ref(reference)
    if ref.version is None:
        raise InvalidInputError(
            "REFERENCE_INVALID",
            f"name the dataset version to change: {reference}@VERSION",
            reference=reference,
        )
    return ref


def list_datasets(
    db: Database,
    namespace: str | None = None,
    name: str | None = None,
    classification: str | None = None,
    status: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Page[Dataset]:
    """Datasets ordered by namespace, name, version; keyset pages."""
    size = clamp_page_size(page_size)
    stmt = select(D)
    if namespace is not None:
        stmt = stmt.where(D.namespace == namespace)
    if name is not None:
        stmt = stmt.where(D.name == name)
    if status is not None:
        stmt = stmt.where(D.status == status)
    if classification is not None:
        labelled = select(C.dataset_id).where(C.classification == classification)
        stmt = stmt.where(D.id.in_(labelled))
    query = fingerprint("datasets", namespace, name, classification, status)
    if page_token:
        key = decode_page_token(page_token, query, 3)
        if not all(isinstance(k, str) for k in key):
            raise InvalidInputError("PAGE_TOKEN_INVALID", "page_token is not valid")
        stmt = stmt.where(tuple_(D.namespace, D.name, D.version) > tuple_(*key))
    with db.read() as s:
        stmt = stmt.order_by(D.namespace, D.name, D.version).limit(size + 1)
        rows = list(s.scalars(stmt))
        token = None
        if len(rows) > size:
            rows = rows[:size]
            token = encode_page_token((rows[-1].namespace, rows[-1].name, rows[-1].version), query)
        return Page(records(s, rows), token)


def records(s: Session, rows: Sequence[Any]) -> list[Dataset]:
    """Domain records for dataset rows (ORM or Core), classifications loaded in one query."""
    labels = classifications_of(s, [r.id for r in rows])
    return [_record(r, labels.get(r.id, ())) for r in rows]


def classifications_of(s: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[str, ...]]:
    found: dict[uuid.UUID, list[str]] = defaultdict(list)
    if ids:
        stmt = select(C.dataset_id, C.classification).where(C.dataset_id.in_(ids))
        for dataset_id, label in s.execute(stmt.order_by(C.classification)):
            found[dataset_id].append(label)
    return {k: tuple(v) for k, v in found.items()}


def _record(row: Any, labels: Sequence[str]) -> Dataset:
    return Dataset(
        namespace=row.namespace,
        name=row.name,
        version=row.version,
        uri=row.uri,
        digest=row.digest,
        size=row.size,
        owner=row.owner,
        licence=row.licence,
        description=row.description,
        classifications=tuple(labels),
        status=row.status,
        revoked_reason=row.revoked_reason,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
