"""What only the local disk backend promises: how it makes batches durable, and where it asks
the file system to put new files. The shared contract is in test_conformance.py."""

from __future__ import annotations

import array
import fcntl
import os
from pathlib import Path

import pytest

from modelyard.blobs import layout, local
from modelyard.blobs.local import LocalBlobStore
from modelyard.domain.digests import digest_of


def _flags(path: Path) -> int | None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, local.FS_IOC_GETFLAGS, flags, True)
        return flags[0]
    except OSError:
        return None
    finally:
        os.close(fd)


def test_uploads_area_spreads_the_directories_made_in_it(tmp_path: Path) -> None:
    if _flags(tmp_path) is None:
        pytest.skip("this file system has no inode flags (not ext2/3/4)")
    store = LocalBlobStore(tmp_path / "store")
    flags = _flags(store.root / layout.UPLOADS)
    assert flags is not None
    assert flags & local.FS_TOPDIR_FL
    assert not (_flags(store.root / layout.BLOBS) or 0) & local.FS_TOPDIR_FL


def test_spreading_is_best_effort_where_the_file_system_refuses(tmp_path: Path) -> None:
    assert local.spread_subdirectories(tmp_path / "absent") is False


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
