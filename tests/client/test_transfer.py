"""SDK push and pull against the real app in process (no port, no mock)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from modelyard.client import (
    Client,
    DigestMismatch,
    InvalidInputError,
    NotFoundError,
    UnsafePath,
    _transfer,
    _upload,
)
from modelyard.client._cache import LocalCache
from modelyard.db.engine import Database
from modelyard.db.tables import UploadRow
from modelyard.domain.batches import read_batch
from modelyard.domain.digests import digest_of
from tests.support import sync_transport

MIB = 1024 * 1024


class Recording(httpx.BaseTransport):
    """Counts requests by (method, first path segment after /api/v1); can drop some."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()  # "POST /api/v1/blobs/batch" -> how many
        self.drop: dict[str, int] = {}  # "PATCH" (or "POST /path") -> drop that many times
        self.delay: dict[str, float] = {}  # "PATCH" -> seconds each such request waits
        self.order: list[str] = []  # "PATCH", "POST .../commit", ... as they arrived

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen[request.method] += 1
        self.order.append(f"{request.method} {request.url.path}")
        time.sleep(self.delay.get(request.method, 0))
        what = f"{request.method} {request.url.path}"
        self.paths[what] += 1
        key = what if self.drop.get(what) else request.method
        if self.drop.get(key, 0) > 0:
            self.drop[key] -= 1
            raise httpx.RemoteProtocolError("connection dropped", request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def wire(app: FastAPI) -> Iterator[Recording]:
    with sync_transport(app) as transport:
        yield Recording(transport)


@pytest.fixture
def sdk(wire: Recording, admin_token: str) -> Iterator[Client]:
    with Client("http://modelyard.test", token=admin_token, transport=wire) as c:
        c.create_namespace("team")
        c.create_model("team/m")
        yield c


def tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


FILES = {
    "model.onnx": os.urandom(3000),
    "weights/a.bin": b"shared bytes",
    "weights/b.bin": b"shared bytes",
    "empty.txt": b"",
    "config.json": b'{"layers": 3}',
}


def test_push_then_pull_gives_byte_identical_files(sdk: Client, tmp_path: Path) -> None:
    src = tree(tmp_path / "src", FILES)
    version = sdk.push(src, "team/m", description="first", metrics={"auc": 0.9},
                       cache_dir=tmp_path / "c1")  # fmt: skip
    assert (version.version, version.description, version.metrics) == (1, "first", {"auc": 0.9})
    dest = sdk.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "c2")
    assert dest == tmp_path / "out"
    assert read_tree(dest) == FILES


def test_manifest_lists_files_with_sizes_and_digests(sdk: Client, tmp_path: Path) -> None:
    version = sdk.push(tree(tmp_path / "src", FILES), "team/m", cache_dir=tmp_path / "c")
    resolved, manifest = sdk.manifest("team/m")
    assert resolved == "team/m@1"
    assert manifest.digest == version.manifest_digest
    assert {a.path: (a.size, a.digest) for a in manifest.artifacts} == {
        name: (len(data), digest_of(data)) for name, data in FILES.items()
    }


def test_single_file_push_is_named_by_its_file_name(sdk: Client, tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"tensor bytes")
    sdk.push(path, "team/m", cache_dir=tmp_path / "c")
    [only] = sdk.manifest("team/m@1")[1].artifacts
    assert (only.path, only.media_type) == ("model.safetensors", "application/safetensors")


def test_unchanged_files_are_not_sent_again(sdk: Client, wire: Recording, tmp_path: Path) -> None:
    src = tree(tmp_path / "src", FILES)
    sdk.push(src, "team/m", cache_dir=tmp_path / "c")
    wire.seen.clear()
    wire.paths.clear()
    again = sdk.push(src, "team/m", cache_dir=tmp_path / "c")
    assert again.version == 2
    assert wire.seen["PUT"] == wire.seen["PATCH"] == wire.paths["POST /api/v1/blobs/batch"] == 0
    assert again.manifest_digest == sdk.resolve("team/m@1").manifest_digest


def test_big_file_goes_in_chunks_and_survives_dropped_connections(
    sdk: Client, wire: Recording, tmp_path: Path
) -> None:
    data = os.urandom(3 * MIB + 5)
    (tmp_path / "big.bin").write_bytes(data)
    # Its digest is not cached: sent while it is hashed (upload_unhashed). Two chunks lost on
    # the way: resumed from the server's offset.
    wire.drop["PATCH"] = 2
    sdk.push(tmp_path / "big.bin", "team/m", chunk_size=MIB, cache_dir=tmp_path / "c")
    assert wire.seen["PATCH"] == 4 + 2
    assert [v.version for v in sdk.iter_versions("team/m")] == [1]
    out = sdk.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "c2")
    assert (out / "big.bin").read_bytes() == data


def test_many_small_files_go_in_few_batches_that_survive_dropped_connections(
    sdk: Client, wire: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_upload, "BATCH_BLOBS", 40)
    files = {f"shard-{i:03d}.bin": os.urandom(1000 + i) for i in range(100)}
    wire.drop["POST /api/v1/blobs/batch"] = 1  # one batch lost on the way: sent again whole
    sdk.push(tree(tmp_path / "src", files), "team/m", cache_dir=tmp_path / "c", workers=1)
    assert wire.paths["POST /api/v1/blobs/batch"] == 3 + 1
    assert wire.seen["PUT"] == wire.seen["PATCH"] == 0
    assert read_tree(sdk.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "c2")) == files


def test_small_files_are_sent_a_batch_at_a_time_as_they_are_hashed(
    sdk: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_upload, "BATCH_BLOBS", 40)
    files = {f"shard-{i:03d}.bin": os.urandom(1000 + i) for i in range(100)}
    files["shard-099.bin"] = files["shard-000.bin"]  # the same bytes in the first and last batch
    events: list[tuple[str, int]] = []
    hash_file, upload_batch = _transfer.hash_file, _upload.Uploader.upload_batch

    def hashing(path: Path, advance: Callable[[int], None]) -> str:
        events.append(("hash", 1))
        return hash_file(path, advance)

    def sending(self: _upload.Uploader, members: list[_upload.Source], advance: Any) -> None:
        events.append(("batch", len(members)))
        upload_batch(self, members, advance)

    monkeypatch.setattr(_transfer, "hash_file", hashing)
    monkeypatch.setattr(_upload.Uploader, "upload_batch", sending)
    sdk.push(tree(tmp_path / "src", files), "team/m", cache_dir=tmp_path / "c", workers=1)
    assert events.index(("batch", 40)) == 40  # right after its 40 files, before the others
    assert [e for e in events if e[0] == "batch"] == [("batch", 40), ("batch", 40), ("batch", 19)]
    assert read_tree(sdk.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "c2")) == files


def test_at_most_two_batches_are_hashed_at_once_so_the_first_goes_out_early(
    sdk: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"shard-{i:03d}.bin": os.urandom(100 + i) for i in range(64)}
    hash_file, lock = _transfer.hash_file, threading.Lock()
    active: list[int] = [0]
    most: list[int] = []

    def hashing(path: Path, advance: Callable[[int], None]) -> str:
        with lock:
            active[0] += 1
            most.append(active[0])
        time.sleep(0.002)  # long enough for the other workers to try to hash too
        try:
            return hash_file(path, advance)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(_transfer, "hash_file", hashing)
    sdk.push(tree(tmp_path / "src", files), "team/m", cache_dir=tmp_path / "c", workers=8)
    assert max(most) == _transfer.HASHING_AT_ONCE == 2
    assert read_tree(sdk.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "c2")) == files


def test_small_files_are_spread_over_the_workers(
    sdk: Client, wire: Recording, tmp_path: Path
) -> None:
    files = {f"shard-{i:03d}.bin": os.urandom(100 + i) for i in range(64)}
    sdk.push(tree(tmp_path / "src", files), "team/m", cache_dir=tmp_path / "c", workers=4)
    assert wire.paths["POST /api/v1/blobs/batch"] == 4  # 16 each: every worker has one


def test_many_small_files_come_in_few_requests_that_survive_dropped_connections(
    sdk: Client, wire: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_upload, "BATCH_BLOBS", 40)
    files = {f"shard-{i:03d}.bin": os.urandom(1000 + i) for i in range(100)}
    sdk.push(tree(tmp_path / "src", files), "team/m", cache_dir=tmp_path / "c")
    wire.seen.clear()
    wire.drop["POST /api/v1/blobs/fetch"] = 1  # one batch lost on the way: asked again
    out = sdk.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "c2", workers=1)
    assert read_tree(out) == files
    assert wire.paths["POST /api/v1/blobs/fetch"] == 3 + 1
    assert wire.seen["GET"] == 1  # the manifest: no blob one by one


def test_small_blobs_are_written_in_a_directory_of_their_batch(
    sdk: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_upload, "BATCH_BLOBS", 40)
    files = {f"shard-{i:03d}.bin": os.urandom(1000 + i) for i in range(100)}
    sdk.push(tree(tmp_path / "src", files), "team/m", cache_dir=tmp_path / "c")
    sources: list[Path] = []
    keep = LocalCache.keep

    def spying(self: LocalCache, digest: str, source: Path | None = None) -> Path:
        sources.append(source or self.partial(digest))
        return keep(self, digest, source)

    monkeypatch.setattr(LocalCache, "keep", spying)
    out = sdk.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "pulls", workers=1)
    assert read_tree(out) == files
    areas = {p.parent for p in sources}
    assert len(areas) == 3  # one per batch request (40 + 40 + 20)
    assert all(a.parent == tmp_path / "pulls" / "partial" for a in areas)
    assert all(a.name.startswith("batch-") and not a.exists() for a in areas)


def test_second_pull_moves_no_bytes(sdk: Client, wire: Recording, tmp_path: Path) -> None:
    sdk.push(tree(tmp_path / "src", FILES), "team/m", cache_dir=tmp_path / "c")
    sdk.pull("team/m", tmp_path / "one", cache_dir=tmp_path / "pulls")
    wire.seen.clear()
    wire.paths.clear()
    sdk.pull("team/m", tmp_path / "two", cache_dir=tmp_path / "pulls")
    assert wire.seen == Counter({"GET": 1})  # the manifest only
    assert read_tree(tmp_path / "two") == FILES


def test_interrupted_download_resumes_with_a_range(
    sdk: Client, app: FastAPI, tmp_path: Path, admin_token: str
) -> None:
    data = os.urandom(100_000)
    (tmp_path / "w.bin").write_bytes(data)
    sdk.push(tmp_path / "w.bin", "team/m", cache_dir=tmp_path / "c")
    partial = tmp_path / "pulls" / "partial" / digest_of(data)[7:]
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[:40_000])  # what an earlier, cut-off pull left
    ranges: list[str | None] = []
    with sync_transport(app) as inner:
        spy = Spy(inner, ranges)
        with Client("http://modelyard.test", token=admin_token, transport=spy) as c:
            out = c.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "pulls")
    assert (out / "w.bin").read_bytes() == data
    assert ranges[-1] == "bytes=40000-"
    assert not partial.exists()


class Spy(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, ranges: list[str | None]) -> None:
        self.inner, self.ranges = inner, ranges

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "/blobs/" in request.url.path:
            self.ranges.append(request.headers.get("range"))
        return self.inner.handle_request(request)


def test_corrupt_download_is_refused_and_nothing_is_written(
    sdk: Client, app: FastAPI, tmp_path: Path
) -> None:
    (tmp_path / "w.bin").write_bytes(b"the true bytes")
    sdk.push(tmp_path / "w.bin", "team/m", cache_dir=tmp_path / "c")
    stored = app.state.blobs.root / "sha256" / digest_of(b"the true bytes")[7:9]
    blob = stored / digest_of(b"the true bytes")[7:]
    blob.chmod(0o644)
    blob.write_bytes(b"the TRUE bytes")  # bit rot on the server
    with pytest.raises(DigestMismatch) as err:
        sdk.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "pulls")
    assert err.value.code == "DIGEST_MISMATCH"
    assert not (tmp_path / "out").exists()
    assert list((tmp_path / "pulls").glob("sha256/*/*")) == []


def test_invalid_local_file_names_are_refused_before_any_upload(
    sdk: Client, wire: Recording, tmp_path: Path
) -> None:
    src = tree(tmp_path / "src", {"ok.bin": b"1", "back\\slash.bin": b"2"})
    wire.seen.clear()
    wire.paths.clear()
    with pytest.raises(InvalidInputError) as err:
        sdk.push(src, "team/m", cache_dir=tmp_path / "c")
    assert err.value.code == "ARTIFACT_PATH_INVALID"
    assert wire.seen["PUT"] == wire.seen["PATCH"] == wire.seen["POST"] == 0


def test_pushing_nothing_is_an_error(sdk: Client, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sdk.push(tmp_path / "nowhere", "team/m", cache_dir=tmp_path / "c")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError):
        sdk.push(tmp_path / "empty", "team/m", cache_dir=tmp_path / "c")


def test_pull_refuses_to_write_through_a_symlink_out_of_dest(sdk: Client, tmp_path: Path) -> None:
    sdk.push(tree(tmp_path / "src", {"sub/x.bin": b"x"}), "team/m", cache_dir=tmp_path / "c")
    dest, elsewhere = tmp_path / "dest", tmp_path / "elsewhere"
    dest.mkdir()
    elsewhere.mkdir()
    (dest / "sub").symlink_to(elsewhere)
    with pytest.raises(UnsafePath):
        sdk.pull("team/m", dest, cache_dir=tmp_path / "pulls")
    assert list(elsewhere.iterdir()) == []


def test_progress_bars_only_when_asked_or_on_a_terminal(
    sdk: Client, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "w.bin").write_bytes(b"w" * 1000)
    sdk.push(tmp_path / "w.bin", "team/m", cache_dir=tmp_path / "c")
    assert capsys.readouterr().err == ""  # stderr is not a terminal here
    sdk.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "p", progress=True)
    assert "downloading" in capsys.readouterr().err


def test_pulled_file_edited_in_place_is_not_served_from_the_cache(
    sdk: Client, wire: Recording, tmp_path: Path
) -> None:
    (tmp_path / "w.bin").write_bytes(b"original bytes")
    sdk.push(tmp_path / "w.bin", "team/m", cache_dir=tmp_path / "c")
    first = sdk.pull("team/m", tmp_path / "one", cache_dir=tmp_path / "pulls")
    with (first / "w.bin").open("r+b") as f:  # in place: the cache shares this file
        f.write(b"EDITED")
    wire.seen.clear()
    wire.paths.clear()
    second = sdk.pull("team/m", tmp_path / "two", cache_dir=tmp_path / "pulls")
    assert (second / "w.bin").read_bytes() == b"original bytes"
    assert wire.seen["GET"] == 1  # the manifest
    assert wire.paths["POST /api/v1/blobs/fetch"] == 1  # and the blob again


def test_files_with_the_same_bytes_are_separate_files(sdk: Client, tmp_path: Path) -> None:
    sdk.push(tree(tmp_path / "src", FILES), "team/m", cache_dir=tmp_path / "c")
    out = sdk.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "pulls")
    a, b = (out / "weights" / "a.bin").stat(), (out / "weights" / "b.bin").stat()
    assert a.st_ino != b.st_ino
    again = sdk.pull("team/m", tmp_path / "again", cache_dir=tmp_path / "pulls")
    assert (again / "model.onnx").stat().st_ino != (out / "model.onnx").stat().st_ino


def test_push_to_an_unknown_model_sends_no_bytes(
    sdk: Client, wire: Recording, tmp_path: Path
) -> None:
    (tmp_path / "w.bin").write_bytes(b"w")
    wire.seen.clear()
    wire.paths.clear()
    with pytest.raises(NotFoundError) as err:
        sdk.push(tmp_path / "w.bin", "team/nope", cache_dir=tmp_path / "c")
    assert err.value.code == "MODEL_NOT_FOUND"
    assert wire.seen["PUT"] == wire.seen["POST"] == 0


def test_a_batch_body_goes_out_in_pieces_of_about_a_mebibyte(tmp_path: Path) -> None:
    blobs = [os.urandom(10_000 + i) for i in range(300)]  # about 3 MB
    members = []
    for i, data in enumerate(blobs):
        (tmp_path / f"f{i}").write_bytes(data)
        members.append((digest_of(data), tmp_path / f"f{i}", len(data)))
    counted: list[int] = []
    body = _upload._Batch(members, counted.append)
    pieces = list(body)
    assert len(pieces) == sum(map(len, pieces)) // _upload.PIECE + 1  # not 3 for each file
    assert sum(map(len, pieces)) == body.length
    assert sum(counted) == body.sent == sum(map(len, blobs))
    assert [(m.digest, b"".join(m.chunks)) for m in read_batch(pieces)] == [
        (digest_of(b), b) for b in blobs
    ]


# -- big files sent while they are hashed ------------------------------------------------------


def _sessions_left(app: FastAPI, db: Database) -> tuple[int, list[object]]:
    with db.read() as s:
        rows = s.scalar(select(func.count()).select_from(UploadRow))
    return int(rows or 0), list(app.state.transfers.store.list_uploads())


def _calls(wire: Recording, method: str, suffix: str = "") -> int:
    return sum(
        n
        for what, n in wire.paths.items()
        if what.startswith(f"{method} /api/v1/blobs/uploads") and what.endswith(suffix)
    )


class Bars:
    """A progress reporter that keeps each bar's total and what it was advanced by."""

    def __init__(self) -> None:
        self.bars: dict[str, list[int]] = {}
        self.lock = threading.Lock()

    def task(self, description: str, total: int) -> Callable[[int], None]:
        bar = self.bars.setdefault(description, [total, 0])

        def advance(n: int) -> None:
            with self.lock:
                bar[1] += n

        return advance

    def __enter__(self) -> Bars:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def bars(monkeypatch: pytest.MonkeyPatch) -> Bars:
    recorded = Bars()
    monkeypatch.setattr(_transfer, "reporter", lambda show: recorded)
    return recorded


def _hashing_after_the_first_chunk(wire: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashing starts once a chunk has gone out (a file hashed slowly, say read from a slow
    disk): sequential code (hash, then send) waits here for the whole timeout."""
    first_chunk = threading.Event()
    hash_file, inner = _transfer.hash_file, wire.inner.handle_request

    def hashing(path: Path, advance: Callable[[int], None]) -> str:
        assert first_chunk.wait(10), "no chunk went out while the file was being hashed"
        return hash_file(path, advance)

    def handle(request: httpx.Request) -> httpx.Response:
        response = inner(request)
        if request.method == "PATCH":
            first_chunk.set()
        return response

    monkeypatch.setattr(_transfer, "hash_file", hashing)
    monkeypatch.setattr(wire.inner, "handle_request", handle)


def test_a_big_file_goes_out_while_it_is_hashed(
    sdk: Client, wire: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bars: Bars
) -> None:
    data = os.urandom(6 * MIB + 3)
    (tmp_path / "big.bin").write_bytes(data)
    _hashing_after_the_first_chunk(wire, monkeypatch)
    version = sdk.push(tmp_path / "big.bin", "team/m", chunk_size=MIB, cache_dir=tmp_path / "c")
    assert _calls(wire, "PATCH") == 7
    assert _calls(wire, "POST", "/commit") == 1
    assert _calls(wire, "DELETE") == 0
    [only] = sdk.manifest("team/m@1")[1].artifacts
    assert (only.path, only.size, only.digest) == ("big.bin", len(data), digest_of(data))
    assert version.manifest_digest == sdk.resolve("team/m@1").manifest_digest
    assert bars.bars == {"hashing": [len(data), len(data)], "uploading": [len(data), len(data)]}
    out = sdk.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "c2")
    assert (out / "big.bin").read_bytes() == data
    # and its digest is remembered: the next push asks before it sends anything
    wire.paths.clear()
    sdk.push(tmp_path / "big.bin", "team/m", chunk_size=MIB, cache_dir=tmp_path / "c")
    assert _calls(wire, "POST") == _calls(wire, "PATCH") == 0


def test_a_big_file_the_server_holds_cancels_its_session_once_hashed(
    sdk: Client, wire: Recording, tmp_path: Path, app: FastAPI, db: Database, bars: Bars,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    data = os.urandom(16 * MIB)
    (tmp_path / "big.bin").write_bytes(data)
    sdk.push(tmp_path / "big.bin", "team/m", chunk_size=MIB, cache_dir=tmp_path / "c1")
    wire.paths.clear()
    bars.bars.clear()
    _hashing_after_the_first_chunk(wire, monkeypatch)
    wire.delay["PATCH"] = 0.05  # the hash is done long before the 16 chunks could be
    # Another machine (a cache that does not know the file): sent until the digest is known.
    again = sdk.push(tmp_path / "big.bin", "team/m", chunk_size=MIB, cache_dir=tmp_path / "c2")
    assert _calls(wire, "POST", "/uploads") == 1
    assert 0 < _calls(wire, "PATCH") < 16
    assert _calls(wire, "POST", "/commit") == 0
    assert _calls(wire, "DELETE") == 1
    assert _sessions_left(app, db) == (0, [])
    assert again.manifest_digest == sdk.resolve("team/m@1").manifest_digest
    assert bars.bars["uploading"] == [len(data), len(data)]  # the rest counted as held


def test_a_big_file_sent_while_hashed_resumes_after_dropped_connections(
    sdk: Client, wire: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    app: FastAPI, db: Database,
) -> None:  # fmt: skip
    data = os.urandom(4 * MIB + 9)
    (tmp_path / "big.bin").write_bytes(data)
    _hashing_after_the_first_chunk(wire, monkeypatch)
    wire.drop["PATCH"] = 2  # the first two chunks lost: resumed from the server's offset
    sdk.push(tmp_path / "big.bin", "team/m", chunk_size=MIB, cache_dir=tmp_path / "c")
    assert _calls(wire, "PATCH") == 5 + 2
    assert _calls(wire, "GET") == 2  # where the session stood, after each loss
    assert _calls(wire, "POST", "/commit") == 1
    assert _sessions_left(app, db) == (0, [])
    [only] = sdk.manifest("team/m@1")[1].artifacts
    assert (only.size, only.digest) == (len(data), digest_of(data))
    out = sdk.pull("team/m", tmp_path / "out", cache_dir=tmp_path / "c2")
    assert (out / "big.bin").read_bytes() == data


def test_two_big_files_with_the_same_bytes_are_committed_once(
    sdk: Client, wire: Recording, tmp_path: Path, app: FastAPI, db: Database
) -> None:
    data = os.urandom(4 * MIB + 1)
    src = tree(tmp_path / "src", {"a.bin": data, "b.bin": data})
    sdk.push(src, "team/m", chunk_size=MIB, cache_dir=tmp_path / "c", workers=2)
    assert _calls(wire, "POST", "/commit") == 1
    assert _calls(wire, "DELETE") == 1  # the other session, once the digests were known
    assert _sessions_left(app, db) == (0, [])
    assert {(a.path, a.digest) for a in sdk.manifest("team/m@1")[1].artifacts} == {
        ("a.bin", digest_of(data)),
        ("b.bin", digest_of(data)),
    }
    assert read_tree(sdk.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "c2")) == {
        "a.bin": data,
        "b.bin": data,
    }


def test_a_file_that_cannot_be_hashed_abandons_its_session(
    sdk: Client, wire: Recording, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app: FastAPI,
    db: Database,
) -> None:  # fmt: skip
    (tmp_path / "big.bin").write_bytes(os.urandom(3 * MIB))

    def unreadable(path: Path, advance: Callable[[int], None]) -> str:
        raise OSError("the disk went away")

    monkeypatch.setattr(_transfer, "hash_file", unreadable)
    with pytest.raises(OSError, match="went away"):
        sdk.push(tmp_path / "big.bin", "team/m", chunk_size=MIB, cache_dir=tmp_path / "c")
    assert _calls(wire, "DELETE") == 1
    assert _sessions_left(app, db) == (0, [])
    assert list(sdk.iter_versions("team/m")) == []


def test_a_file_of_one_chunk_is_hashed_before_it_is_sent(
    sdk: Client, wire: Recording, tmp_path: Path
) -> None:
    (tmp_path / "one.bin").write_bytes(os.urandom(5 * MIB))  # one PUT, named by its digest
    sdk.push(tmp_path / "one.bin", "team/m", chunk_size=8 * MIB, cache_dir=tmp_path / "c")
    assert wire.seen["PUT"] == 1
    assert _calls(wire, "POST") == 0
