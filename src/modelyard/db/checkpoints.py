"""SQLite write-ahead-log checkpoints in a background thread, off the request path.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint copies them into the
database file and syncs it. Left to SQLite, the commit that pushes the log past
``wal_autocheckpoint`` pages runs the checkpoint itself, so every few dozen version creations
one request waits for page copies and two fsyncs (measured: about half of a commit's wall time
on average, and the p95 spikes). The server instead checkpoints from this thread every
``interval`` seconds (``PASSIVE``: never waits for, nor blocks, readers and writers), and
connections keep a high ``wal_autocheckpoint`` (``engine.WAL_AUTOCHECKPOINT_PAGES``) only as a
bound for when this thread is not running (CLI commands, tests, a stalled thread).

Under a steady stream of writes the bound is still reached: SQLite restarts the log only when a
write transaction begins with every frame copied back, and the writer is always a transaction
ahead of this thread. The commit that passes the bound then checkpoints the few frames left
and syncs (docs/architecture.md has the measurement).

    request threads ── commit ──> -wal ──(every interval, this thread)──> database file
"""

from __future__ import annotations

from modelyard.db.engine import Database
from modelyard.db.periodic import Periodic

INTERVAL_SECONDS = 1.0


class WalCheckpointer(Periodic):
    """Checkpoints every ``interval`` seconds, and once more when stopped."""

    def __init__(self, db: Database, interval: float = INTERVAL_SECONDS) -> None:
        super().__init__("wal-checkpoint", db.checkpoint, interval, last_round=True)
        self.db = db
