"""Blobs in the database: which ones the server holds, and publishing new ones safely.

Blob first, row second. A *live* blob row (``condemned_at`` empty) always has its bytes in the
store, because the row is inserted in the same transaction that publishes the bytes, under the
row's lock, and garbage collection deletes bytes only under that same lock (services/gc.py):

    register (upload commit)                 gc
    ─────────────────────────────────        ────────────────────────────────────────
    BEGIN; lock or insert blob row           BEGIN; lock condemned blob row
    publish bytes (create-once)              re-check: no artifact names it
    mark row live, last_seen = now           delete bytes; delete row
    COMMIT                                   COMMIT

On PostgreSQL the lock is ``SELECT … FOR UPDATE`` (a second inserter of the same digest waits
on the primary key and retries); on SQLite ``BEGIN IMMEDIATE`` serialises writers anyway. The
publish step is fast (a rename; completing an S3 multipart upload); the slow part, ``stage``,
runs before the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.blobs import BlobStore, Staged
from modelyard.db.engine import Database
from modelyard.db.tables import BlobRow, UploadRow
from modelyard.db.types import utcnow
from modelyard.domain.digests import check_digest
from modelyard.domain.errors import InvalidInputError, NotFoundError
from modelyard.domain.transfers import Blob

MAX_MISSING_QUERY = 10_000
_BATCH = 500  # digests per IN (...) list
_INSERT_RETRIES = 3


def batches(items: list[str], size: int = _BATCH) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def get_blob(db: Database, digest: str) -> Blob:
    """The live blob ``digest``, or BLOB_NOT_FOUND."""
    check_digest(digest)
    with db.read() as s:
        size = s.scalar(
            select(BlobRow.size).where(BlobRow.digest == digest, BlobRow.condemned_at.is_(None))
        )
    if size is None:
        raise NotFoundError("BLOB_NOT_FOUND", f"no blob {digest}", digest=digest)
    return Blob(digest, int(size))


def missing(db: Database, digests: Iterable[str], refresh_after: timedelta) -> list[str]:
    """The digests (in the order given, without repeats) the server does not hold.

    Blobs reported present get ``last_seen_at`` refreshed when it is older than
    ``refresh_after``, so GC keeps them through the push that is about to reference them."""
    wanted = list(dict.fromkeys(check_digest(d) for d in digests))
    if len(wanted) > MAX_MISSING_QUERY:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"ask about at most {MAX_MISSING_QUERY} digests at a time"
        )
    seen = _live_last_seen(db, wanted)
    stale_before = utcnow() - refresh_after
    stale = [d for d, at in seen.items() if at < stale_before]
    present = {d for d, at in seen.items() if at >= stale_before} | _refresh(db, stale)
    return [d for d in wanted if d not in present]


def _live_last_seen(db: Database, digests: list[str]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    with db.read() as s:
        for batch in batches(digests):
            stmt = select(BlobRow.digest, BlobRow.last_seen_at).where(
                BlobRow.digest.in_(batch), BlobRow.condemned_at.is_(None)
            )
            found.update((d, at) for d, at in s.execute(stmt))
    return found


def _refresh(db: Database, digests: list[str]) -> set[str]:
    """Touch live rows; returns the ones still live (GC may have condemned some meanwhile)."""
    if not digests:
        return set()
    refreshed: set[str] = set()
    with db.write() as s:
        for batch in batches(digests):
            stmt = (
                update(BlobRow)
                .where(BlobRow.digest.in_(batch), BlobRow.condemned_at.is_(None))
                .values(last_seen_at=utcnow())
                .returning(BlobRow.digest)
            )
            refreshed.update(s.scalars(stmt))
    return refreshed


def touch(db: Database, digest: str) -> Blob | None:
    """Refresh a live blob's ``last_seen_at``; None when the server does not hold it."""
    with db.write() as s:
        size = s.scalar(
            update(BlobRow)
            .where(BlobRow.digest == digest, BlobRow.condemned_at.is_(None))
            .values(last_seen_at=utcnow())
            .returning(BlobRow.size)
        )
    return None if size is None else Blob(digest, int(size))


def register(db: Database, store: BlobStore, staged: Staged, upload_id: str | None = None) -> Blob:
    """Publish ``staged`` and record it (see the module docstring); delete the upload
    session ``upload_id`` in the same transaction. Always releases ``staged``."""
    try:
        for attempt in range(_INSERT_RETRIES):
            try:
                with db.write() as s:
                    created = _publish_locked(s, store, staged)
                    if upload_id is not None:
                        s.execute(delete(UploadRow).where(UploadRow.id == uuid.UUID(upload_id)))
                return Blob(staged.digest, staged.size, created)
            except IntegrityError:
                # A concurrent commit of the same bytes inserted the row first; the next
                # attempt finds and locks it.
                if attempt == _INSERT_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")
    finally:
        store.discard(staged)


def _publish_locked(s: Session, store: BlobStore, staged: Staged) -> bool:
    now = utcnow()
    row = s.scalars(
        select(BlobRow).where(BlobRow.digest == staged.digest).with_for_update()
    ).first()
    if row is not None and row.condemned_at is None:
        row.last_seen_at = now
        return False  # live already: its bytes are in the store
    if row is None:
        row = BlobRow(digest=staged.digest, size=staged.size, created_at=now)
        s.add(row)
        s.flush()  # takes the key: a concurrent inserter waits here, then retries
    row.condemned_at = None
    row.last_seen_at = now
    store.publish(staged)
    return True
