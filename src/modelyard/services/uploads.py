"""Upload sessions: start → chunks → commit with the digest → or cancel; and single-request
uploads for small blobs.

The session row (``uploads``) is the truth about progress: ``received`` bytes count, the next
chunk must start there (else CHUNK_OUT_OF_ORDER with the current offset), and its bytes live in
the blob store's uploads area. Both survive a restart, so a client resumes by asking for the
status and sending the rest. A chunk counts only once its bytes are stored and ``received``
moves, in one short transaction; a chunk cut off half-way counts for nothing.

Many small blobs travel in one request instead (``put_batch``, a tar stream: see
``domain/batches.py``): each is hashed as it streams into the store's batch area; only when
every one matches its digest are they made durable and published together, and recorded in one
transaction. A batch is all or nothing: one bad member and none of them is kept.

Every byte is hashed as it streams past. The hash state of a session stays in this process
(``HashCache``); when a chunk lands on another worker or the server restarted, the commit
re-reads the stored bytes once to hash them. Nothing becomes a blob until the digest the client
names matches (``hmac.compare_digest``) and the length matches what was declared.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from modelyard.blobs import BlobStore, Segment, UploadGapError
from modelyard.db.engine import Database
from modelyard.db.tables import UploadPartRow, UploadRow
from modelyard.db.types import utcnow
from modelyard.domain.batches import read_batch
from modelyard.domain.digests import (
    Hasher,
    check_digest,
    hashing,
    hashing_alongside,
    same_digest,
)
from modelyard.domain.errors import (
    InvalidInputError,
    NotFoundError,
    PayloadTooLargeError,
    RangeNotSatisfiableError,
)
from modelyard.domain.transfers import Blob, Upload
from modelyard.services import blobs

log = logging.getLogger("modelyard.uploads")

MAX_BATCH_BLOBS = 1000
MAX_BATCH_BYTES = 256 * 1024 * 1024  # the blobs' bytes in one batch, headers not counted


class HashCache:
    """Hash state of this process's uploads in progress, keyed by upload id (LRU-bounded)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._items: OrderedDict[str, Hasher] = OrderedDict()
        self._lock = threading.Lock()
        self._capacity = capacity

    def take(self, upload_id: str, size: int) -> Hasher | None:
        """A copy of the state after exactly ``size`` bytes, or None."""
        with self._lock:
            hasher = self._items.get(upload_id)
            return hasher.copy() if hasher is not None and hasher.size == size else None

    def put(self, upload_id: str, hasher: Hasher) -> None:
        with self._lock:
            self._items[upload_id] = hasher
            self._items.move_to_end(upload_id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._items.pop(upload_id, None)


@dataclass(frozen=True)
class Transfers:
    """What the transfer services need; built once by ``create_app``."""

    db: Database
    store: BlobStore
    hashes: HashCache
    max_blob_bytes: int
    refresh_after: timedelta  # how stale last_seen_at may get before `missing` refreshes it


def too_large(size: int, limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        "BLOB_TOO_LARGE", f"blob of {size} bytes is over the limit of {limit}", limit=limit
    )


def out_of_order(upload_id: str, received: int) -> RangeNotSatisfiableError:
    return RangeNotSatisfiableError(
        "CHUNK_OUT_OF_ORDER",
        f"upload {upload_id} holds {received} bytes; the next chunk must start at {received}",
        upload=upload_id,
        received=received,
    )


def not_found(upload_id: str) -> NotFoundError:
    return NotFoundError("UPLOAD_NOT_FOUND", f"no upload {upload_id}", upload=upload_id)


def _uuid(upload_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(upload_id)
    except ValueError:
        raise not_found(upload_id) from None


def owner_of(db: Database, upload_id: str) -> str | None:
    """Who started the upload session (``created_by``), or None when there is none."""
    try:
        key = uuid.UUID(upload_id)
    except ValueError:
        return None
    with db.read() as s:
        return s.scalar(select(UploadRow.created_by).where(UploadRow.id == key))


def _record(row: UploadRow) -> Upload:
    return Upload(str(row.id), row.received, row.declared_size, row.created_at, row.updated_at)


# -- sessions ------------------------------------------------------------------------------


def start_upload(t: Transfers, actor: str, declared_size: int | None = None) -> Upload:
    if declared_size is not None and declared_size > t.max_blob_bytes:
        raise too_large(declared_size, t.max_blob_bytes)
    now = utcnow()
    row = UploadRow(
        id=uuid.uuid4(),
        received=0,
        declared_size=declared_size,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    with t.db.write() as s:
        s.add(row)
    return _record(row)


def get_upload(t: Transfers, upload_id: str) -> Upload:
    with t.db.read() as s:
        row = s.get(UploadRow, _uuid(upload_id))
        if row is None:
            raise not_found(upload_id)
        return _record(row)


def _segments(t: Transfers, upload_id: str) -> list[Segment]:
    with t.db.read() as s:
        rows = s.scalars(
            select(UploadPartRow)
            .where(UploadPartRow.upload_id == _uuid(upload_id))
            .order_by(UploadPartRow.start)
        )
        return [Segment(p.start, p.size, p.key) for p in rows]


def write_chunk(
    t: Transfers, upload_id: str, start: int, length: int | None, chunks: Iterable[bytes]
) -> Upload:
    """Store the bytes ``[start, start+length)`` of an upload. ``chunks`` is read lazily, so
    every refusal (size limit, wrong offset) comes before the body is read."""
    upload = get_upload(t, upload_id)
    _check_chunk_fits(t, upload, start, length)
    with t.store.open_upload(upload_id) as writer:
        upload = get_upload(t, upload_id)  # again, now that no other writer can move it
        if start != upload.received:
            raise out_of_order(upload_id, upload.received)
        hasher = t.hashes.take(upload_id, start) or (Hasher() if start == 0 else None)
        body = _limited(chunks, start, length, upload.declared_size, t.max_blob_bytes)
        try:
            segments = writer.append(start, hashing_alongside(body, hasher) if hasher else body)
        except UploadGapError as gap:
            _rewind(t, upload_id, gap.size)
            raise out_of_order(upload_id, gap.size) from None
        written = sum(seg.size for seg in segments)
        if length is not None and written != length:
            raise InvalidInputError(
                "SIZE_INVALID",
                f"Content-Range announced {length} bytes but the body had {written}",
                expected=length,
                received=written,
            )
        upload = _advance(t, upload_id, start, written, segments)
        if hasher is not None:
            t.hashes.put(upload_id, hasher)
    return upload


def _check_chunk_fits(t: Transfers, upload: Upload, start: int, length: int | None) -> None:
    if start != upload.received:
        raise out_of_order(upload.id, upload.received)
    end = start + (length or 0)
    if end > t.max_blob_bytes:
        raise too_large(end, t.max_blob_bytes)
    if upload.declared_size is not None and end > upload.declared_size:
        raise InvalidInputError(
            "SIZE_INVALID",
            f"chunk ends at byte {end}, past the declared size {upload.declared_size}",
            declared_size=upload.declared_size,
        )


def _limited(
    chunks: Iterable[bytes], start: int, length: int | None, declared: int | None, limit: int
) -> Iterator[bytes]:
    """Pass ``chunks`` through, stopping before the first byte beyond what was announced."""
    end = start
    for chunk in chunks:
        end += len(chunk)
        if length is not None and end - start > length:
            raise InvalidInputError(
                "SIZE_INVALID", f"the body is longer than the {length} bytes announced"
            )
        if declared is not None and end > declared:
            raise InvalidInputError(
                "SIZE_INVALID", f"the upload is longer than its declared size {declared}"
            )
        if end > limit:
            raise too_large(end, limit)
        yield chunk


def _advance(
    t: Transfers, upload_id: str, start: int, written: int, segments: list[Segment]
) -> Upload:
    with t.db.write() as s:
        row = s.scalars(
            select(UploadRow).where(UploadRow.id == _uuid(upload_id)).with_for_update()
        ).first()
        if row is None:
            raise not_found(upload_id)  # cancelled or collected while the chunk streamed
        if row.received != start:
            raise out_of_order(upload_id, row.received)  # another writer won (S3: no lock)
        row.received = start + written
        row.updated_at = utcnow()
        s.add_all(
            UploadPartRow(upload_id=row.id, start=seg.offset, size=seg.size, key=seg.key)
            for seg in segments
        )
        s.flush()
        return _record(row)


def _rewind(t: Transfers, upload_id: str, size: int) -> None:
    """The store holds only ``size`` bytes (a crash lost the rest): make the session agree."""
    log.warning("upload %s: store holds only %d bytes; resuming from there", upload_id, size)
    t.hashes.drop(upload_id)
    with t.db.write() as s:
        row = s.get(UploadRow, _uuid(upload_id), with_for_update=True)
        if row is not None and row.received > size:
            row.received = size
            s.execute(
                delete(UploadPartRow).where(
                    UploadPartRow.upload_id == row.id, UploadPartRow.start >= size
                )
            )


def commit_upload(t: Transfers, upload_id: str, digest: str, size: int | None = None) -> Blob:
    """Turn the session's bytes into blob ``digest``: DIGEST_INVALID (and the session is
    dropped) when they hash differently, SIZE_INVALID when the length is not the one given."""
    check_digest(digest)
    upload = get_upload(t, upload_id)
    _check_final_size(upload, size)
    segments = _segments(t, upload_id)
    try:
        actual = _digest_of(t, upload, segments)
        if not same_digest(actual, digest):
            cancel_upload(t, upload_id)
            raise InvalidInputError(
                "DIGEST_INVALID",
                f"the uploaded bytes hash to {actual}, not {digest}",
                expected=digest,
                actual=actual,
            )
        staged = t.store.stage(upload_id, segments, digest, upload.received)
    except UploadGapError as gap:
        _rewind(t, upload_id, gap.size)
        raise out_of_order(upload_id, gap.size) from None
    blob = blobs.register(t.db, t.store, staged, upload_id)
    t.hashes.drop(upload_id)
    _forget_bytes(t.store, upload_id)
    return blob


def _check_final_size(upload: Upload, size: int | None) -> None:
    for expected in (size, upload.declared_size):
        if expected is not None and expected != upload.received:
            raise InvalidInputError(
                "SIZE_INVALID",
                f"upload {upload.id} holds {upload.received} bytes, not {expected}",
                expected=expected,
                received=upload.received,
            )


def _digest_of(t: Transfers, upload: Upload, segments: list[Segment]) -> str:
    hasher = t.hashes.take(upload.id, upload.received)
    if hasher is None:
        log.info("upload %s: hash state not in this process; re-reading the bytes", upload.id)
        hasher = Hasher()
        for piece in t.store.read_upload(upload.id, segments, upload.received):
            hasher.update(piece)
    return hasher.digest


def cancel_upload(t: Transfers, upload_id: str) -> None:
    with t.db.write() as s:
        gone = s.execute(delete(UploadRow).where(UploadRow.id == _uuid(upload_id)))
        if not gone.rowcount:  # type: ignore[attr-defined]
            raise not_found(upload_id)
    t.hashes.drop(upload_id)
    _forget_bytes(t.store, upload_id)


def _forget_bytes(store: BlobStore, upload_id: str) -> None:
    """Best effort: GC removes whatever a failure here leaves behind."""
    try:
        store.delete_upload(upload_id)
    except Exception:
        log.warning("could not delete the stored bytes of upload %s", upload_id, exc_info=True)


# -- single request ------------------------------------------------------------------------


def put_blob(t: Transfers, digest: str, length: int | None, chunks: Iterable[bytes]) -> Blob:
    """Store a whole blob sent in one request. A blob the server holds already is not read
    again. The bytes go through an anonymous upload area (GC removes it if the server dies)."""
    check_digest(digest)
    if length is not None and length > t.max_blob_bytes:
        raise too_large(length, t.max_blob_bytes)
    existing = blobs.held(t.db, digest, t.refresh_after)
    if existing is not None:
        return existing
    upload_id = str(uuid.uuid4())
    try:
        return _put_through(t, upload_id, digest, chunks, length)
    finally:
        _forget_bytes(t.store, upload_id)


def _put_through(
    t: Transfers, upload_id: str, digest: str, chunks: Iterable[bytes], length: int | None
) -> Blob:
    hasher = Hasher()
    with t.store.open_upload(upload_id) as writer:
        body = _limited(chunks, 0, length, None, t.max_blob_bytes)
        segments = writer.append(0, hashing(body, hasher))
    if length is not None and hasher.size != length:
        raise InvalidInputError(
            "SIZE_INVALID",
            f"Content-Length announced {length} bytes but the body had {hasher.size}",
            expected=length,
            received=hasher.size,
        )
    if not same_digest(hasher.digest, digest):
        raise InvalidInputError(
            "DIGEST_INVALID",
            f"the uploaded bytes hash to {hasher.digest}, not {digest}",
            expected=digest,
            actual=hasher.digest,
        )
    staged = t.store.stage(upload_id, segments, digest, hasher.size)
    return blobs.register(t.db, t.store, staged)


# -- batches -------------------------------------------------------------------------------


def batch_body_limit() -> int:
    """The longest batch body the limits allow: bytes, one header and padding per blob, the
    end marker and a tar record's worth of trailing zeros."""
    return MAX_BATCH_BYTES + MAX_BATCH_BLOBS * 1024 + 10240


def put_batch(t: Transfers, length: int | None, chunks: Iterable[bytes]) -> list[Blob]:
    """Store every blob of a batch body (a tar stream, ``domain/batches.py``), or none: a
    member whose bytes do not hash to its name is DIGEST_INVALID and nothing is kept."""
    if length is not None and length > batch_body_limit():
        raise _batch_too_large(f"a batch body of {length} bytes")
    members: list[tuple[str, int]] = []
    held = 0  # bytes of the members so far
    with t.store.open_batch() as batch:
        for member in read_batch(chunks):
            _check_batch_room(t, len(members), held, member.size)
            hasher = Hasher()
            batch.add(hashing(member.chunks, hasher))
            if not same_digest(hasher.digest, member.digest):
                raise InvalidInputError(
                    "DIGEST_INVALID",
                    f"batch member {member.index} hashes to {hasher.digest}, not {member.digest}",
                    member=member.index,
                    expected=member.digest,
                    actual=hasher.digest,
                )
            members.append((member.digest, hasher.size))
            held += hasher.size
        created = batch.publish(members)
    return blobs.register_many(t.db, t.store, members, created)


def _check_batch_room(t: Transfers, count: int, held: int, size: int) -> None:
    """Room for one more member of ``size`` bytes after ``count`` members of ``held`` bytes."""
    if size > t.max_blob_bytes:
        raise too_large(size, t.max_blob_bytes)
    if count >= MAX_BATCH_BLOBS:
        raise _batch_too_large(f"more than {MAX_BATCH_BLOBS} blobs")
    if held + size > MAX_BATCH_BYTES:
        raise _batch_too_large(f"more than {MAX_BATCH_BYTES} bytes of blobs")


def _batch_too_large(what: str) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        "PAYLOAD_TOO_LARGE",
        f"{what}: a batch holds at most {MAX_BATCH_BLOBS} blobs and {MAX_BATCH_BYTES} bytes",
        max_blobs=MAX_BATCH_BLOBS,
        max_bytes=MAX_BATCH_BYTES,
    )
