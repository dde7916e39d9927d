"""The SDK's local cache, keyed by digest, so a second pull moves no bytes over the network.

    <cache dir>/                      MODELYARD_CACHE_DIR, else $XDG_CACHE_HOME/modelyard,
    │                                 else ~/.cache/modelyard
    ├── sha256/ab/<64 hex>            verified blobs (same fan-out as the server's layout)
    ├── partial/<64 hex>              a download in progress; the next pull resumes it (Range)
    ├── partial/batch-<id>/<64 hex>   the small blobs of one batch download, while it runs
    ├── partial/<64 hex>.received     for a big one: how many of its bytes were received
    └── digests.sqlite                file digests by (path, size, mtime, ctime, inode), so a
                                      re-push of unchanged files does not read them again;
                                      and each cached blob's (size, mtime, inode) when cached

What is learnt during a push or pull is written to ``digests.sqlite`` in one transaction when
the cache is closed (or every ``FLUSH_EVERY`` records): a transaction per file would cost a
journal sync each, which for 2,000 small files took longer than sending them. A process that
dies before then only loses the records: the files are hashed again, and a cached blob without
its record is dropped and downloaded again.

Each batch download writes its blobs in a directory of its own, made under ``partial/`` with
ext4's ``T`` attribute (``blobs/inodes.py``: creating thousands of files next to ones deleted
minutes ago costs about a millisecond each on ext4 without a journal); it is removed when the
batch ends, or by a later cache opening once it is an hour old (a process killed mid-batch).

A blob enters ``sha256/`` only by a rename after its digest was checked. The pull that
downloads a blob hard-links it into its destination (no second copy of the bytes on disk);
every later use copies it. So a cached file may also be a user's file: one edited in place
gets a new mtime, no longer matches what was recorded, and is dropped from the cache instead
of being handed out (``has``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from modelyard.blobs import layout
from modelyard.blobs.inodes import spread_subdirectories
from modelyard.domain.digests import hex_of


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get("MODELYARD_CACHE_DIR"):
        return Path(env["MODELYARD_CACHE_DIR"]).expanduser()
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "modelyard"


FLUSH_EVERY = 1000
STALE_BATCH_SECONDS = 3600  # a batch directory this old belongs to a process that died


class LocalCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("partial", layout.BLOBS):
            (root / sub).mkdir(parents=True, exist_ok=True)
            spread_subdirectories(root / sub)  # batch directories; fan-out directories
        _remove_stale_batches(root / "partial")
        self._lock = threading.Lock()
        self._new_digests: dict[str, str] = {}  # stat key -> digest, not yet written
        self._new_blobs: dict[str, str] = {}  # digest -> stat, not yet written
        self._db = sqlite3.connect(root / "digests.sqlite", check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS digests (key TEXT PRIMARY KEY, digest TEXT NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS blobs (digest TEXT PRIMARY KEY, stat TEXT NOT NULL)"
            )

    def blob(self, digest: str) -> Path:
        return self.root / layout.blob_key(digest)

    def has(self, digest: str) -> bool:
        """True when the cached blob is there and unchanged since it was cached."""
        path = self.blob(digest)
        with self._lock:
            recorded = self._new_blobs.get(digest)
            if recorded is None:
                row = self._db.execute(
                    "SELECT stat FROM blobs WHERE digest = ?", (digest,)
                ).fetchone()
                recorded = row[0] if row else None
        if recorded is not None and path.is_file() and recorded == _blob_stat(path):
            return True
        path.unlink(missing_ok=True)  # edited in place through a hard link, or never recorded
        return False

    def partial(self, digest: str) -> Path:
        return self.root / "partial" / hex_of(digest)

    @contextmanager
    def batch_area(self) -> Iterator[Path]:
        """A directory of its own for the files of one batch download, removed afterwards
        with whatever it still holds (see the module docstring)."""
        area = self.root / "partial" / f"batch-{uuid.uuid4().hex}"
        area.mkdir()
        try:
            yield area
        finally:
            shutil.rmtree(area, ignore_errors=True)

    def keep(self, digest: str, source: Path | None = None) -> Path:
        """Move the verified download (the partial file, or ``source``) into the cache."""
        target = self.blob(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source or self.partial(digest), target)
        with self._lock:
            self._new_blobs[digest] = _blob_stat(target)
        self._flush_if_many()
        return target

    def known_digest(self, key: str) -> str | None:
        """The digest remembered for a file whose ``stat_key`` is ``key``."""
        with self._lock:
            if key in self._new_digests:
                return self._new_digests[key]
            row = self._db.execute("SELECT digest FROM digests WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def remember_digest(self, key: str, digest: str) -> None:
        with self._lock:
            self._new_digests[key] = digest
        self._flush_if_many()

    def _flush_if_many(self) -> None:
        if len(self._new_digests) + len(self._new_blobs) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        """Write what was learnt since the last flush, in one transaction."""
        with self._lock, self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO digests (key, digest) VALUES (?, ?)",
                self._new_digests.items(),
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO blobs (digest, stat) VALUES (?, ?)",
                self._new_blobs.items(),
            )
            self._new_digests.clear()
            self._new_blobs.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self._db.close()


def stat_key(path: Path) -> str:
    """What identifies a file's content without reading it. ctime changes on every write,
    even one that restores size and mtime. The path is made absolute but symbolic links are
    not resolved (the inode identifies the file): resolving cost an lstat per path component,
    twice per file, a tenth of the client's CPU when pushing 2,000 small files."""
    st = path.stat()
    where = os.path.abspath(path)
    return f"{where}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}"


def _blob_stat(path: Path) -> str:
    # Not ctime: linking and unlinking the user's copy changes it, while the bytes stay.
    st = path.stat()
    return f"{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}"


def _remove_stale_batches(partial: Path) -> None:
    deadline = time.time() - STALE_BATCH_SECONDS
    with os.scandir(partial) as entries:
        stale = [
            e.path
            for e in entries
            if e.name.startswith("batch-") and e.is_dir() and e.stat().st_mtime < deadline
        ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
