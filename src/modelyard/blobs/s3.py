"""S3 backend (``s3://bucket/prefix``, any S3-compatible store through the endpoint setting).

- Upload bytes arrive as part objects ``uploads/<id>/<offset>-<token>`` of at most
  ``PART_BYTES`` each, spooled through a small temporary file (bounded memory). Each attempt
  writes under a fresh token, so two writers of one upload never overwrite each other's
  objects; the session row records which parts count.
- ``stage`` assembles the blob as a multipart upload of the final key, copying the parts inside
  S3 (``UploadPartCopy``) and merging parts smaller than S3's 5 MiB minimum through a spool.
  ``publish`` completes it with ``If-None-Match: *``: a blob that exists already is kept
  (create-once) and the new copy dropped. The empty blob is a ``PutObject`` of no bytes.
- A batch of small blobs is spooled to one local temporary file (bounded memory; nothing is
  left behind in S3 by a crash) and published with one ``PutObject`` per blob, with
  ``If-None-Match: *`` (create-once), several at a time.
- Integrity is our own SHA-256, computed by the upload service as bytes stream past; S3 ETags
  are never used to judge content.
- botocore and urllib3 errors are turned into ``BLOB_STORE_UNAVAILABLE`` / ``BLOB_NOT_FOUND``
  here; none leaves this module.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import IO, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError as Urllib3Error

from modelyard.blobs import layout
from modelyard.blobs.store import (
    READ_CHUNK,
    BatchWriter,
    BlobInfo,
    Segment,
    Staged,
    UploadGapError,
    UploadInfo,
    UploadWriter,
    blob_not_found,
    store_unavailable,
)

PART_BYTES = 64 * 1024 * 1024  # largest upload part object
MIN_PART = 5 * 1024 * 1024  # S3's minimum size of a multipart part (all but the last)
SPOOL_IN_MEMORY = 8 * 1024 * 1024  # spools spill to disk beyond this
BATCH_PUTS = 8  # PutObject requests in flight while a batch is published
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchUpload"}
_EXISTS = {"412", "PreconditionFailed"}
_ERRORS = (BotoCoreError, ClientError, Urllib3Error, OSError)


_SESSION_LOCK = threading.Lock()


@functools.cache
def _session() -> boto3.session.Session:
    """One boto3 session per process: making one loads the service models (~0.4 s); clients
    made from it afterwards cost milliseconds."""
    return boto3.session.Session()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    def __init__(
        self, client: Any, bucket: str, prefix: str = "", part_bytes: int = PART_BYTES
    ) -> None:
        self.client = client
        self.part_bytes = part_bytes
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")

    @classmethod
    def from_url(cls, url: str, endpoint_url: str = "") -> S3BlobStore:
        parts = urlsplit(url)
        if not parts.netloc:
            raise ValueError(f"an S3 blob URL is s3://bucket/prefix, not {url!r}")
        config = Config(
            max_pool_connections=32,
            retries={"max_attempts": 5, "mode": "standard"},
            # Checksums are ours (SHA-256); trailing CRCs trip older S3-compatible stores.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        with _SESSION_LOCK:  # boto3 sessions are not safe to share while making clients
            client = _session().client("s3", endpoint_url=endpoint_url or None, config=config)
        return cls(client, parts.netloc, parts.path)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _relative(self, key: str) -> str:
        return key[len(self.prefix) + 1 :] if self.prefix else key

    def _call(self, what: str, method: str, missing_ok: bool = False, **kwargs: Any) -> Any:
        """One S3 call with vendor errors translated; None when absent and ``missing_ok``."""
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if missing_ok and _code(exc) in _MISSING:
                return None
            raise store_unavailable(what, exc) from exc
        except _ERRORS as exc:
            raise store_unavailable(what, exc) from exc

    def _pages(self, what: str, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        try:
            paginator = self.client.get_paginator(operation)
            yield from paginator.paginate(Bucket=self.bucket, **kwargs)
        except _ERRORS as exc:
            raise store_unavailable(what, exc) from exc

    # -- blobs ---------------------------------------------------------------------------

    def stat(self, digest: str) -> BlobInfo | None:
        got = self._call("stat a blob", "head_object", True, Key=self._key(layout.blob_key(digest)))
        if got is None:
            return None
        return BlobInfo(digest, int(got["ContentLength"]), got["LastModified"])

    def read(self, digest: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        key = self._key(layout.blob_key(digest))
        if stop is not None and stop <= start:
            if self.stat(digest) is None:
                raise blob_not_found(digest)
            return iter(())
        extra = {} if start == 0 and stop is None else {"Range": _range(start, stop)}
        got = self._call("read a blob", "get_object", True, Key=key, **extra)
        if got is None:
            raise blob_not_found(digest)
        return _body_pieces(got["Body"])

    def delete(self, digest: str) -> None:
        self._call("delete a blob", "delete_object", Key=self._key(layout.blob_key(digest)))

    def list_blobs(self) -> Iterator[BlobInfo]:
        for page in self._pages("list blobs", "list_objects_v2", Prefix=self._key(layout.BLOBS)):
            for obj in page.get("Contents", []):
                digest = layout.blob_digest(self._relative(obj["Key"]))
                if digest is not None:
                    yield BlobInfo(digest, int(obj["Size"]), obj["LastModified"])

    # -- uploads -------------------------------------------------------------------------

    def open_upload(self, upload_id: str) -> AbstractContextManager[UploadWriter]:
        # No lock: every attempt writes its own part objects (fresh token) and the session's
        # conditional update decides which attempt counts.
        return nullcontext(_S3Writer(self, upload_id))

    def open_batch(self) -> AbstractContextManager[BatchWriter]:
        return self._batch()

    @contextmanager
    def _batch(self) -> Iterator[BatchWriter]:
        try:
            spool = tempfile.TemporaryFile()  # noqa: SIM115  (closed below)
        except OSError as exc:
            raise store_unavailable("open a batch", exc) from exc
        with spool:
            yield _S3Batch(self, spool)

    def put_new(self, digest: str, body: IO[bytes] | io.RawIOBase, size: int) -> bool:
        """PutObject of a whole blob, create-once: False when the blob exists already."""
        key = self._key(layout.blob_key(digest))
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body, ContentLength=size, IfNoneMatch="*"
            )
            return True
        except ClientError as exc:
            if _code(exc) in _EXISTS:
                return False
            raise store_unavailable("publish a blob", exc) from exc
        except _ERRORS as exc:
            raise store_unavailable("publish a blob", exc) from exc

    def put_part(self, key: str, body: IO[bytes], size: int) -> None:
        self._call(
            "store an upload part", "put_object", Key=self._key(key), Body=body, ContentLength=size
        )

    def read_upload(self, upload_id: str, segments: list[Segment], size: int) -> Iterator[bytes]:
        chain = _chain(segments, size)
        return self._read_chain(chain)

    def _read_chain(self, chain: list[Segment]) -> Iterator[bytes]:
        for seg in chain:
            got = self._call("read an upload part", "get_object", Key=self._key(seg.key))
            yield from _body_pieces(got["Body"])

    def stage(self, upload_id: str, segments: list[Segment], digest: str, size: int) -> Staged:
        chain = _chain(segments, size)
        staged = Staged(upload_id, digest, size)
        if self.stat(digest) is not None:
            staged.state["exists"] = True
        elif size > 0:
            key = self._key(layout.blob_key(digest))
            got = self._call("start a multipart upload", "create_multipart_upload", Key=key)
            staged.state["mpu"] = got["UploadId"]
            try:
                staged.state["parts"] = _Assembler(self, key, got["UploadId"]).run(chain)
            except BaseException:
                self.discard(staged)
                raise
        return staged

    def publish(self, staged: Staged) -> bool:
        if staged.state.get("exists"):
            return False
        key = self._key(layout.blob_key(staged.digest))
        try:
            if "mpu" not in staged.state:
                self.client.put_object(Bucket=self.bucket, Key=key, Body=b"", IfNoneMatch="*")
            else:
                self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=staged.state["mpu"],
                    MultipartUpload={"Parts": staged.state["parts"]},
                    IfNoneMatch="*",
                )
                staged.state.pop("mpu")
            return True
        except ClientError as exc:
            if _code(exc) in _EXISTS:
                return False  # create-once: the blob exists, keep it
            raise store_unavailable("publish a blob", exc) from exc
        except _ERRORS as exc:
            raise store_unavailable("publish a blob", exc) from exc
        finally:
            self.discard(staged)

    def discard(self, staged: Staged) -> None:
        mpu = staged.state.pop("mpu", None)
        if mpu is not None:
            key = self._key(layout.blob_key(staged.digest))
            self._call(
                "abort a multipart upload", "abort_multipart_upload", True, Key=key, UploadId=mpu
            )

    def delete_upload(self, upload_id: str) -> None:
        prefix = self._key(layout.upload_dir(upload_id)) + "/"
        for page in self._pages("list an upload", "list_objects_v2", Prefix=prefix):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                self._call(
                    "delete an upload", "delete_objects", Delete={"Objects": keys, "Quiet": True}
                )

    def list_uploads(self) -> Iterator[UploadInfo]:
        newest: dict[str, datetime] = {}
        prefix = self._key(layout.UPLOADS) + "/"
        for page in self._pages("list uploads", "list_objects_v2", Prefix=prefix):
            for obj in page.get("Contents", []):
                upload_id = layout.upload_id_of(self._relative(obj["Key"]))
                if upload_id is not None:
                    seen = newest.get(upload_id)
                    newest[upload_id] = (
                        max(seen, obj["LastModified"]) if seen else obj["LastModified"]
                    )
        return iter([UploadInfo(u, t) for u, t in newest.items()])

    def sweep(self, older_than: datetime) -> int:
        stale = [
            (u["Key"], u["UploadId"])
            for page in self._pages(
                "list multipart uploads", "list_multipart_uploads", Prefix=self._key(layout.BLOBS)
            )
            for u in page.get("Uploads", [])
            if u["Initiated"] < older_than
        ]
        for key, mpu in stale:
            self._call(
                "abort a multipart upload", "abort_multipart_upload", True, Key=key, UploadId=mpu
            )
        return len(stale)

    def close(self) -> None:
        self.client.close()


class _S3Writer:
    def __init__(self, store: S3BlobStore, upload_id: str) -> None:
        self.store = store
        self.upload_id = upload_id

    def append(self, offset: int, chunks: Iterable[bytes]) -> list[Segment]:
        written: list[Segment] = []
        try:
            for spool, size in _spools(chunks, self.store.part_bytes):
                at = offset + sum(s.size for s in written)
                key = layout.upload_part_key(self.upload_id, at, layout.new_part_token())
                with spool:
                    self.store.put_part(key, spool, size)
                written.append(Segment(at, size, key))
        except BaseException:
            for seg in written:  # this attempt does not count; leave nothing behind
                self.store._call(
                    "drop an upload part", "delete_object", Key=self.store._key(seg.key)
                )
            raise
        return written


class _S3Batch:
    def __init__(self, store: S3BlobStore, spool: IO[bytes]) -> None:
        self.store = store
        self.spool = spool
        self.spans: list[tuple[int, int]] = []  # (offset in the spool, size) per member
        self.end = 0

    def add(self, chunks: Iterable[bytes | memoryview]) -> int:
        start = self.end
        for chunk in chunks:  # an error of the body's own (client gone) passes through
            try:
                self.spool.write(chunk)
            except OSError as exc:
                raise store_unavailable("write a batch", exc) from exc
            self.end += len(chunk)
        self.spans.append((start, self.end - start))
        return self.end - start

    def publish(self, members: list[tuple[str, int]]) -> list[bool]:
        if len(members) != len(self.spans):
            raise ValueError(f"{len(members)} digests for {len(self.spans)} blobs")
        try:
            self.spool.flush()
        except OSError as exc:
            raise store_unavailable("publish a batch", exc) from exc
        first: dict[str, int] = {}  # a digest twice in one batch is put once
        for i, (digest, _) in enumerate(members):
            first.setdefault(digest, i)
        fd = self.spool.fileno()

        def put(i: int) -> bool:
            offset, size = self.spans[i]
            return self.store.put_new(members[i][0], _SpoolSlice(fd, offset, size), size)

        with ThreadPoolExecutor(max_workers=BATCH_PUTS) as pool:
            created = dict(zip(first.values(), pool.map(put, first.values()), strict=True))
        return [created.get(i, False) for i in range(len(members))]


class _SpoolSlice(io.RawIOBase):
    """``size`` bytes of a file from ``offset``, read with ``pread`` (so several slices of one
    file can be sent at once) and seekable (botocore rewinds a body to retry)."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self.fd, self.offset, self.size, self.at = fd, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.at

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.at, io.SEEK_END: self.size}[whence]
        self.at = min(max(base + pos, 0), self.size)
        return self.at

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self.at)
        if want <= 0:
            return 0
        data = os.pread(self.fd, want, self.offset + self.at)
        buffer[: len(data)] = data
        self.at += len(data)
        return len(data)


class _Assembler:
    """Builds the parts of a multipart upload from upload segments: a segment of at least
    ``MIN_PART`` bytes is copied inside S3; smaller ones are merged through a spool until they
    reach ``MIN_PART`` (S3 allows a small part only at the end)."""

    def __init__(self, store: S3BlobStore, key: str, mpu: str) -> None:
        self.store = store
        self.key = key
        self.mpu = mpu
        self.parts: list[dict[str, Any]] = []
        self.pending: IO[bytes] | None = None
        self.pending_size = 0

    def run(self, chain: list[Segment]) -> list[dict[str, Any]]:
        for seg in chain:
            if self.pending is None and seg.size >= MIN_PART:
                self._copy(seg)
            else:
                self._absorb(seg)
                if self.pending_size >= MIN_PART:
                    self._flush()
        if self.pending is not None:
            self._flush()
        return self.parts

    def _copy(self, seg: Segment) -> None:
        source = {"Bucket": self.store.bucket, "Key": self.store._key(seg.key)}
        got = self.store._call(
            "copy an upload part",
            "upload_part_copy",
            Key=self.key,
            UploadId=self.mpu,
            PartNumber=len(self.parts) + 1,
            CopySource=source,
        )
        self.parts.append(
            {"PartNumber": len(self.parts) + 1, "ETag": got["CopyPartResult"]["ETag"]}
        )

    def _absorb(self, seg: Segment) -> None:
        if self.pending is None:
            # closed by _flush
            self.pending = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
        for piece in self.store._read_chain([seg]):
            self.pending.write(piece)
        self.pending_size += seg.size

    def _flush(self) -> None:
        assert self.pending is not None
        with self.pending as body:
            body.seek(0)
            got = self.store._call(
                "upload a part",
                "upload_part",
                Key=self.key,
                UploadId=self.mpu,
                PartNumber=len(self.parts) + 1,
                Body=body,
                ContentLength=self.pending_size,
            )
        self.parts.append({"PartNumber": len(self.parts) + 1, "ETag": got["ETag"]})
        self.pending, self.pending_size = None, 0


def _chain(segments: list[Segment], size: int) -> list[Segment]:
    """The segments that hold bytes ``[0, size)``, in order; UploadGapError if some are lost."""
    chain, at = [], 0
    for seg in sorted(segments, key=lambda s: s.offset):
        if at >= size:
            break
        if seg.offset != at:
            raise UploadGapError(at)
        chain.append(seg)
        at += seg.size
    if at != size:
        raise UploadGapError(min(at, size))
    return chain


def _spools(chunks: Iterable[bytes], limit: int) -> Iterator[tuple[IO[bytes], int]]:
    """Group ``chunks`` into rewound spool files of about ``limit`` bytes; the consumer closes
    each one it is given, this generator closes the one it is still filling."""
    spool: IO[bytes] | None = None
    size = 0
    try:
        for chunk in chunks:
            if spool is None:
                spool, size = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY), 0  # noqa: SIM115
            spool.write(chunk)
            size += len(chunk)
            if size >= limit:
                ready, spool = spool, None
                ready.seek(0)
                yield ready, size
        if spool is not None and size:
            ready, spool = spool, None
            ready.seek(0)
            yield ready, size
    finally:
        if spool is not None:
            spool.close()


def _range(start: int, stop: int | None) -> str:
    return f"bytes={start}-" if stop is None else f"bytes={start}-{stop - 1}"


def _body_pieces(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(READ_CHUNK)
    except _ERRORS as exc:
        raise store_unavailable("stream a blob", exc) from exc
    finally:
        body.close()
