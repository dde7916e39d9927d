"""SQLite write-ahead-log checkpoints in a background thread, off the request path.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint copies them into the
database file and syncs it. Left to SQLite, the commit that pushes the log past
``wal_autocheckpoint`` pages runs the checkpoint itself, so every few dozen version creations
one request waits for page copies and two fsyncs (measured: about half of a commit's wall time
on average, and the p95 spikes). The server instead checkpoints from this thread every
``interval`` seconds (``PASSIVE``: never waits for, nor blocks, readers and writers), and
connections keep a high ``wal_autocheckpoint`` (``engine.WAL_AUTOCHECKPOINT_PAGES``) only as a
bound for when this thread is not running (CLI commands, tests, a stalled thread).

    request threads ── commit ──> -wal ──(every interval, this thread)──> database file
"""

from __future__ import annotations

import logging
import threading

from modelyard.db.engine import Database

log = logging.getLogger("modelyard.db")

INTERVAL_SECONDS = 1.0


class WalCheckpointer:
    def __init__(self, db: Database, interval: float = INTERVAL_SECONDS) -> None:
        self.db = db
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread after one last checkpoint."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.interval)
            try:
                self.db.checkpoint()
            except Exception:  # a busy or unreachable database: the next round tries again
                log.warning("WAL checkpoint failed; retrying", exc_info=True)
            if stopping:
                return
