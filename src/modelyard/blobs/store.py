"""The ``BlobStore`` contract every backend (local disk, S3) implements, method by method.

A blob store holds two kinds of bytes (the tree is drawn in ``layout.py``):

- **blobs**, named by their digest, written once and never changed;
- **uploads**, the bytes of upload sessions in progress, which survive a server restart.

The store never decides whether bytes are right: the upload service hashes every byte as it
streams past and compares digests before it asks the store to ``stage`` and ``publish``. The
store's promises are about durability and atomicity instead:

- a blob key only ever holds complete bytes (temp file + fsync + rename; S3 objects are atomic);
- ``publish`` is create-once: if the blob exists already, that is success and nothing is
  overwritten (the existing bytes are the same, being named by their digest);
- vendor errors (``OSError``, botocore) never leave a backend: they become
  ``BLOB_STORE_UNAVAILABLE`` (503), ``BLOB_NOT_FOUND`` (404) or ``UPLOAD_BUSY`` (409).

Writing a blob is two steps so that the slow part runs outside any database lock:
``stage`` (slow: fsync; S3: assemble the parts) then ``publish`` (fast: rename; S3: complete the
multipart upload). Every ``stage`` ends in exactly one ``publish`` or ``discard``.

Many small blobs go through a **batch** instead (``open_batch``): their bytes land in one scratch
area and are made durable and published together, so the per-blob costs of a session (a
directory, a lock, a file sync and a directory sync each; S3: part objects and a multipart
upload each) are paid once per batch where the medium allows it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from modelyard.domain.errors import ConflictError, NotFoundError, UnavailableError

log = logging.getLogger("modelyard.blobs")

READ_CHUNK = 1024 * 1024  # bytes per piece when streaming a blob out


@dataclass(frozen=True)
class BlobInfo:
    digest: str
    size: int
    modified: datetime


@dataclass(frozen=True)
class UploadInfo:
    upload_id: str
    modified: datetime


@dataclass(frozen=True)
class Segment:
    """A run of upload bytes as the backend stored it: ``size`` bytes from ``offset``.
    ``key`` is the backend's name for them (an S3 part object; the data file on disk)."""

    offset: int
    size: int
    key: str


@dataclass
class Staged:
    """A blob ready to publish. ``state`` is private to the backend that made it."""

    upload_id: str
    digest: str
    size: int
    state: dict[str, Any] = field(default_factory=dict)


class UploadGapError(Exception):
    """The store holds fewer bytes for an upload than the session recorded (a crash lost
    unsynced bytes). ``size`` is what it does hold; the client resumes from there."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the upload holds only {size} bytes")
        self.size = size


class UploadWriter(Protocol):
    def append(self, offset: int, chunks: Iterable[bytes]) -> list[Segment]:
        """Write ``chunks`` at ``offset``, replacing anything stored past ``offset`` (the
        leftovers of a failed earlier attempt). Returns the segments written. Raises
        ``UploadGapError`` when fewer than ``offset`` bytes are stored. If ``chunks`` raises
        (client gone), the exception propagates and the stored bytes past ``offset`` do not
        count: the session, not the store, says how many bytes were received."""
        ...


class BatchWriter(Protocol):
    def add(self, chunks: Iterable[bytes | memoryview]) -> int:
        """Store one more blob's bytes in the batch's scratch area (not durable yet); returns
        how many bytes there were. If ``chunks`` raises, the exception propagates."""
        ...

    def publish(self, members: list[tuple[str, int]]) -> list[bool]:
        """Make the blobs added so far durable and publish the i-th added as blob
        ``members[i] = (digest, size)``, create-once. The caller has verified every digest.
        Returns, per member, True if written now, False if the blob existed (or an earlier
        member of the batch wrote it). Returns only when every blob is durable."""
        ...


class BlobStore(Protocol):
    """Contract for blob storage backends. All methods are blocking; call them from a thread."""

    url: str

    def stat(self, digest: str) -> BlobInfo | None:
        """Size and modification time of the blob, or None when it is absent."""
        ...

    def read(self, digest: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        """The bytes ``[start, stop)`` of the blob in pieces of about ``READ_CHUNK`` bytes.
        Raises ``BLOB_NOT_FOUND`` at call time (before the first piece) when absent."""
        ...

    def delete(self, digest: str) -> None:
        """Remove the blob. Deleting an absent blob is not an error."""
        ...

    def list_blobs(self) -> Iterator[BlobInfo]:
        """Every blob in the store, in no particular order (GC uses this to find orphans)."""
        ...

    def open_upload(self, upload_id: str) -> AbstractContextManager[UploadWriter]:
        """Exclusive write access to one upload's bytes while the block runs. A second writer
        of the same upload gets ``UPLOAD_BUSY`` where the backend cannot let both write safely."""
        ...

    def open_batch(self) -> AbstractContextManager[BatchWriter]:
        """A scratch area for a batch of blobs written together while the block runs. What
        was not published is removed when the block ends (and by GC after a crash)."""
        ...

    def read_upload(self, upload_id: str, segments: list[Segment], size: int) -> Iterator[bytes]:
        """The first ``size`` bytes of an upload, as recorded by ``segments`` (to re-hash an
        upload whose hash state was lost with a restart)."""
        ...

    def stage(self, upload_id: str, segments: list[Segment], digest: str, size: int) -> Staged:
        """Make the first ``size`` bytes of the upload durable and ready to become blob
        ``digest``. The caller has verified the digest. May hold a lock until publish/discard."""
        ...

    def publish(self, staged: Staged) -> bool:
        """Atomically make the staged bytes blob ``staged.digest``. True if written now,
        False if the blob existed (create-once: the existing one is kept)."""
        ...

    def discard(self, staged: Staged) -> None:
        """Release a staged blob that will not be published. Safe to call after publish."""
        ...

    def delete_upload(self, upload_id: str) -> None:
        """Remove whatever is stored for the upload. Absent uploads are not an error."""
        ...

    def list_uploads(self) -> Iterator[UploadInfo]:
        """Every upload with stored bytes and when it last changed (GC finds orphans)."""
        ...

    def sweep(self, older_than: datetime) -> int:
        """Remove backend leftovers older than ``older_than`` that no session can own (S3:
        multipart uploads a crash left open). Returns how many were removed."""
        ...

    def close(self) -> None:
        """Release connections and file handles."""
        ...


def blob_not_found(digest: str) -> NotFoundError:
    return NotFoundError("BLOB_NOT_FOUND", f"no blob {digest}", digest=digest)


def store_unavailable(what: str, exc: BaseException) -> UnavailableError:
    # The vendor's message may name hosts or paths; it goes to the log, not to the client.
    log.warning("blob store failed to %s: %r", what, exc)
    return UnavailableError(
        "BLOB_STORE_UNAVAILABLE", f"the blob store failed to {what}", reason=type(exc).__name__
    )


def upload_busy(upload_id: str) -> ConflictError:
    return ConflictError(
        "UPLOAD_BUSY", f"upload {upload_id} is being written by another request", upload=upload_id
    )
