"""What only the local disk backend promises: how it makes batches durable, and where it asks
the file system to put new files. The shared contract is in test_conformance.py."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

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


def test_batch_syncs_the_fanout_parent_once_and_every_touched_fanout_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalBlobStore(tmp_path)
    calls: list[Path] = []

    def failing(path: Path) -> None:
        calls.append(path)
        if path.name == "000003":
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
