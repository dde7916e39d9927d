"""Local disk backend (``file:///path``): blobs and uploads as files under one directory.

Durability and atomicity, in order, for every blob written:

1. the bytes are appended to ``uploads/<id>/data`` as they arrive (hashed by the caller):
   where the file system takes ``O_DIRECT`` (ext4, XFS, Btrfs...), whole 4 KiB blocks go
   straight to the disk from two reused aligned buffers taking turns, and only the unaligned
   edges of each chunk through the page cache (``_write_direct``); elsewhere through the page
   cache, with the writeback started every few MiB (``sync_file_range`` on Linux);
2. ``stage`` truncates that file to the committed length and ``fsync``s it;
3. ``publish`` renames it to ``sha256/ab/<hex>`` (same file system: atomic) and ``fsync``s the
   fan-out directory, so the name survives a power cut. An existing blob wins: the staged
   file is left for ``delete_upload``. The empty blob is an empty file made the same way.

A batch (many small blobs, ``open_batch``) writes each blob to ``uploads/<batch>/<index>``,
starts the writeback of each as it is written, then fsyncs them all from several threads at
once (the kernel serves concurrent syncs with a few journal commits and cache flushes, where
syncs in a row pay one each), makes the fan-out directories it lacks (syncing ``sha256/`` once
for all of them), renames the blobs into place and fsyncs each fan-out directory it touched
once, rather than once per blob. ``uploads/`` carries ext4's ``T`` attribute so that each
batch's files get inodes where creating them is cheap (``spread_subdirectories``).

Writers of one upload exclude each other with ``flock`` on the upload's directory, and the data
file is only ever opened while that lock is held, so no writer can hold a descriptor to a file
that ``publish`` has renamed into the blob tree. The kernel drops the lock when a process dies,
so a killed server never leaves an upload locked.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import mmap
import os
import re
import shutil
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import unquote, urlsplit

from modelyard.blobs import layout
from modelyard.blobs.inodes import spread_subdirectories
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
    upload_busy,
)
from modelyard.readahead import ReadAhead


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = f"file://{self.root}"
        try:
            for sub in (layout.BLOBS, layout.UPLOADS):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise store_unavailable("create its directories", exc) from exc
        for sub in (layout.UPLOADS, layout.BLOBS):  # batch directories; fan-out directories
            spread_subdirectories(self.root / sub)

    @classmethod
    def from_url(cls, url: str, endpoint_url: str = "") -> LocalBlobStore:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ValueError(f"a local blob URL is file:///absolute/path, not {url!r}")
        return cls(Path(unquote(parts.path)))

    def _path(self, key: str) -> Path:
        return self.root / key

    # -- blobs ---------------------------------------------------------------------------

    def stat(self, digest: str) -> BlobInfo | None:
        try:
            st = self._path(layout.blob_key(digest)).stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise store_unavailable("stat a blob", exc) from exc
        return BlobInfo(digest, st.st_size, _mtime(st.st_mtime))

    def read(self, digest: str, start: int = 0, stop: int | None = None) -> Iterator[bytes]:
        try:
            f = self._path(layout.blob_key(digest)).open("rb")
            f.seek(start)
        except FileNotFoundError:
            raise blob_not_found(digest) from None
        except OSError as exc:
            raise store_unavailable("read a blob", exc) from exc
        return _pieces(f, None if stop is None else stop - start)

    def delete(self, digest: str) -> None:
        try:
            self._path(layout.blob_key(digest)).unlink(missing_ok=True)
        except OSError as exc:
            raise store_unavailable("delete a blob", exc) from exc

    def list_blobs(self) -> Iterator[BlobInfo]:
        base = self.root / layout.BLOBS
        for fan in _scandir(base):
            for entry in _scandir(Path(fan.path)):
                digest = layout.blob_digest(f"{layout.BLOBS}/{fan.name}/{entry.name}")
                if digest is not None and entry.is_file():
                    st = entry.stat()
                    yield BlobInfo(digest, st.st_size, _mtime(st.st_mtime))

    # -- uploads -------------------------------------------------------------------------

    def open_upload(self, upload_id: str) -> AbstractContextManager[UploadWriter]:
        return self._writer(upload_id)

    @contextmanager
    def _writer(self, upload_id: str) -> Iterator[UploadWriter]:
        lock = self._lock(upload_id)
        try:
            yield _LocalWriter(self._path(layout.upload_data_key(upload_id)))
        finally:
            os.close(lock)

    def _lock(self, upload_id: str) -> int:
        """Exclusive lock on the upload's directory (made if missing); returns its fd."""
        directory = self._path(layout.upload_dir(upload_id))
        try:
            directory.mkdir(exist_ok=True)
            fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise store_unavailable("open an upload", exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise upload_busy(upload_id) from None
        return fd

    def open_batch(self) -> AbstractContextManager[BatchWriter]:
        return self._batch()

    @contextmanager
    def _batch(self) -> Iterator[BatchWriter]:
        upload_id = str(uuid.uuid4())
        try:
            self._path(layout.upload_dir(upload_id)).mkdir()
        except OSError as exc:
            raise store_unavailable("open a batch", exc) from exc
        try:
            batch = _LocalBatch(self, upload_id)
        except BaseException:
            self.delete_upload(upload_id)
            raise
        try:
            yield batch
        finally:
            batch.close()
            self.delete_upload(upload_id)  # the members left: refused, or already held

    def read_upload(self, upload_id: str, segments: list[Segment], size: int) -> Iterator[bytes]:
        path = self._path(layout.upload_data_key(upload_id))
        try:
            held = path.stat().st_size if path.exists() else 0
            if held < size:
                raise UploadGapError(held)
            return _pieces(path.open("rb"), size) if size else iter(())
        except OSError as exc:
            raise store_unavailable("read an upload", exc) from exc

    def stage(self, upload_id: str, segments: list[Segment], digest: str, size: int) -> Staged:
        lock = self._lock(upload_id)
        try:
            _settle(self._path(layout.upload_data_key(upload_id)), size)
        except BaseException:
            os.close(lock)
            raise
        return Staged(upload_id, digest, size, {"lock": lock})

    def publish(self, staged: Staged) -> bool:
        try:
            target = self._path(layout.blob_key(staged.digest))
            if target.exists():
                return False
            self._make_dirs(target.parent)
            source = self._path(layout.upload_data_key(staged.upload_id))
            source.chmod(0o444)  # blobs never change; make accidents visible
            os.replace(source, target)
            _fsync_dir(target.parent)
            return True
        except OSError as exc:
            raise store_unavailable("publish a blob", exc) from exc
        finally:
            self.discard(staged)

    def discard(self, staged: Staged) -> None:
        lock = staged.state.pop("lock", None)
        if lock is not None:
            os.close(lock)

    def delete_upload(self, upload_id: str) -> None:
        try:
            shutil.rmtree(self._path(layout.upload_dir(upload_id)))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise store_unavailable("delete an upload", exc) from exc

    def list_uploads(self) -> Iterator[UploadInfo]:
        for entry in _scandir(self.root / layout.UPLOADS):
            upload_id = layout.upload_id_of(f"{layout.UPLOADS}/{entry.name}")
            if upload_id is None or not entry.is_dir():
                continue
            times = [entry.stat().st_mtime]
            data = Path(entry.path) / layout.UPLOAD_DATA
            if data.exists():
                times.append(data.stat().st_mtime)
            yield UploadInfo(upload_id, _mtime(max(times)))

    def sweep(self, older_than: datetime) -> int:
        return 0  # renames leave nothing behind

    def close(self) -> None:
        pass

    def _make_dirs(self, directory: Path) -> None:
        """mkdir -p, fsyncing each parent whose entries changed so the new names are durable."""
        missing = []
        while not directory.exists():
            missing.append(directory)
            directory = directory.parent
        for d in reversed(missing):
            try:
                d.mkdir()
            except FileExistsError:
                continue  # a concurrent publish made it
            _fsync_dir(d.parent)


class _LocalBatch:
    """Paths here are strings: pathlib's parsing cost more, per small blob, than the file
    system calls they name."""

    def __init__(self, store: LocalBlobStore, upload_id: str) -> None:
        self.root = str(store.root)
        self.upload_id = upload_id
        self.files: list[str] = []
        self.syncfs = _syncfs_for(store._path(layout.upload_dir(upload_id)))

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def add(self, chunks: Iterable[bytes | memoryview]) -> int:
        path = self._path(layout.upload_member_key(self.upload_id, len(self.files)))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except OSError as exc:
            raise store_unavailable("write a batch", exc) from exc
        self.files.append(path)
        try:
            written = _write_new(fd, chunks)
            if self.syncfs is None:  # syncfs starts every member's writeback at once
                _start_writeback(fd, 0, written)
        finally:
            os.close(fd)
        return written

    def publish(self, members: list[tuple[str, int]]) -> list[bool]:
        if len(members) != len(self.files):
            raise ValueError(f"{len(members)} digests for {len(self.files)} blobs")
        try:
            if self.syncfs is not None and self.syncfs.sync():
                return self._publish_synced_by_syncfs(self.syncfs, members)
            return self._publish_synced_by_file(members)
        except OSError as exc:
            raise store_unavailable("publish a batch", exc) from exc

    def close(self) -> None:
        if self.syncfs is not None:
            self.syncfs.close()

    def _publish_synced_by_syncfs(
        self, syncfs: _SyncFs, members: list[tuple[str, int]]
    ) -> list[bool]:
        """Bytes and inodes of every member durable (one syncfs, done by ``publish``), then
        the renames, then one more syncfs for the new names and fan-out directories."""
        targets = [self._path(layout.blob_key(d)) for d, _ in members]
        self._make_fanout_dirs(targets, sync=False)
        pairs = zip(self.files, targets, strict=True)
        created = [self._place(path, target) for path, target in pairs]
        if not syncfs.sync():
            raise OSError(errno.EIO, "syncfs stopped working between two calls")
        return created

    def _publish_synced_by_file(self, members: list[tuple[str, int]]) -> list[bool]:
        _in_parallel(_fsync_file, self.files)
        targets = [self._path(layout.blob_key(d)) for d, _ in members]
        touched = self._make_fanout_dirs(targets, sync=True)
        pairs = zip(self.files, targets, strict=True)
        created = [self._place(path, target) for path, target in pairs]
        _in_parallel(_fsync_dir, touched)
        return created

    def _make_fanout_dirs(self, targets: list[str], sync: bool) -> list[str]:
        """Make the fan-out directories of ``targets`` the batch lacks, then sync their parent
        once (a fresh store lacks most of the 256: one sync each, in a row, took longer than
        the batch's own bytes). Returns the fan-out directories, sorted."""
        touched = sorted({target.rsplit("/", 1)[0] for target in targets})
        made = False
        for directory in touched:
            if not os.path.isdir(directory):
                try:
                    os.mkdir(directory)
                    made = True
                except FileExistsError:
                    pass  # a concurrent publish made it (and syncs its parent)
        if made and sync:
            _fsync_dir(self._path(layout.BLOBS))
        return touched

    def _place(self, path: str, target: str) -> bool:
        if os.path.exists(target):
            return False  # held already, or an earlier member of this batch
        os.replace(path, target)
        return True


SYNC_THREADS = 32


@functools.cache
def _sync_pool() -> ThreadPoolExecutor:
    """The threads that sync batches, shared by all of them and kept for the process's life:
    a pool made per call started up to 16 threads twice per batch, which cost more CPU than
    the syncs themselves when eight batches arrived at once (py-spy: ``submit``)."""
    return ThreadPoolExecutor(max_workers=SYNC_THREADS, thread_name_prefix="modelyard-sync")


def _in_parallel(fn: Callable[[str], None], paths: list[str]) -> None:
    """``fn`` on every path, from several threads. Syncs issued one after another each wait
    for their own device cache flush; issued together, the kernel serves them with a few:
    measured here, 500 file syncs took 0.4-1.5 s in a row and 0.05 s from 16 threads."""
    if len(paths) <= 1:
        for path in paths:
            fn(path)
        return
    pending = [_sync_pool().submit(fn, path) for path in paths]
    wait(pending)  # all of them, even after a failure: none may outlive the batch's files
    for future in pending:
        future.result()  # re-raises the first error


def _fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- syncfs ---------------------------------------------------------------------------------

# File systems whose syncfs(2) writes back every dirty page, inode and directory block and
# flushes the device cache (their ``sync_fs`` commits the journal or, without one, flushes):
# ext2/3/4, XFS, Btrfs, F2FS. tmpfs holds nothing to sync. Others (NFS, FUSE, overlay...) may
# only push pages to a server or daemon: those batches sync file by file.
_SYNCFS_FILE_SYSTEMS = frozenset({0xEF53, 0x58465342, 0x9123683E, 0xF2F52010, 0x01021994})
_SYNCFS_KERNEL = (5, 8)  # before 5.8, syncfs returned 0 even when write-back had failed
_UNAVAILABLE = (errno.ENOSYS, errno.EPERM, errno.EACCES, errno.EOPNOTSUPP)


class _StatFs(ctypes.Structure):
    _fields_ = [("f_type", ctypes.c_long), ("rest", ctypes.c_byte * 248)]


@functools.cache
def _libc_calls() -> tuple[Callable[[int], int], Callable[[bytes, Any], int]] | None:
    """Linux's syncfs(2) and statfs(2) from libc, where the kernel's syncfs reports write-back
    errors (5.8 and later); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    release = re.match(r"(\d+)\.(\d+)", os.uname().release)
    if release is None or (int(release[1]), int(release[2])) < _SYNCFS_KERNEL:
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        syncfs, statfs = libc.syncfs, libc.statfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes, syncfs.restype = [ctypes.c_int], ctypes.c_int
    statfs.argtypes = [ctypes.c_char_p, ctypes.POINTER(_StatFs)]
    statfs.restype = ctypes.c_int
    return syncfs, statfs


class _SyncFs:
    """syncfs(2) through a descriptor of a batch's directory, opened before the batch's first
    byte is written. The kernel reports through it any write-back error on the file system
    since it was opened (``errseq``), so a failed write-back of a member is never missed."""

    def __init__(self, fd: int, syncfs: Callable[[int], int]) -> None:
        self.fd: int | None = fd
        self._syncfs = syncfs

    def sync(self) -> bool:
        """True once every dirty byte, inode and directory entry of the file system is on
        disk; False if this process may not call syncfs (a seccomp filter): sync otherwise.
        OSError if the kernel reports an error.

        syncfs, then an fsync of the directory, whose only purpose is its device cache flush:
        without a journal (ext2, ext4 without one) syncfs flushes the device's cache *before*
        its last step writes the metadata that the data's write-back changed (block maps,
        sizes), so that metadata could sit in a volatile cache; fsync there always ends with
        a flush, which covers every write completed before it."""
        if self.fd is None:
            raise OSError(errno.EBADF, "the batch's syncfs handle is closed")
        if self._syncfs(self.fd) != 0:
            err = ctypes.get_errno()
            if err in _UNAVAILABLE:
                return False
            raise OSError(err, f"syncfs: {os.strerror(err)}")
        os.fsync(self.fd)
        return True

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _syncfs_for(directory: Path) -> _SyncFs | None:
    """A syncfs handle for a batch written in ``directory``, or None when this platform or file
    system must sync each file (and directory) instead."""
    calls = _libc_calls()
    if calls is None:
        return None
    syncfs, statfs = calls
    info = _StatFs()
    if statfs(os.fsencode(directory), ctypes.byref(info)) != 0:
        return None
    if info.f_type not in _SYNCFS_FILE_SYSTEMS:
        return None
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise store_unavailable("open a batch", exc) from exc
    return _SyncFs(fd, syncfs)


class _LocalWriter:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, offset: int, chunks: Iterable[bytes]) -> list[Segment]:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise store_unavailable("open an upload", exc) from exc
        direct = _open_direct(self.path)
        try:
            written = _write_at(fd, direct, offset, chunks)
        finally:
            os.close(fd)
            if direct is not None:
                os.close(direct)
        return [Segment(offset, written, layout.UPLOAD_DATA)] if written else []


def _write_new(fd: int, chunks: Iterable[bytes | memoryview]) -> int:
    """Write ``chunks`` to a file just made (empty, at offset 0): no size check, no seek."""
    return _write_from(fd, 0, chunks, "write a batch")


def _write_at(fd: int, direct: int | None, offset: int, chunks: Iterable[bytes]) -> int:
    try:
        size = os.fstat(fd).st_size
        if size < offset:
            raise UploadGapError(size)
        if size > offset:
            os.ftruncate(fd, offset)
        os.lseek(fd, offset, os.SEEK_SET)
    except OSError as exc:
        raise store_unavailable("write an upload", exc) from exc
    if direct is not None:
        return _write_direct(fd, direct, offset, chunks)
    return _write_from(fd, offset, chunks, "write an upload")


# -- direct writes --------------------------------------------------------------------------

DIRECT_ALIGN = 4096  # offsets, lengths and buffer addresses of O_DIRECT writes (any device)
DIRECT_BUFFER = 4 * 1024 * 1024  # bytes per direct write
_DIRECT_POOL_MAX = 8  # aligned buffers kept for reuse between requests
_direct_pool: list[mmap.mmap] = []
_direct_lock = threading.Lock()


def _open_direct(path: Path) -> int | None:
    """A second descriptor of the upload's data file with ``O_DIRECT``, or None where the
    platform or file system has none (tmpfs, macOS): the bytes then go through the page
    cache."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return None
    try:
        return os.open(path, os.O_WRONLY | flag)
    except OSError:
        return None


@contextmanager
def _direct_buffer() -> Iterator[mmap.mmap]:
    """A page-aligned buffer of ``DIRECT_BUFFER`` bytes (an anonymous mapping), reused across
    requests: memory touched once stays cheap to write into."""
    with _direct_lock:
        buf = _direct_pool.pop() if _direct_pool else None
    if buf is None:
        buf = mmap.mmap(-1, DIRECT_BUFFER)
    try:
        yield buf
    finally:
        with _direct_lock:
            if len(_direct_pool) < _DIRECT_POOL_MAX:
                _direct_pool.append(buf)
                buf = None
        if buf is not None:
            buf.close()


def _write_direct(fd: int, direct: int, offset: int, chunks: Iterable[bytes]) -> int:
    """Write ``chunks`` at ``offset`` around the page cache: whole aligned blocks go from
    aligned buffers through ``direct`` (``O_DIRECT``), the unaligned edges (the head up to the
    first block boundary, the tail after the last one) through ``fd``. The number of bytes
    written, all of them on their way to the disk when this returns.

    Why: writing through the page cache cost more CPU than anything else on the server's side
    of an upload (copying each byte into a page-cache page freshly handed out by the kernel,
    1.3-2 s per GiB on this VM). Direct writes copy nothing in the kernel, but each one waits
    for the disk: two buffers take turns, one filled while the other is written by a helper
    thread, so the disk is kept busy while the next bytes arrive. A file system that takes
    ``O_DIRECT`` at open but refuses a write (EINVAL) gets the rest through ``fd``."""
    pos = offset  # where the next byte goes
    held = 0  # bytes in the buffer being filled, which starts at the aligned ``pos``
    with (
        _direct_buffer() as first,
        _direct_buffer() as second,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="direct") as writer,
    ):
        views = [memoryview(first), memoryview(second)]
        filling = 0
        pending: Future[int] | None = None

        def flush(length: int) -> None:
            """Hand the buffer being filled (``length`` bytes at ``pos``) to the writer once
            the other one is written, and go on filling the other."""
            nonlocal pending, pos, held, filling
            if pending is not None:
                pending.result()
            pending = writer.submit(_pwrite_direct, fd, direct, views[filling][:length], pos)
            pos += length
            held = 0
            filling = 1 - filling

        try:
            for chunk in chunks:
                view = memoryview(chunk)
                if held == 0 and pos % DIRECT_ALIGN:
                    head = min(len(view), DIRECT_ALIGN - pos % DIRECT_ALIGN)
                    pos += _pwrite_all(fd, view[:head], pos)
                    view = view[head:]
                while view:
                    buf = views[filling]
                    n = min(len(view), len(buf) - held)
                    buf[held : held + n] = view[:n]
                    held += n
                    view = view[n:]
                    if held == len(buf):
                        flush(held)
            last, whole = filling, held - held % DIRECT_ALIGN
            tail = held - whole
            if whole:
                flush(whole)
            if tail:  # no view of a buffer may outlive it (the pool closes spare ones)
                pos += _pwrite_all(fd, views[last][whole : whole + tail], pos)
            if pending is not None:
                pending.result()
        finally:
            if pending is not None:
                wait([pending])  # the buffers go back to the pool only once written
            for view in views:
                view.release()
    return pos - offset


def _pwrite_direct(fd: int, direct: int, data: memoryview, pos: int) -> int:
    """``data`` (aligned, at an aligned ``pos``) through ``direct``; what a short or refused
    direct write left goes through ``fd``."""
    try:
        n = os.pwrite(direct, data, pos)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise store_unavailable("write an upload", exc) from exc
        n = 0
    if n < len(data):
        n += _pwrite_all(fd, data[n:], pos + n)
    return n


def _pwrite_all(fd: int, data: memoryview, pos: int) -> int:
    done = 0
    while done < len(data):
        try:
            done += os.pwrite(fd, data[done:], pos + done)
        except OSError as exc:
            raise store_unavailable("write an upload", exc) from exc
    return done


def _write_from(fd: int, offset: int, chunks: Iterable[bytes | memoryview], doing: str) -> int:
    """Write ``chunks`` where ``fd`` stands (``offset``), starting the writeback of every
    ``WRITEBACK_EVERY`` bytes; the number of bytes written."""
    written = flushed = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            try:
                n = os.write(fd, view)
            except OSError as exc:
                raise store_unavailable(doing, exc) from exc
            view = view[n:]
            written += n
        if written - flushed >= WRITEBACK_EVERY:
            _start_writeback(fd, offset + flushed, written - flushed)
            flushed = written
    return written


WRITEBACK_EVERY = 8 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """Linux's sync_file_range(2), which Python's os module does not offer; None elsewhere."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return cast(Callable[[int, int, int, int], int], fn)


def _start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing these bytes to disk now, without waiting. Without it the kernel lets
    dirty pages pile up, throttles the writer, and the fsync at commit writes everything
    at the end: measured here, a 512 MiB upload went from about dd's time to half of it."""
    fn = _sync_file_range()
    if fn is not None:
        fn(fd, offset, length, _SYNC_FILE_RANGE_WRITE)  # advisory: a failure costs only speed


def _settle(path: Path, size: int) -> None:
    """Cut the data file to ``size`` bytes (dropping a failed attempt's tail) and fsync it.
    An empty upload gets its empty file here."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise store_unavailable("stage a blob", exc) from exc
    try:
        held = os.fstat(fd).st_size
        if held < size:
            raise UploadGapError(held)
        if held > size:
            os.ftruncate(fd, size)
        os.fsync(fd)
    except OSError as exc:
        raise store_unavailable("stage a blob", exc) from exc
    finally:
        os.close(fd)


def _fsync_dir(directory: str | Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems cannot fsync a directory; nothing to do there
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _pieces(f: BinaryIO, length: int | None) -> Iterator[bytes]:
    """``length`` bytes of ``f`` (to its end when ``None``) from where it stands, in pieces of
    ``READ_CHUNK``. Past the first whole piece, the page cache is filled ahead of the reader
    (``modelyard.readahead``)."""
    with f:
        ahead = ReadAhead(f.fileno(), f.tell(), length)
        while length is None or length > 0:
            piece = f.read(READ_CHUNK if length is None else min(READ_CHUNK, length))
            if not piece:
                return
            if length is not None:
                length -= len(piece)
            if len(piece) == READ_CHUNK:  # a blob of one piece or less is never advised on
                ahead.passed(len(piece))
            yield piece


def _scandir(path: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except FileNotFoundError:
        return []


def _mtime(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
