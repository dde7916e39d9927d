"""The local store's direct writes (O_DIRECT) of big upload bodies: the bytes on disk are the
bytes sent whatever the length and the offset, and where the file system refuses O_DIRECT the
same bytes go through the page cache instead."""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.blobs import layout, local
from modelyard.blobs.local import DIRECT_ALIGN, DIRECT_BUFFER, LocalBlobStore
from modelyard.domain.errors import UnavailableError

pytestmark = pytest.mark.skipif(not local._O_DIRECT, reason="no O_DIRECT on this platform")

BUF = DIRECT_BUFFER
REAL_OPEN = os.open  # the tests below replace os.open
UID = "0b8f3d59-5a52-4c55-9d2e-8f1c0a6b2e41"
SIZES = [0, 1, 4095, 4096, 4097, BUF - 1, BUF, BUF + 1, 3 * BUF + 5 * 4096 + 1234]


def _direct_works(directory: Path) -> bool:
    probe = directory / "probe"
    probe.touch()
    try:
        os.close(REAL_OPEN(probe, os.O_WRONLY | local._O_DIRECT))
        return True
    except OSError:
        return False
    finally:
        probe.unlink()


@pytest.fixture
def direct_opens(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The descriptors the store opened with O_DIRECT (the real os.open underneath)."""
    opened: list[int] = []
    real_open = os.open

    def spy(path: object, flags: int, *args: int) -> int:
        fd = real_open(path, flags, *args)  # type: ignore[arg-type]
        if flags & local._O_DIRECT:
            opened.append(fd)
        return fd

    monkeypatch.setattr(local.os, "open", spy)
    return opened


def _pieces(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _append(store: LocalBlobStore, upload_id: str, offset: int, data: bytes) -> int:
    with store.open_upload(upload_id) as writer:
        segments = writer.append(offset, _pieces(data, 100_003))  # odd pieces, as ASGI's
    return sum(s.size for s in segments)


def _held(store: LocalBlobStore, upload_id: str) -> bytes:
    return (store.root / layout.upload_data_key(upload_id)).read_bytes()


@pytest.mark.parametrize("size", SIZES)
def test_the_bytes_written_are_the_bytes_sent(
    tmp_path: Path, direct_opens: list[int], size: int
) -> None:
    store = LocalBlobStore(tmp_path)
    data = os.urandom(size)
    assert _append(store, UID, 0, data) == size
    assert _held(store, UID) == data
    # A body of a buffer or more goes around the page cache (where the file system allows).
    if _direct_works(tmp_path):
        assert len(direct_opens) == (1 if size >= BUF else 0)


def test_a_resume_at_an_unaligned_offset_is_written_through_the_page_cache(
    tmp_path: Path, direct_opens: list[int]
) -> None:
    store = LocalBlobStore(tmp_path)
    data = os.urandom(2 * BUF + 777)
    head = 5000  # not a multiple of DIRECT_ALIGN
    assert _append(store, UID, 0, data[:head]) == head
    assert _append(store, UID, head, data[head:]) == len(data) - head
    assert _held(store, UID) == data
    assert direct_opens == []


def test_a_resume_at_an_aligned_offset_replaces_a_failed_attempts_tail(
    tmp_path: Path, direct_opens: list[int]
) -> None:
    store = LocalBlobStore(tmp_path)
    data = os.urandom(3 * BUF + 99)
    _append(store, UID, 0, os.urandom(BUF + 4096 * 7 + 5))  # an attempt that did not count
    at = 3 * DIRECT_ALIGN
    _append(store, UID, 0, data[:at])
    assert _append(store, UID, at, data[at:]) == len(data) - at
    assert _held(store, UID) == data


def test_where_o_direct_open_is_refused_the_bytes_go_buffered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[object] = []
    real_open = os.open

    def open_(path: object, flags: int, *args: int) -> int:
        if flags & local._O_DIRECT:
            refused.append(path)
            raise OSError(errno.EINVAL, "Invalid argument")  # as tmpfs answers
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(local.os, "open", open_)
    store = LocalBlobStore(tmp_path)
    data = os.urandom(2 * BUF + 4097)
    assert _append(store, UID, 0, data) == len(data)
    assert _held(store, UID) == data
    assert len(refused) == 1  # tried once per append, not once per buffer


def test_where_a_direct_write_is_refused_the_bytes_go_buffered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_opens: list[int]
) -> None:
    real_pwrite = os.pwrite
    refused: list[int] = []

    def pwrite(fd: int, data: memoryview, offset: int) -> int:
        if fd in direct_opens:
            refused.append(offset)
            raise OSError(errno.EINVAL, "Invalid argument")  # an alignment the device wants
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(local.os, "pwrite", pwrite)
    store = LocalBlobStore(tmp_path)
    data = os.urandom(3 * BUF + 12345)
    assert _append(store, UID, 0, data) == len(data)
    assert _held(store, UID) == data
    if direct_opens:
        assert refused == [0]  # the first refusal ends direct writes for this body


def test_a_short_direct_write_is_finished_buffered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_opens: list[int]
) -> None:
    real_pwrite = os.pwrite

    def pwrite(fd: int, data: memoryview, offset: int) -> int:
        if fd in direct_opens:
            return real_pwrite(fd, data[: len(data) // 2], offset)  # half, as on a full disk
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(local.os, "pwrite", pwrite)
    store = LocalBlobStore(tmp_path)
    data = os.urandom(2 * BUF + 3)
    assert _append(store, UID, 0, data) == len(data)
    assert _held(store, UID) == data


def test_a_failing_direct_write_is_store_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_opens: list[int]
) -> None:
    if not _direct_works(tmp_path):
        pytest.skip("this file system refuses O_DIRECT")
    real_pwrite = os.pwrite

    def pwrite(fd: int, data: memoryview, offset: int) -> int:
        if fd in direct_opens:
            raise OSError(errno.EIO, "Input/output error")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(local.os, "pwrite", pwrite)
    store = LocalBlobStore(tmp_path)
    with pytest.raises(UnavailableError):
        _append(store, UID, 0, os.urandom(2 * BUF))


def test_a_body_failing_mid_way_leaves_no_write_running(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    def body() -> Iterator[bytes]:
        yield os.urandom(BUF)
        yield os.urandom(BUF)
        raise ConnectionError("the client went away")

    with pytest.raises(ConnectionError), store.open_upload(UID) as writer:
        writer.append(0, body())
    # Everything handed to the store before the failure was written or dropped; a new
    # attempt starts from a file the failed one no longer writes to.
    data = os.urandom(BUF + 1)
    assert _append(store, UID, 0, data) == len(data)
    assert _held(store, UID) == data
