"""The SDK's local cache (client/_cache.py): records written in one go, found again later."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from modelyard.client import _cache
from modelyard.client._cache import LocalCache, stat_key
from modelyard.domain.digests import digest_of
from tests.support import spread


def stored_digests(root: Path) -> int:
    with sqlite3.connect(root / "digests.sqlite") as db:
        return int(db.execute("SELECT count(*) FROM digests").fetchone()[0])


def files(root: Path, n: int) -> list[Path]:
    out = []
    for i in range(n):
        path = root / f"f{i}"
        path.write_bytes(b"x" * i)
        out.append(path)
    return out


def test_digests_are_written_once_when_the_cache_closes_and_found_next_time(
    tmp_path: Path,
) -> None:
    cache = LocalCache(tmp_path / "c")
    paths = files(tmp_path, 3)
    for p in paths:
        cache.remember_digest(stat_key(p), digest_of(p.read_bytes()))
    assert cache.known_digest(stat_key(paths[1])) == digest_of(b"x")  # before it is written
    assert stored_digests(tmp_path / "c") == 0
    cache.close()
    assert stored_digests(tmp_path / "c") == 3
    again = LocalCache(tmp_path / "c")
    assert again.known_digest(stat_key(paths[2])) == digest_of(b"xx")
    again.close()


def test_many_records_are_written_before_the_cache_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_cache, "FLUSH_EVERY", 2)
    cache = LocalCache(tmp_path / "c")
    for p in files(tmp_path, 3):
        cache.remember_digest(stat_key(p), digest_of(p.read_bytes()))
    assert stored_digests(tmp_path / "c") == 2
    cache.close()
    assert stored_digests(tmp_path / "c") == 3


def test_a_kept_blob_is_cached_before_its_record_is_written(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path / "c")
    digest = digest_of(b"blob")
    cache.partial(digest).write_bytes(b"blob")
    kept = cache.keep(digest)
    assert cache.has(digest)
    cache.close()
    again = LocalCache(tmp_path / "c")
    assert again.has(digest)
    assert again.blob(digest) == kept
    again.close()


def test_a_batch_area_goes_with_whatever_it_holds(tmp_path: Path) -> None:
    cache = LocalCache(tmp_path)
    areas: list[Path] = []

    def cut_off() -> None:
        with cache.batch_area() as area:
            areas.append(area)
            (area / "half-written").write_bytes(b"x")
            raise RuntimeError("connection dropped")

    with pytest.raises(RuntimeError):
        cut_off()
    assert not areas[0].exists()
    assert list((tmp_path / "partial").iterdir()) == []


def test_batch_areas_of_a_dead_process_are_removed_when_the_cache_opens(tmp_path: Path) -> None:
    old, recent = tmp_path / "partial" / "batch-old", tmp_path / "partial" / "batch-recent"
    for area in (old, recent):
        area.mkdir(parents=True)
        (area / "member").write_bytes(b"x")
    hours_ago = time.time() - _cache.STALE_BATCH_SECONDS - 60
    os.utime(old, (hours_ago, hours_ago))
    LocalCache(tmp_path).close()
    assert not old.exists()
    assert recent.exists()  # perhaps another process's pull, still running


def test_batch_and_fanout_directories_are_spread(tmp_path: Path) -> None:
    if spread(tmp_path) is None:
        pytest.skip("this file system has no inode flags (not ext2/3/4)")
    LocalCache(tmp_path / "cache").close()
    assert spread(tmp_path / "cache" / "partial") is True
    assert spread(tmp_path / "cache" / "sha256") is True


def test_a_files_key_is_its_absolute_path_without_resolving_links(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f.bin").write_bytes(b"bytes")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    key = stat_key(Path("link") / "f.bin")
    assert key.split("\0")[0] == str(tmp_path / "link" / "f.bin")
    assert key.split("\0")[1:] == stat_key(tmp_path / "real" / "f.bin").split("\0")[1:]
