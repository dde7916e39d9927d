"""What only the local disk backend promises: how it makes batches durable, and where it asks
the file system to put new files. The shared contract is in test_conformance.py."""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import threading
from pathlib import Path
from typing import cast

import pytest

from modelyard import readahead
from modelyard.blobs import inodes, layout, local
from modelyard.blobs.local import LocalBlobStore
from modelyard.domain.digests import digest_of
from modelyard.domain.errors import UnavailableError
from tests.support import spread


def test_batch_and_fanout_directories_are_spread(tmp_path: Path) -> None:
    if spread(tmp_path) is None:
        pytest.skip("this file system has no inode flags (not ext2/3/4)")
    store = LocalBlobStore(tmp_path / "store")
    assert spread(store.root / layout.UPLOADS) is True
    assert spread(store.root / layout.BLOBS) is True
    assert spread(tmp_path) is False  # nothing above the store


def test_spreading_is_best_effort_where_the_file_system_refuses(tmp_path: Path) -> None:
    assert inodes.spread_subdirectories(tmp_path / "absent") is False


@pytest.fixture
def file_by_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches sync each file and directory, as where syncfs is not to be trusted."""
    monkeypatch.setattr(local, "_syncfs_for", lambda directory: None)


def _write_batch(store: LocalBlobStore, blobs: list[bytes]) -> list[bool]:
    with store.open_batch() as batch:
        for data in blobs:
            batch.add([data])
        return batch.publish([(digest_of(data), len(data)) for data in blobs])


def _needs_syncfs(path: Path) -> None:
    handle = local._syncfs_for(path)
    if handle is None:
        pytest.skip("no trusted syncfs here (not Linux 5.8+, or not ext4/xfs/btrfs/f2fs/tmpfs)")
    handle.close()


def test_batch_syncs_the_fanout_parent_once_and_every_touched_fanout_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_by_file: None
) -> None:
    store = LocalBlobStore(tmp_path)
    synced: list[Path] = []
    real = local._fsync_dir
    monkeypatch.setattr(local, "_fsync_dir", lambda d: (synced.append(Path(d)), real(d)))
    blobs = [os.urandom(100) for _ in range(40)]  # a fresh store: most fan-out dirs are new
    with store.open_batch() as batch:
        for data in blobs:
            batch.add([data])
        batch.publish([(digest_of(data), len(data)) for data in blobs])
    fanouts = {store.root / layout.fanout_dir(digest_of(b)) for b in blobs}
    assert synced.count(store.root / layout.BLOBS) == 1  # not once per new fan-out dir
    assert set(synced) - {store.root / layout.BLOBS} == fanouts
    assert all(store.stat(digest_of(b)) is not None for b in blobs)


def test_batches_sync_on_the_stores_long_lived_threads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_by_file: None
) -> None:
    store = LocalBlobStore(tmp_path)
    threads: set[str] = set()
    real = local._fsync_file
    monkeypatch.setattr(
        local, "_fsync_file", lambda p: (threads.add(threading.current_thread().name), real(p))
    )
    for round_ in range(2):
        blobs = [f"{round_}-{i}".encode() for i in range(20)]
        with store.open_batch() as batch:
            for data in blobs:
                batch.add([data])
            batch.publish([(digest_of(data), len(data)) for data in blobs])
    assert threads
    assert all(name.startswith("modelyard-sync") for name in threads)
    assert len(threads) <= local.SYNC_THREADS


def test_a_failed_sync_fails_the_batch_after_every_sync_ended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_by_file: None
) -> None:
    store = LocalBlobStore(tmp_path)
    calls: list[Path] = []

    def failing(path: str) -> None:
        calls.append(Path(path))
        if Path(path).name == "000003":
            raise OSError(5, "I/O error")

    monkeypatch.setattr(local, "_fsync_file", failing)
    blobs = [f"blob {i}".encode() for i in range(8)]
    with store.open_batch() as batch:
        for data in blobs:
            batch.add([data])
        with pytest.raises(UnavailableError) as err:
            batch.publish([(digest_of(data), len(data)) for data in blobs])
    assert err.value.code == "BLOB_STORE_UNAVAILABLE"
    assert len(calls) == len(blobs)
    assert all(store.stat(digest_of(data)) is None for data in blobs)


def test_a_batch_is_made_durable_by_two_syncfs_calls_not_a_sync_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_syncfs(tmp_path)
    store = LocalBlobStore(tmp_path)
    events: list[str] = []
    calls = local._libc_calls()
    assert calls is not None
    real_syncfs, statfs = calls
    real_fsync, real_replace = os.fsync, os.replace

    def syncfs(fd: int) -> int:
        events.append("syncfs")
        return real_syncfs(fd)

    def fsync(fd: int) -> None:
        events.append("flush")  # of the batch directory: for the device cache flush
        real_fsync(fd)

    def replace(src: object, dst: object) -> None:
        events.append("rename")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(local, "_libc_calls", lambda: (syncfs, statfs))
    monkeypatch.setattr(local.os, "fsync", fsync)
    monkeypatch.setattr(local.os, "replace", replace)
    for name in ("_fsync_file", "_fsync_dir", "_start_writeback"):
        monkeypatch.setattr(local, name, lambda *args, name=name: events.append(name))
    blobs = [os.urandom(100) for _ in range(40)]
    assert _write_batch(store, blobs) == [True] * 40
    # Every member's bytes and inode on disk before any name points at them; the names after;
    # each syncfs followed by a cache flush (without a journal, syncfs's own comes too early).
    assert events == ["syncfs", "flush"] + ["rename"] * 40 + ["syncfs", "flush"]
    assert all(store.stat(digest_of(b)) is not None for b in blobs)


def _fake_syncfs(monkeypatch: pytest.MonkeyPatch, error: int) -> list[int]:
    """syncfs failing with ``error``; statfs the real one. Returns the descriptors it got."""
    calls = local._libc_calls()
    if calls is None:
        pytest.skip("no syncfs on this platform")
    statfs = calls[1]
    seen: list[int] = []

    def syncfs(fd: int) -> int:
        seen.append(fd)
        ctypes.set_errno(error)
        return -1

    monkeypatch.setattr(local, "_libc_calls", lambda: (syncfs, statfs))
    return seen


def test_a_batch_syncs_file_by_file_where_syncfs_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_syncfs(tmp_path)
    store = LocalBlobStore(tmp_path)
    seen = _fake_syncfs(monkeypatch, errno.EPERM)  # e.g. a seccomp filter
    synced: list[Path] = []
    real = local._fsync_file
    monkeypatch.setattr(local, "_fsync_file", lambda p: (synced.append(Path(p)), real(p)))
    blobs = [f"refused {i}".encode() for i in range(6)]
    assert _write_batch(store, blobs) == [True] * 6
    assert len(seen) == 1
    assert len(synced) == 6
    assert all(store.stat(digest_of(b)) is not None for b in blobs)


def test_a_failed_syncfs_fails_the_batch_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_syncfs(tmp_path)
    store = LocalBlobStore(tmp_path)
    _fake_syncfs(monkeypatch, errno.EIO)  # a write-back failed somewhere on the file system
    blobs = [f"lost {i}".encode() for i in range(6)]
    with pytest.raises(UnavailableError) as err:
        _write_batch(store, blobs)
    assert err.value.code == "BLOB_STORE_UNAVAILABLE"
    assert all(store.stat(digest_of(b)) is None for b in blobs)
    assert list((tmp_path / layout.UPLOADS).iterdir()) == []


def test_file_systems_without_a_trusted_syncfs_sync_file_by_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _needs_syncfs(tmp_path)
    monkeypatch.setattr(local, "_SYNCFS_FILE_SYSTEMS", frozenset())  # as on NFS or FUSE
    assert local._syncfs_for(tmp_path) is None
    monkeypatch.setattr(local, "_libc_calls", lambda: None)  # not Linux, or before 5.8
    assert local._syncfs_for(tmp_path) is None


def test_a_batch_left_unpublished_closes_its_syncfs_handle(tmp_path: Path) -> None:
    _needs_syncfs(tmp_path)
    store = LocalBlobStore(tmp_path)
    with store.open_batch() as batch:
        batch.add([b"never published"])
        handle = cast(local._LocalBatch, batch).syncfs
        assert handle is not None
        assert handle.fd is not None
    assert handle.fd is None  # closed: a refused batch does not leak a descriptor


@pytest.fixture
def advice(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Small pieces and windows, and the (offset, length) of every POSIX_FADV_WILLNEED."""
    if not readahead.AVAILABLE:
        pytest.skip("no posix_fadvise here")
    monkeypatch.setattr(local, "READ_CHUNK", 64 * 1024)
    monkeypatch.setattr(readahead, "WINDOW", 256 * 1024)
    monkeypatch.setattr(readahead, "KEEP", 512 * 1024)
    calls: list[tuple[int, int]] = []

    def record(fd: int, offset: int, length: int, what: int) -> None:
        assert what == os.POSIX_FADV_WILLNEED
        calls.append((offset, length))

    monkeypatch.setattr(os, "posix_fadvise", record)
    return calls


def test_a_big_blob_is_read_into_the_page_cache_ahead_of_the_reader(
    tmp_path: Path, advice: list[tuple[int, int]]
) -> None:
    store = LocalBlobStore(tmp_path)
    data = os.urandom(3 * 1024 * 1024 + 17)
    _write_batch(store, [data])
    assert b"".join(store.read(digest_of(data))) == data
    offsets = [offset for offset, _ in advice]
    assert offsets[0] == 64 * 1024  # after the first whole piece, from the reader on
    assert offsets == [offsets[0] + i * 256 * 1024 for i in range(len(offsets))]  # no gaps
    assert offsets[-1] < len(data) <= offsets[-1] + 256 * 1024  # to the end, not past it


def test_a_range_is_advised_from_its_start_to_its_end_only(
    tmp_path: Path, advice: list[tuple[int, int]]
) -> None:
    store = LocalBlobStore(tmp_path)
    data = os.urandom(3 * 1024 * 1024)
    _write_batch(store, [data])
    start, stop = 1024 * 1024 + 3, 2 * 1024 * 1024 + 5
    assert b"".join(store.read(digest_of(data), start, stop)) == data[start:stop]
    assert advice
    assert all(start < offset < stop for offset, _ in advice)


def test_a_blob_of_one_piece_is_not_advised_on(
    tmp_path: Path, advice: list[tuple[int, int]]
) -> None:
    store = LocalBlobStore(tmp_path)
    data = os.urandom(64 * 1024)
    _write_batch(store, [data])
    assert b"".join(store.read(digest_of(data))) == data
    assert advice == []


def test_reads_go_on_where_the_advice_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, advice: list[tuple[int, int]]
) -> None:
    refused: list[int] = []

    def refuse(fd: int, offset: int, length: int, what: int) -> None:
        refused.append(offset)
        raise OSError(errno.ESPIPE, "not here")

    monkeypatch.setattr(os, "posix_fadvise", refuse)
    store = LocalBlobStore(tmp_path)
    data = os.urandom(2 * 1024 * 1024)
    _write_batch(store, [data])
    assert b"".join(store.read(digest_of(data))) == data
    assert len(refused) == 1  # asked once, then not again for this read


# -- direct writes of uploads ---------------------------------------------------------------


@pytest.fixture
def pwrites(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, int, int]]:
    """Every ``os.pwrite`` as ``(direct, position, length)``; skips where the store's file
    system takes no O_DIRECT (tmpfs)."""
    probe = tmp_path / "probe"
    probe.touch()
    fd = local._open_direct(probe)
    if fd is None:
        pytest.skip("no O_DIRECT on this file system")
    os.close(fd)
    monkeypatch.setattr(local, "DIRECT_BUFFER", 64 * 1024)
    monkeypatch.setattr(local, "_direct_pool", [])  # buffers of that size only
    calls: list[tuple[bool, int, int]] = []
    real = os.pwrite

    def record(fd: int, data: memoryview, pos: int) -> int:
        direct = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT)
        calls.append((direct, pos, len(data)))
        return real(fd, data, pos)

    monkeypatch.setattr(os, "pwrite", record)
    return calls


UPLOAD = "3f8e1c52-8a4e-4c1b-9a57-0d6f1c1e2b7a"


def _upload(store: LocalBlobStore, parts: list[list[bytes]]) -> bytes:
    """Append each part's pieces after the previous part; the upload's bytes as stored."""
    offset = 0
    with store.open_upload(UPLOAD) as writer:
        for pieces in parts:
            offset += sum(s.size for s in writer.append(offset, pieces))
    return b"".join(store.read_upload(UPLOAD, [], offset))


def _parts(sizes: list[list[int]]) -> list[list[bytes]]:
    return [[os.urandom(n) for n in part] for part in sizes]


# Piece sizes of each chunk: boundaries on and off blocks, pieces smaller and larger than the
# direct buffer (64 KiB here), many small pieces.
SHAPES = [
    [[64 * 1024]],
    [[5000, 300_000], [4096 * 3 + 1]],
    [[17], [4079], [200_001, 3]],
    [[100] * 700, [70_000]],
]


@pytest.mark.parametrize("sizes", SHAPES)
def test_upload_bytes_go_around_the_page_cache_in_aligned_blocks(
    tmp_path: Path, pwrites: list[tuple[bool, int, int]], sizes: list[list[int]]
) -> None:
    parts = _parts(sizes)
    store = LocalBlobStore(tmp_path / "store")
    assert _upload(store, parts) == b"".join(b"".join(p) for p in parts)
    direct = [(pos, n) for is_direct, pos, n in pwrites if is_direct]
    assert all(pos % 4096 == 0 and n % 4096 == 0 for pos, n in direct)
    # Only each part's unaligned head and tail went through the page cache.
    buffered = sum(n for is_direct, _, n in pwrites if not is_direct)
    assert buffered < 2 * 4096 * len(parts)
    assert sum(n for _, n in direct) + buffered == sum(len(b"".join(p)) for p in parts)


def test_a_refused_direct_write_goes_through_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pwrites: list[tuple[bool, int, int]]
) -> None:
    recording = os.pwrite

    def refuse_direct(fd: int, data: memoryview, pos: int) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            raise OSError(errno.EINVAL, "not with this alignment")
        return recording(fd, data, pos)

    monkeypatch.setattr(os, "pwrite", refuse_direct)
    store = LocalBlobStore(tmp_path / "store")
    parts = _parts(SHAPES[1])
    assert _upload(store, parts) == b"".join(b"".join(p) for p in parts)


def test_uploads_are_written_through_the_page_cache_without_o_direct(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pwrites: list[tuple[bool, int, int]]
) -> None:
    monkeypatch.setattr(local, "_open_direct", lambda path: None)
    store = LocalBlobStore(tmp_path / "store")
    parts = _parts(SHAPES[2])
    assert _upload(store, parts) == b"".join(b"".join(p) for p in parts)
    assert not any(is_direct for is_direct, _, _ in pwrites)


def test_a_direct_write_that_fails_otherwise_is_the_stores_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pwrites: list[tuple[bool, int, int]]
) -> None:
    def full(fd: int, data: memoryview, pos: int) -> int:
        raise OSError(errno.ENOSPC, "no space left")

    monkeypatch.setattr(os, "pwrite", full)
    store = LocalBlobStore(tmp_path / "store")
    with pytest.raises(UnavailableError), store.open_upload(UPLOAD) as writer:
        writer.append(0, [os.urandom(200_000)])
