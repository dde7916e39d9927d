"""Big blobs (``_copy_big``): the partial file has its full length from the start, the bytes
really received are counted beside it, and the page cache is filled ahead of the writer."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from modelyard.client import Client, DigestMismatch, _download, _transfer, _upload
from modelyard.domain.digests import digest_of
from tests.client import test_transfer as base
from tests.support import sync_transport

BIG = 100_000
wire, sdk, Spy = base.wire, base.sdk, base.Spy  # the fixtures and the range spy


@pytest.fixture(autouse=True)
def small_big(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blobs of a few KB take the big-blob path, in many buffers."""
    monkeypatch.setattr(_download, "DIRECT_MIN", 1000)
    monkeypatch.setattr(_download, "BUFFER", 10_000)
    monkeypatch.setattr(_transfer, "BATCH_BLOB", 0)  # a GET of its own, not a tar batch


def pushed(sdk: Client, tmp_path: Path, data: bytes) -> Path:
    (tmp_path / "w.bin").write_bytes(data)
    sdk.push(tmp_path / "w.bin", "team/m", cache_dir=tmp_path / "c")
    return tmp_path / "pulls" / "partial" / digest_of(data)[7:]


def test_a_killed_big_pull_resumes_from_the_count_received_not_the_file_length(
    sdk: Client, app: FastAPI, tmp_path: Path, admin_token: str
) -> None:
    data = os.urandom(BIG)
    partial = pushed(sdk, tmp_path, data)
    partial.parent.mkdir(parents=True)
    # What a pull killed after 40,000 bytes left: the file at its full length, the rest a hole.
    partial.write_bytes(data[:40_000] + bytes(BIG - 40_000))
    received = partial.with_name(partial.name + ".received")
    received.write_text("40000".zfill(20))
    ranges: list[str | None] = []
    with (
        sync_transport(app) as inner,
        Client("http://modelyard.test", token=admin_token, transport=Spy(inner, ranges)) as c,
    ):
        out = c.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "pulls")
    assert (out / "w.bin").read_bytes() == data
    assert ranges[-1] == "bytes=40000-"
    assert not partial.exists()
    assert not received.exists()


class Cut(httpx.BaseTransport):
    """Cuts the first blob body off after ``after`` bytes, as a dropped connection would;
    ``watched``'s length just before the cut goes to ``lengths``."""

    def __init__(self, inner: httpx.BaseTransport, after: int, watched: Path | None = None) -> None:
        self.inner, self.after, self.watched = inner, after, watched
        self.ranges: list[str | None] = []
        self.lengths: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method != "GET" or "/api/v1/blobs/" not in request.url.path:
            return response
        self.ranges.append(request.headers.get("range"))
        if len(self.ranges) > 1:
            return response
        body = response.read()[: self.after]
        cut = self

        class Broken(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                yield body
                if cut.watched is not None:
                    cut.lengths.append(cut.watched.stat().st_size)
                raise httpx.ReadError("connection reset", request=request)

        return httpx.Response(response.status_code, headers=response.headers, stream=Broken())


def test_a_cut_off_big_download_keeps_what_was_written_and_resumes_there(
    sdk: Client, app: FastAPI, tmp_path: Path, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(BIG)
    partial = pushed(sdk, tmp_path, data)
    seen: list[tuple[int, str]] = []
    resume = _download.Downloader._resume

    def spying(self: _download.Downloader, digest: str, size: int, advance: object) -> object:
        if partial.exists():  # the retry: what the cut-off attempt left
            received = partial.with_name(partial.name + ".received")
            seen.append((partial.stat().st_size, received.read_text()))
        return resume(self, digest, size, advance)  # type: ignore[arg-type]

    monkeypatch.setattr(_download.Downloader, "_resume", spying)
    monkeypatch.setattr(_upload, "BACKOFF", 0)
    with (
        sync_transport(app) as inner,
        Client(
            "http://modelyard.test", token=admin_token, transport=(cut := Cut(inner, 35_000))
        ) as c,
    ):
        out = c.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "pulls")
    assert (out / "w.bin").read_bytes() == data
    # 3 whole buffers of 10,000 were written; the half-filled fourth was not: the file is cut
    # back to them (not left at its full length) and the count says the same.
    assert seen == [(30_000, "30000".zfill(20))]
    assert cut.ranges == [None, "bytes=30000-"]


@pytest.mark.parametrize("prefault", [True, False])
def test_the_partial_file_has_its_full_length_only_where_its_page_cache_is_filled_ahead(
    sdk: Client,
    app: FastAPI,
    tmp_path: Path,
    admin_token: str,
    monkeypatch: pytest.MonkeyPatch,
    prefault: bool,
) -> None:
    data = os.urandom(BIG)
    partial = pushed(sdk, tmp_path, data)
    monkeypatch.setattr(_download, "PREFAULT", prefault)
    monkeypatch.setattr(_upload, "BACKOFF", 0)
    with sync_transport(app) as inner:
        cut = Cut(inner, 35_000, watched=partial)
        with Client("http://modelyard.test", token=admin_token, transport=cut) as c:
            out = c.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "pulls")
    assert (out / "w.bin").read_bytes() == data
    # Elsewhere (no readahead hints) nothing gains from a long sparse file: it grows as written.
    assert cut.lengths == [BIG if prefault else 30_000]
    assert cut.ranges == [None, "bytes=30000-"]


def test_a_big_download_that_fails_its_digest_leaves_no_partial_and_no_count(
    sdk: Client, app: FastAPI, tmp_path: Path
) -> None:
    data = os.urandom(BIG)
    partial = pushed(sdk, tmp_path, data)
    blob = app.state.blobs.root / "sha256" / digest_of(data)[7:9] / digest_of(data)[7:]
    blob.chmod(0o644)
    blob.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))  # one bit flipped on the server
    with pytest.raises(DigestMismatch):
        sdk.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "pulls")
    assert not partial.exists()
    assert not partial.with_name(partial.name + ".received").exists()


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="readahead hints are Linux's")
def test_the_page_cache_is_filled_ahead_of_the_writer_and_no_further(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = _download.PREFAULT_STEP
    monkeypatch.setattr(_download, "PREFAULT_AHEAD", 3 * step)
    hinted: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def recording(fd: int, offset: int, length: int, advice: int) -> None:
        assert advice == os.POSIX_FADV_WILLNEED
        hinted.append((offset, length))
        real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", recording)
    size = 10 * step + 5
    with (tmp_path / "f").open("wb") as f:
        f.truncate(size)
        with _download._Prefault(f.fileno(), step, size) as prefault:
            until(lambda: len(hinted) >= 3)
            time.sleep(0.05)
            # 3 steps ahead of the writer (still at ``step``), then it waits for the writer
            assert hinted == [(step, step), (2 * step, step), (3 * step, step)]
            prefault.written(size)
            until(lambda: sum(n for _, n in hinted) >= size - step)
    assert [o for o, _ in hinted] == list(range(step, size, step))
    assert sum(n for _, n in hinted) == size - step


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.001)
