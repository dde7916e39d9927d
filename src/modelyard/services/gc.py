"""Garbage collection: blobs no version references, stale upload sessions, store leftovers.

Only what is older than the grace window (``MODELYARD_GC_GRACE_SECONDS``) goes, so the blobs of
a push in progress (uploaded, not yet named by a version) and its open sessions are safe. A
blob is removed in two phases, so that no version can ever point at missing bytes:

1. **condemn** (one transaction): mark every blob row that no artifact names and that was not
   seen within the grace window. A condemned row counts as absent from then on: ``missing``
   reports it, manifests naming it are refused, and an upload of the same bytes revives it.
2. **delete** (one transaction per blob): lock the condemned row ``FOR UPDATE``, check afresh
   that no artifact names it (a version created between the phases revives it), delete the
   bytes, then the row. A crash between the two leaves a condemned row, which the next run
   finishes; an upload meanwhile republishes the bytes under the same lock.

Bytes in the store with no row at all (a server died between publishing and committing) are
adopted as condemned rows and deleted the same way. Upload sessions idle longer than the grace
window are dropped with their bytes, as are stored uploads no session owns.

Given a webhook retention window (``MODELYARD_WEBHOOKS_RETENTION_SECONDS``), it also forgets the
webhook history older than it: finished deliveries with their attempt logs, and outbox events
the fan-out has read (services/deliveries.py ``prune_history``). The audit trail is never pruned.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from modelyard.blobs import BlobStore
from modelyard.db.engine import Database
from modelyard.db.tables import ArtifactRow, BlobRow, UploadRow
from modelyard.db.types import utcnow
from modelyard.domain.transfers import GcReport
from modelyard.services import deliveries
from modelyard.services.blobs import batches

log = logging.getLogger("modelyard.gc")

_UNREFERENCED = ~exists().where(ArtifactRow.digest == BlobRow.digest)


def collect(
    db: Database,
    store: BlobStore,
    grace: timedelta,
    dry_run: bool = False,
    now: datetime | None = None,
    webhook_retention: timedelta | None = None,
) -> GcReport:
    """``webhook_retention``: None (or zero) keeps webhook history forever."""
    cutoff = (now or utcnow()) - grace
    report = GcReport(dry_run=dry_run, grace_seconds=int(grace.total_seconds()))
    if webhook_retention:
        pruned = deliveries.prune_history(db, (now or utcnow()) - webhook_retention, dry_run)
        report.webhook_deliveries, report.outbox_events = pruned.deliveries, pruned.outbox_events
    if dry_run:
        report.blobs = _candidates(db, cutoff) + _orphans(db, store, cutoff)
        report.uploads = _stale_sessions(db, cutoff) + _orphan_uploads(db, store, cutoff)
        return report
    _adopt(db, _orphans(db, store, cutoff))
    _condemn(db, cutoff)
    report.blobs = [(d, n) for d, n in _condemned(db) if _delete_blob(db, store, d)]
    report.uploads = _drop_sessions(db, store, cutoff) + _drop_orphan_uploads(db, store, cutoff)
    report.leftovers = store.sweep(cutoff)
    log.info(
        "gc: %d blobs (%d bytes), %d uploads, %d leftovers, %d webhook deliveries,"
        " %d outbox events",
        len(report.blobs),
        report.freed_bytes,
        len(report.uploads),
        report.leftovers,
        report.webhook_deliveries,
        report.outbox_events,
    )
    return report


# -- blobs ---------------------------------------------------------------------------------


def _candidates(db: Database, cutoff: datetime) -> list[tuple[str, int]]:
    """Rows phase 1 would condemn, and rows already condemned by an interrupted run."""
    with db.read() as s:
        stmt = select(BlobRow.digest, BlobRow.size).where(
            (BlobRow.condemned_at.is_not(None)) | ((BlobRow.last_seen_at < cutoff) & _UNREFERENCED)
        )
        return [(d, int(n)) for d, n in s.execute(stmt)]


def _condemn(db: Database, cutoff: datetime) -> None:
    with db.write() as s:
        s.execute(
            update(BlobRow)
            .where(BlobRow.condemned_at.is_(None), BlobRow.last_seen_at < cutoff, _UNREFERENCED)
            .values(condemned_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _condemned(db: Database) -> list[tuple[str, int]]:
    with db.read() as s:
        stmt = select(BlobRow.digest, BlobRow.size).where(BlobRow.condemned_at.is_not(None))
        return [(d, int(n)) for d, n in s.execute(stmt)]


def _delete_blob(db: Database, store: BlobStore, digest: str) -> bool:
    """Phase 2 for one blob; False when it was revived or is referenced after all."""
    with db.write() as s:
        row = s.scalars(
            select(BlobRow)
            .where(BlobRow.digest == digest, BlobRow.condemned_at.is_not(None))
            .with_for_update()
        ).first()
        if row is None:
            return False
        # A fresh statement: sees any version committed since phase 1.
        if s.scalar(select(exists().where(ArtifactRow.digest == digest))):
            row.condemned_at = None
            return False
        store.delete(digest)
        s.delete(row)
    return True


def _orphans(db: Database, store: BlobStore, cutoff: datetime) -> list[tuple[str, int]]:
    """Blobs in the store with no row, older than the grace window."""
    old = {b.digest: b.size for b in store.list_blobs() if b.modified < cutoff}
    with db.read() as s:
        known = {
            d
            for batch in batches(list(old))
            for d in s.scalars(select(BlobRow.digest).where(BlobRow.digest.in_(batch)))
        }
    return [(d, n) for d, n in old.items() if d not in known]


def _adopt(db: Database, orphans: list[tuple[str, int]]) -> None:
    """Give orphaned bytes a condemned row, so phase 2 deletes them under the usual lock."""
    for digest, size in orphans:
        try:
            with db.write() as s:
                s.add(BlobRow(digest=digest, size=size, condemned_at=utcnow()))
        except IntegrityError:
            continue  # an upload registered it meanwhile: it is live now


# -- uploads -------------------------------------------------------------------------------


def _stale_sessions(db: Database, cutoff: datetime) -> list[str]:
    with db.read() as s:
        return [
            str(i) for i in s.scalars(select(UploadRow.id).where(UploadRow.updated_at < cutoff))
        ]


def _drop_sessions(db: Database, store: BlobStore, cutoff: datetime) -> list[str]:
    dropped = []
    for upload_id in _stale_sessions(db, cutoff):
        with db.write() as s:
            gone = s.execute(
                delete(UploadRow).where(
                    UploadRow.id == uuid.UUID(upload_id), UploadRow.updated_at < cutoff
                )
            )
        if gone.rowcount:  # type: ignore[attr-defined]
            store.delete_upload(upload_id)
            dropped.append(upload_id)
    return dropped


def _orphan_uploads(db: Database, store: BlobStore, cutoff: datetime) -> list[str]:
    """Stored uploads with no session (single-request uploads cut off, crashes)."""
    old = [u.upload_id for u in store.list_uploads() if u.modified < cutoff]
    with db.read() as s:
        live = {str(i) for i in s.scalars(select(UploadRow.id))} if old else set()
    return [u for u in old if u not in live]


def _drop_orphan_uploads(db: Database, store: BlobStore, cutoff: datetime) -> list[str]:
    orphans = _orphan_uploads(db, store, cutoff)
    for upload_id in orphans:
        store.delete_upload(upload_id)
    return orphans
