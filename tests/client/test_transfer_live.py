"""The SDK against a real ``modelyard serve`` process: big blobs are pulled over a connection
of their own with ``http.client`` (client/_bodies.py), which no in-process test reaches."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelyard.client import Client, NotFoundError, _download
from modelyard.client._cache import LocalCache
from modelyard.domain.digests import digest_of
from modelyard.settings import Settings
from tests.api.test_blobs_crash import free_port, serve

pytestmark = pytest.mark.slow
MIB = 1024 * 1024


@pytest.fixture
def live(settings: Settings, admin_token: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for proxy in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(proxy, raising=False)
    port = free_port()
    with serve(settings, port), Client(f"http://127.0.0.1:{port}", token=admin_token) as c:
        c.create_namespace("team")
        c.create_model("team/m")
        yield c


def test_a_big_blob_is_pulled_directly_byte_identical_and_resumed_with_a_range(
    live: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_download, "DIRECT_MIN", MIB)
    monkeypatch.setattr(_download, "BUFFER", 256 * 1024)  # many buffers: the hand-offs turn
    data = os.urandom(3 * MIB + 17)
    (tmp_path / "w.bin").write_bytes(data)
    live.push(tmp_path / "w.bin", "team/m", cache_dir=tmp_path / "c", code=False)
    assert live._http._direct
    out = live.pull("team/m@1", tmp_path / "out", cache_dir=tmp_path / "pull")
    assert (out / "w.bin").read_bytes() == data

    partial = tmp_path / "again" / "partial" / digest_of(data)[7:]
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[: 2 * MIB])  # what a cut-off pull left
    out = live.pull("team/m@1", tmp_path / "out2", cache_dir=tmp_path / "again")
    assert (out / "w.bin").read_bytes() == data


def test_a_direct_download_of_an_unknown_blob_is_blob_not_found(
    live: Client, tmp_path: Path
) -> None:
    cache = LocalCache(tmp_path / "c")
    downloader = _download.Downloader(live._http, cache)
    with pytest.raises(NotFoundError) as err:
        downloader.fetch(digest_of(b"never pushed"), 64 * MIB, lambda n: None)
    cache.close()
    assert err.value.code == "BLOB_NOT_FOUND"
