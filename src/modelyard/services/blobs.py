"""Blobs in the database: which ones the server holds, and recording new ones safely.

Blob first, row second. A *live* blob row (``condemned_at`` empty) always has its bytes in the
store: the bytes are published (fsynced, renamed into place: durable) before the row is
written, the row is written only after checking, under the row's lock, that the bytes are
there, and garbage collection deletes bytes only under that same lock (services/gc.py):

    register (upload commit)                 gc, phase 2 (rows condemned in phase 1)
    ─────────────────────────────────        ────────────────────────────────────────
    publish bytes (create-once, durable)
    BEGIN; lock or insert blob row           BEGIN; lock condemned blob row
    check the bytes are there                re-check: no artifact names it
    mark row live, last_seen = now           delete bytes; delete row
    COMMIT                                   COMMIT

Publishing outside the transaction keeps disk and S3 work (fsyncs, completing a multipart
upload) out of the database lock, which on SQLite is one lock for every writer. The price is a
rare race: GC may delete the bytes of a condemned blob just as the same bytes are published
again; the check under the lock sees that and the commit fails with CONFLICT (upload again).
On PostgreSQL the lock is ``SELECT … FOR UPDATE`` (a second inserter of the same digest waits
on the primary key and retries); on SQLite ``BEGIN IMMEDIATE`` serialises writers anyway.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.blobs import BlobStore, Staged
from modelyard.db.engine import Database
from modelyard.db.prepared import Prepared
from modelyard.db.tables import BlobRow, UploadRow
from modelyard.db.types import utcnow
from modelyard.domain.digests import check_digest
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.transfers import Blob

MAX_MISSING_QUERY = 10_000
_BATCH = 500  # digests per IN (...) list
_INSERT_RETRIES = 3
_INSERT_BLOBS = Prepared(insert(cast(Table, BlobRow.__table__)))


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


MAX_FETCH_BLOBS = 1000
MAX_FETCH_BYTES = 256 * 1024 * 1024


def fetchable(db: Database, digests: Iterable[str]) -> list[Blob]:
    """The live blobs ``digests`` (in the order given, without repeats) for one batch
    download: BLOB_NOT_FOUND for the first one the server lacks, VALIDATION_FAILED past
    ``MAX_FETCH_BLOBS`` blobs or ``MAX_FETCH_BYTES`` bytes."""
    wanted = list(dict.fromkeys(check_digest(d) for d in digests))
    if len(wanted) > MAX_FETCH_BLOBS:
        raise _fetch_too_much(f"{len(wanted)} blobs")
    sizes: dict[str, int] = {}
    with db.read() as s:
        for batch in batches(wanted):
            stmt = select(BlobRow.digest, BlobRow.size).where(
                BlobRow.digest.in_(batch), BlobRow.condemned_at.is_(None)
            )
            sizes.update((d, int(n)) for d, n in s.execute(stmt))
    for digest in wanted:
        if digest not in sizes:
            raise NotFoundError("BLOB_NOT_FOUND", f"no blob {digest}", digest=digest)
    if sum(sizes.values()) > MAX_FETCH_BYTES:
        raise _fetch_too_much(f"{sum(sizes.values())} bytes")
    return [Blob(d, sizes[d]) for d in wanted]


def _fetch_too_much(what: str) -> InvalidInputError:
    return InvalidInputError(
        "VALIDATION_FAILED",
        f"{what} asked for: fetch at most {MAX_FETCH_BLOBS} blobs and {MAX_FETCH_BYTES} bytes"
        " at a time",
        max_blobs=MAX_FETCH_BLOBS,
        max_bytes=MAX_FETCH_BYTES,
    )


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


def held(db: Database, digest: str, refresh_after: timedelta) -> Blob | None:
    """The live blob ``digest`` (its ``last_seen_at`` refreshed as ``missing`` does), or None.
    A read, plus a write only when the refresh is due."""
    with db.read() as s:
        found = s.execute(
            select(BlobRow.size, BlobRow.last_seen_at).where(
                BlobRow.digest == digest, BlobRow.condemned_at.is_(None)
            )
        ).first()
    if found is None:
        return None
    if found.last_seen_at < utcnow() - refresh_after and not _refresh(db, [digest]):
        return None
    return Blob(digest, int(found.size))


def register(db: Database, store: BlobStore, staged: Staged, upload_id: str | None = None) -> Blob:
    """Publish ``staged`` and record it (see the module docstring); delete the upload
    session ``upload_id`` in the same transaction as the row. Always releases ``staged``."""
    try:
        created = store.publish(staged)
    finally:
        store.discard(staged)
    for attempt in range(_INSERT_RETRIES):
        try:
            with db.write() as s:
                _record_locked(s, store, staged.digest, staged.size)
                if upload_id is not None:
                    s.execute(delete(UploadRow).where(UploadRow.id == uuid.UUID(upload_id)))
            return Blob(staged.digest, staged.size, created)
        except IntegrityError:
            # A concurrent commit of the same bytes inserted the row first; the next attempt
            # finds and locks it.
            if attempt == _INSERT_RETRIES - 1:
                raise
    raise AssertionError("unreachable")


def register_many(
    db: Database, store: BlobStore, members: list[tuple[str, int]], created: list[bool]
) -> list[Blob]:
    """Record blobs a batch has published (``created[i]``: member i was written now), in one
    transaction. The same rules as ``register``, row by row."""
    fresh: dict[str, bool] = {}
    for (digest, _), new in zip(members, created, strict=True):
        fresh[digest] = fresh.get(digest, False) or new
    sizes = dict(members)
    for attempt in range(_INSERT_RETRIES):
        try:
            with db.write() as s:
                for batch in batches(list(sizes)):
                    _record_batch_locked(s, store, {d: sizes[d] for d in batch}, fresh)
            break
        except IntegrityError:
            if attempt == _INSERT_RETRIES - 1:  # see register
                raise
    seen: set[str] = set()
    out = []
    for digest, size in members:
        out.append(Blob(digest, size, fresh[digest] and digest not in seen))
        seen.add(digest)
    return out


def _record_batch_locked(
    s: Session, store: BlobStore, sizes: dict[str, int], fresh: dict[str, bool]
) -> None:
    now = utcnow()
    stmt = select(BlobRow).where(BlobRow.digest.in_(list(sizes))).with_for_update()
    rows = {row.digest: row for row in s.scalars(stmt)}
    new = []
    for digest, size in sizes.items():
        row = rows.get(digest)
        if row is not None and row.condemned_at is None:
            row.last_seen_at = now
            continue
        # Bytes published by this very batch are there: GC deletes only rows it condemned and
        # row-less bytes older than the grace window. Bytes found in place may be going.
        if not fresh[digest] and store.stat(digest) is None:
            raise _collected(digest)
        if row is None:
            new.append(
                {
                    "digest": digest,
                    "size": size,
                    "created_at": now,
                    "last_seen_at": now,
                    "condemned_at": None,
                }
            )
        else:
            row.condemned_at = None
            row.last_seen_at = now
    s.flush()
    # One executemany beneath the ORM; takes the keys: a concurrent inserter waits, retries.
    _INSERT_BLOBS.run_many(s, new)


def _collected(digest: str) -> ConflictError:
    return ConflictError(
        "CONFLICT",
        f"garbage collection removed {digest} while it was being committed; upload it again",
        digest=digest,
    )


def _record_locked(s: Session, store: BlobStore, digest: str, size: int) -> None:
    now = utcnow()
    row = s.scalars(select(BlobRow).where(BlobRow.digest == digest).with_for_update()).first()
    if row is not None and row.condemned_at is None:
        row.last_seen_at = now
        return  # live: its bytes are in the store
    if store.stat(digest) is None:
        raise _collected(digest)
    if row is None:
        s.add(BlobRow(digest=digest, size=size, created_at=now, last_seen_at=now))
        s.flush()  # takes the key: a concurrent inserter waits here, then retries
        return
    row.condemned_at = None
    row.last_seen_at = now
