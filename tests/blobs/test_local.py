"""What only the local disk backend promises: how it makes batches durable, and where it asks
the file system to put new files. The shared contract is in test_conformance.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelyard.blobs import inodes, layout, local
from modelyard.blobs.local import LocalBlobStore
from modelyard.domain.digests import digest_of
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
