"""Pull's moving parts: fetching blobs into the local cache, verified, and placing files.

A blob is downloaded into ``<cache>/partial/<hex>`` while being hashed; when the connection
drops, the next attempt (or the next pull) asks for the rest with ``Range: bytes=N-``. Only a
blob whose digest matches moves into the cache; a mismatch deletes the partial file and raises
``DigestMismatch``. Files then reach the destination through a temporary name and a rename, so
a destination file is never half-written: a blob just downloaded is hard-linked there (its
bytes are written to disk once), a blob from an earlier pull or a second file with the same
bytes is copied (so no two of the user's files share one inode).

On Linux, a big blob's partial file is given its full length before the first byte is
written, so that a helper thread can have the kernel fill its page cache ahead of the writer
(``_Prefault``): on a virtual machine whose free memory went back to the host, a page touched
for the first time costs a fault in the host, and a 1 GiB write spent most of its time there,
on the thread that also reads the socket. The number of bytes really received is kept next to
it in ``partial/<hex>.received`` (the file's length says nothing until the end); a partial
file without one (a small blob's, an older client's) has received exactly its length.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from modelyard.client._bodies import Body
from modelyard.client._cache import LocalCache
from modelyard.client._errors import ClientError
from modelyard.client._http import Http
from modelyard.client._progress import Advance
from modelyard.client._upload import PIECE, with_retries
from modelyard.domain.batches import read_batch
from modelyard.domain.digests import Hasher, hex_of, same_digest
from modelyard.domain.manifests import Artifact

DIRECT_MIN = 8 * 1024 * 1024  # blobs this big get a connection of their own (_bodies.py)
BUFFER = 4 * 1024 * 1024  # bytes read, hashed and written at a time
# Page cache filled ahead of the writer this much at a time. The kernel cuts a readahead hint
# to the device's readahead window (read_ahead_kb, or its largest I/O: 8 MiB on the benchmark
# machine, as little as 128 KiB elsewhere, where the writer then fills the rest itself); each
# hint is a trip through the GIL, and 128 KiB steps (8,192 per GiB) cost more than they saved.
PREFAULT_STEP = 2 * 1024 * 1024
PREFAULT_AHEAD = 64 * 1024 * 1024  # ... and at most this far ahead of it
PREFAULT = sys.platform == "linux" and hasattr(os, "posix_fadvise")
RECEIVED_WIDTH = 20  # digits of the count in partial/<hex>.received (rewritten in place)


class DigestMismatch(ClientError):
    """Downloaded bytes do not hash to the digest the manifest names (nothing was kept)."""

    CODE = "DIGEST_MISMATCH"


class UnsafePath(ClientError):
    """A manifest path would land outside the destination (through a symbolic link there)."""

    CODE = "UNSAFE_PATH"


class Downloader:
    def __init__(self, http: Http, cache: LocalCache) -> None:
        self.http = http
        self.cache = cache

    def fetch(self, digest: str, size: int, advance: Advance) -> tuple[Path, bool]:
        """The cached blob, downloaded first if the cache lacks it; True if downloaded now."""
        if self.cache.has(digest):
            advance(size)
            return self.cache.blob(digest), False
        hasher = with_retries(lambda: self._resume(digest, size, advance))
        part = self.cache.partial(digest)
        _received_path(part).unlink(missing_ok=True)
        if hasher.size != size or not same_digest(hasher.digest, digest):
            part.unlink(missing_ok=True)
            raise DigestMismatch(
                f"downloaded {hasher.size} bytes hashing to {hasher.digest}, "
                f"expected {size} bytes of {digest}",
                expected=digest,
                actual=hasher.digest,
            )
        return self.cache.keep(digest), True

    def has_partial(self, digest: str) -> bool:
        return self.cache.partial(digest).exists()

    def fetch_many(self, sizes: dict[str, int], advance: Advance) -> dict[str, tuple[Path, bool]]:
        """``fetch`` for many small blobs: those the cache lacks come in one request (a tar
        stream, ``POST /blobs/fetch``), each verified; retried for the ones still missing."""
        got: dict[str, tuple[Path, bool]] = {}
        for digest, size in sizes.items():
            if self.cache.has(digest):
                advance(size)
                got[digest] = (self.cache.blob(digest), False)

        def attempt() -> None:
            wanted = [d for d in sizes if d not in got]
            if wanted:
                body = {"digests": wanted}
                with self.http.stream("POST", "/api/v1/blobs/fetch", json=body) as response:
                    self._unpack(response.iter_bytes(), wanted, sizes, advance, got)

        with_retries(attempt)
        return got

    def _unpack(
        self,
        stream: Iterator[bytes],
        wanted: list[str],
        sizes: dict[str, int],
        advance: Advance,
        got: dict[str, tuple[Path, bool]],
    ) -> None:
        members = read_batch(stream)
        with self.cache.batch_area() as area:  # what a failure leaves there goes with it
            for digest in wanted:
                member = next(members, None)
                if member is None or member.digest != digest or member.size != sizes[digest]:
                    raise DigestMismatch(
                        f"the server sent {member.digest if member else 'nothing'} for {digest}",
                        expected=digest,
                        actual=member.digest if member else "",
                    )
                hasher = Hasher()
                path = area / hex_of(digest)
                with path.open("wb") as f:
                    for piece in member.chunks:
                        f.write(piece)
                        hasher.update(piece)
                        advance(len(piece))
                if not same_digest(hasher.digest, digest):
                    raise DigestMismatch(
                        f"downloaded bytes hashing to {hasher.digest}, expected {digest}",
                        expected=digest,
                        actual=hasher.digest,
                    )
                got[digest] = (self.cache.keep(digest, path), True)

    def _resume(self, digest: str, size: int, advance: Advance) -> Hasher:
        """Bring the partial file to ``size`` bytes; returns the hash of all of it."""
        part = self.cache.partial(digest)
        offset = _received(part)
        if offset > size:
            offset = 0
        hasher = _hash_prefix(part, offset)
        advance(offset)
        if offset == size:  # all there already (the empty blob: nothing to fetch)
            part.touch()
            return hasher
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        big = size - offset >= DIRECT_MIN
        with (
            self.http.download(f"/api/v1/blobs/{digest}", headers, big) as body,
            part.open("r+b" if offset else "wb", buffering=0) as f,
        ):
            if offset and body.status_code != 206:  # the range was not honoured
                advance(-offset)
                hasher, offset = Hasher(), 0
            f.seek(offset)
            f.truncate()  # whatever lies past ``offset`` was never received
            if big:
                _copy_big(body, f, hasher, advance, _Received(part, offset), size)
            else:
                _received_path(part).unlink(missing_ok=True)  # the length tells again
                _copy(body, f, hasher, advance, size - offset)
        return hasher


def _copy(body: Body, f: BinaryIO, hasher: Hasher, advance: Advance, size: int) -> None:
    buffer = memoryview(bytearray(max(1, min(size, PIECE))))
    while n := body.readinto(buffer):
        hasher.update(buffer[:n])
        f.write(buffer[:n])
        advance(n)


def _copy_big(
    body: Body, f: BinaryIO, hasher: Hasher, advance: Advance, received: _Received, size: int
) -> None:
    """Body to file, hashed on the way. Reading, hashing and writing overlap: the hash of one
    buffer runs on a helper thread while the next is read and this one written (SHA-256, reads
    and writes all release the GIL). A buffer is reused only once its hash is done. The file
    has its full ``size`` from the start, its page cache filled ahead by ``_Prefault``, and
    ``received`` counts what was written; a transfer cut off leaves the file that long."""
    buffers = [memoryview(bytearray(BUFFER)) for _ in range(2)]
    hashed: list[Future[None] | None] = [None, None]
    if PREFAULT:  # elsewhere nothing fills it ahead: the file grows as it is written
        f.truncate(size)
    received.save()
    try:
        with (
            _Prefault(f.fileno(), received.count, size) as prefault,
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as pool,
        ):
            for turn in itertools.count():
                i = turn % 2
                if (pending := hashed[i]) is not None:
                    pending.result()
                n = _fill(body, buffers[i])
                if n == 0:
                    break
                piece = buffers[i][:n]
                hashed[i] = pool.submit(hasher.update, piece)
                f.write(piece)
                received.add(n)
                prefault.written(received.count)
                advance(n)
            for pending in hashed:
                if pending is not None:
                    pending.result()
    finally:
        received.close()
        if received.count != size:
            f.truncate(received.count)


class _Received:
    """The count of bytes a partial file really holds, in ``<partial>.received``."""

    def __init__(self, part: Path, count: int) -> None:
        self.count = count
        self._fd = os.open(_received_path(part), os.O_WRONLY | os.O_CREAT, 0o644)

    def add(self, n: int) -> None:
        self.count += n
        self.save()

    def save(self) -> None:
        # One write of a fixed width in place: a process killed at any point leaves either
        # the old count or the new one, and never more than the bytes written before it.
        os.pwrite(self._fd, str(self.count).zfill(RECEIVED_WIDTH).encode(), 0)

    def close(self) -> None:
        os.close(self._fd)


def _received_path(part: Path) -> Path:
    return part.with_name(part.name + ".received")


def _received(part: Path) -> int:
    """How many bytes of ``part`` were received (0 when there is none)."""
    try:
        length = part.stat().st_size
    except FileNotFoundError:
        return 0
    try:
        text = _received_path(part).read_text()
    except FileNotFoundError:
        return length
    return min(length, int(text)) if text.isdigit() else 0


class _Prefault:
    """A helper thread that has the kernel fill the page cache of ``[start, size)`` of a file
    (readahead of its not yet written, sparse part: pages of zeros, no I/O) a little ahead of
    the writer, so that the writer's ``write`` finds its pages there. Linux only: elsewhere
    (no ``posix_fadvise``) it does nothing and the writer fills them itself."""

    def __init__(self, fd: int, start: int, size: int) -> None:
        self._fd, self._next, self._size = fd, start, size
        self._written = start
        self._stop = False
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        if PREFAULT and start < size:
            self._thread = threading.Thread(target=self._run, name="prefault", daemon=True)

    def __enter__(self) -> _Prefault:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            with self._ready:
                self._stop = True
                self._ready.notify()
            self._thread.join()

    def written(self, count: int) -> None:
        if self._thread is not None:
            with self._ready:
                self._written = count
                self._ready.notify()

    def _run(self) -> None:
        while self._next < self._size:
            with self._ready:
                while not self._stop and self._next >= self._written + PREFAULT_AHEAD:
                    self._ready.wait()
                if self._stop:
                    return
            n = min(PREFAULT_STEP, self._size - self._next)
            try:
                os.posix_fadvise(self._fd, self._next, n, os.POSIX_FADV_WILLNEED)
            except OSError:  # only ever a hint
                return
            self._next += n


def _fill(body: Body, buffer: memoryview) -> int:
    """Read until ``buffer`` is full or the body ends (big writes, few hand-offs)."""
    filled = 0
    while filled < len(buffer):
        n = body.readinto(buffer[filled:])
        if n == 0:
            break
        filled += n
    return filled


def _hash_prefix(path: Path, length: int) -> Hasher:
    hasher = Hasher()
    if length:
        with path.open("rb") as f:
            while length > 0 and (piece := f.read(min(PIECE, length))):
                hasher.update(piece)
                length -= len(piece)
    return hasher


def target_of(dest: Path, artifact: Artifact) -> Path:
    """Where an artifact goes under ``dest``. Paths were checked by the manifest rules; this
    also refuses one that a symbolic link inside ``dest`` would carry elsewhere."""
    target = dest / artifact.path
    if not target.parent.resolve().is_relative_to(dest.resolve()):
        raise UnsafePath(f"{artifact.path} would be written outside {dest}", path=artifact.path)
    return target


def place(source: Path, target: Path, link: bool) -> None:
    """Put ``source``'s bytes at ``target`` atomically (temporary name in the same directory):
    a hard link when ``link`` and the file system allows it, else a copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        if not (link and _linked(source, temporary)):
            shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _linked(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
        return True
    except OSError:  # another file system, or links not allowed there
        return False
