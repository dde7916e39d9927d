"""Push's moving parts: finding and hashing local files, uploading blobs.

Small blobs (up to ``BATCH_BLOB`` bytes) travel many to a request: ``batches`` groups them into
tar streams of up to ``BATCH_BLOBS`` blobs or ``BATCH_BYTES`` bytes (``POST /blobs/batch``,
domain/batches.py), streamed from the files. A blob up to ``chunk_size`` goes in one ``PUT``; a
larger one in an upload session, chunk by chunk, each chunk streamed from the file in
``PIECE``-sized pieces (memory stays flat whatever the file's size). When the connection drops
or the server answers 503 or UPLOAD_BUSY, the uploader asks the session where it stands and
sends the rest from there.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any, TypeVar

from modelyard.client._errors import ConnectionFailed
from modelyard.client._http import Http
from modelyard.client._progress import Advance
from modelyard.domain.batches import END, MEDIA_TYPE, member_header, padding
from modelyard.domain.digests import Hasher
from modelyard.domain.errors import (
    ModelyardError,
    NotFoundError,
    RangeNotSatisfiableError,
    UnavailableError,
)
from modelyard.readahead import ReadAhead

CHUNK = 64 * 1024 * 1024
PIECE = 1024 * 1024
BATCH_BLOB = 4 * 1024 * 1024  # blobs up to this size go in batches
BATCH_BLOBS = 256  # per batch request (the server takes up to 1,000)
BATCH_MIN = 16  # blobs per batch, when there are that many, however many workers there are
BATCH_BYTES = 32 * 1024 * 1024  # of blob bytes per batch request (the server takes 256 MiB)
ATTEMPTS = 5
BACKOFF = 0.5  # seconds, doubled after each failed attempt
T = TypeVar("T")


def local_files(root: Path) -> list[tuple[str, Path]]:
    """``(artifact path, file)`` for a file, or for every file under a directory (sorted;
    symbolic links to files are followed, links to directories are not)."""
    if root.is_file():
        return [(root.name, root)]
    if not root.is_dir():
        raise FileNotFoundError(f"no such file or directory: {root}")
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    if not found:
        raise FileNotFoundError(f"{root} holds no files")
    return found


def hash_file(path: Path, advance: Advance) -> str:
    """The file's digest. Past its first whole piece the page cache is filled ahead of the
    reads (``modelyard.readahead``): a big file written long ago is read from the disk."""
    hasher = Hasher()
    with path.open("rb") as f:
        ahead = ReadAhead(f.fileno(), 0, None)
        while piece := f.read(PIECE):
            hasher.update(piece)
            advance(len(piece))
            if len(piece) == PIECE:
                ahead.passed(len(piece))
    return hasher.digest


def retryable(exc: ModelyardError) -> bool:
    """Worth another try: no answer, a server or store briefly unavailable, a busy upload."""
    return isinstance(exc, ConnectionFailed | UnavailableError) or exc.code == "UPLOAD_BUSY"


def with_retries(attempt: Callable[[], T]) -> T:
    for n in range(ATTEMPTS):
        try:
            return attempt()
        except ModelyardError as exc:
            if not retryable(exc) or n == ATTEMPTS - 1:
                raise
            time.sleep(BACKOFF * 2**n)
    raise AssertionError("unreachable")


class _Counted:
    """Reads ``[start, stop)`` of a file in pieces, counting what it hands out."""

    def __init__(self, f: IO[bytes], start: int, stop: int, advance: Advance) -> None:
        self.f, self.start, self.stop, self.advance = f, start, stop, advance
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        self.f.seek(self.start)
        left = self.stop - self.start
        while left > 0:
            piece = self.f.read(min(PIECE, left))
            if not piece:
                raise OSError(f"{self.f.name} shrank while it was being pushed")
            left -= len(piece)
            self.sent += len(piece)
            self.advance(len(piece))
            yield piece


Source = tuple[str, Path, int]  # digest, file, size


def batches(sources: list[Source], workers: int = 1) -> list[list[Source]]:
    """Group small blobs into batch requests, in the order given: at least ``workers`` of
    them when there are enough blobs, so that every connection has one to send."""
    per_batch = max(BATCH_MIN, min(BATCH_BLOBS, -(-len(sources) // max(1, workers))))
    groups: list[list[Source]] = []
    size = 0
    for source in sources:
        if not groups or len(groups[-1]) >= per_batch or size + source[2] > BATCH_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(source)
        size += source[2]
    return groups


class _Batch:
    """The tar stream of a batch, read from the files as it is sent, counting what it sent."""

    def __init__(self, members: list[Source], advance: Advance) -> None:
        self.members, self.advance = members, advance
        self.sent = 0

    @property
    def length(self) -> int:
        return sum(512 + size + len(padding(size)) for _, _, size in self.members) + len(END)

    def __iter__(self) -> Iterator[bytes]:
        """In pieces of about ``PIECE`` bytes: each item is a write to the socket and a trip
        through httpx and h11, so a header, the bytes and the padding of every small file
        apart cost more than the bytes did."""
        parts: list[bytes] = []
        held = 0
        for digest, path, size in self.members:
            parts.append(member_header(digest, size))
            with path.open("rb") as f:
                parts.extend(_Counted(f, 0, size, self._count))
            parts.append(padding(size))
            held += 512 + size + len(parts[-1])
            if held >= PIECE:
                yield b"".join(parts)
                parts, held = [], 0
        parts.append(END)
        yield b"".join(parts)

    def _count(self, n: int) -> None:
        self.sent += n
        self.advance(n)


def _bytes_headers(length: int) -> dict[str, str]:
    return {"Content-Type": "application/octet-stream", "Content-Length": str(length)}


class Uploader:
    def __init__(self, http: Http, chunk_size: int = CHUNK) -> None:
        self.http = http
        self.chunk_size = chunk_size

    def upload_batch(self, members: list[Source], advance: Advance) -> None:
        """Send small blobs in one request (all or none is kept; retried whole)."""

        def attempt() -> None:
            body = _Batch(members, advance)
            headers = {"Content-Type": MEDIA_TYPE, "Content-Length": str(body.length)}
            try:
                self.http.send("POST", "/api/v1/blobs/batch", content=body, headers=headers)
            except ModelyardError:
                advance(-body.sent)  # this attempt's bytes will be sent again
                raise

        with_retries(attempt)

    def upload(self, digest: str, path: Path, size: int, advance: Advance) -> None:
        if size <= self.chunk_size:
            self._put(digest, path, size, advance)
        else:
            self._session(digest, path, size, advance)

    def _put(self, digest: str, path: Path, size: int, advance: Advance) -> None:
        with path.open("rb") as f:

            def attempt() -> None:
                body = _Counted(f, 0, size, advance)
                try:
                    self.http.send(
                        "PUT", f"/api/v1/blobs/{digest}", content=body, headers=_bytes_headers(size)
                    )
                except ModelyardError:
                    advance(-body.sent)  # this attempt's bytes will be sent again
                    raise

            with_retries(attempt)

    def _session(self, digest: str, path: Path, size: int, advance: Advance) -> None:
        upload = self._start(size)
        self._send(upload, path, size, advance, lambda: False)
        self._commit(upload, digest, size)

    def upload_unhashed(
        self,
        path: Path,
        size: int,
        hashed: Future[str],
        wanted: Callable[[str], bool],
        advance: Advance,
    ) -> bool:
        """Send a big file in an upload session while its digest is still being computed
        (``hashed``, on another thread), so that hashing and sending overlap. Before each
        chunk, once the digest is known, ``wanted(digest)`` decides (once) whether this upload
        goes on: when it does not (the server holds the blob, or another upload of this push
        sends the same bytes) the session is cancelled and the rest of the file counted as
        held. Otherwise the session is committed with the digest: the server checks the bytes
        against it as for any upload. True when committed."""
        upload = self._start(size)
        verdict: list[bool] = []

        def enough() -> bool:
            if not verdict and hashed.done():
                verdict.append(wanted(hashed.result()))
            return bool(verdict) and not verdict[0]

        try:
            offset = self._send(upload, path, size, advance, enough)
            if not verdict:
                verdict.append(wanted(hashed.result()))
        except BaseException:
            self._abandon(upload)
            raise
        if verdict[0]:
            self._commit(upload, hashed.result(), size)
            return True
        self._cancel(upload)
        advance(size - offset)  # held already: counted as for a file not sent
        return False

    def _start(self, size: int) -> str:
        started = with_retries(
            lambda: self.http.send("POST", "/api/v1/blobs/uploads", json={"size": size})
        )
        return f"/api/v1/blobs/uploads/{started.json()['id']}"

    def _send(
        self, upload: str, path: Path, size: int, advance: Advance, enough: Callable[[], bool]
    ) -> int:
        """Send the file in chunks from the start, resuming from the session's offset after
        a failure, until it is all sent or ``enough()`` says so before a chunk; the bytes the
        session holds."""
        offset, failures = 0, 0
        with path.open("rb") as f:
            while offset < size and not enough():
                stop = min(offset + self.chunk_size, size)
                body = _Counted(f, offset, stop, advance)
                try:
                    reply = self.http.send(
                        "PATCH",
                        upload,
                        content=body,
                        headers={
                            **_bytes_headers(stop - offset),
                            "Content-Range": f"bytes {offset}-{stop - 1}/*",
                        },
                    )
                    now, failures = int(reply.json()["received"]), 0
                except ModelyardError as exc:
                    failures += 1
                    if failures >= ATTEMPTS:
                        raise
                    now = self._where(upload, exc, failures)
                advance(now - offset - body.sent)  # un-count what did not arrive
                offset = now
        return offset

    def _cancel(self, upload: str) -> None:
        with contextlib.suppress(NotFoundError):  # gone already (collected)
            with_retries(lambda: self.http.send("DELETE", upload))

    def _abandon(self, upload: str) -> None:
        """Best effort, once, on the way out of a failed upload: the server's collection of
        stale sessions removes what this leaves."""
        with contextlib.suppress(ModelyardError):
            self.http.send("DELETE", upload)

    def _where(self, upload: str, exc: ModelyardError, failures: int) -> int:
        """After a failed chunk: how many bytes the session holds."""
        if isinstance(exc, RangeNotSatisfiableError):
            return int(exc.details["received"])
        if not retryable(exc):
            raise exc
        time.sleep(BACKOFF * 2 ** (failures - 1))
        return int(with_retries(lambda: self.http.send("GET", upload)).json()["received"])

    def _commit(self, upload: str, digest: str, size: int) -> None:
        body: dict[str, Any] = {"digest": digest, "size": size}
        try:
            with_retries(lambda: self.http.send("POST", upload + "/commit", json=body))
        except NotFoundError as exc:
            # A commit that succeeded but whose answer was lost: the session is gone and the
            # blob is there.
            if exc.code != "UPLOAD_NOT_FOUND" or self.missing([digest]):
                raise

    def missing(self, digests: list[str]) -> list[str]:
        lacking: list[str] = []
        for i in range(0, len(digests), 10_000):
            lacking += self._missing_batch(digests[i : i + 10_000])
        return lacking

    def _missing_batch(self, batch: list[str]) -> list[str]:
        body = {"digests": batch}
        reply = with_retries(lambda: self.http.send("POST", "/api/v1/blobs/missing", json=body))
        return [str(d) for d in reply.json()["missing"]]
