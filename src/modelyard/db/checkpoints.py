"""SQLite write-ahead-log checkpoints in a background thread, off the request path.

In WAL mode a commit appends pages to the ``-wal`` file; a checkpoint syncs the log, copies its
pages into the database file and syncs that. Left to SQLite, the commit that pushes the log past
``wal_autocheckpoint`` pages runs the checkpoint itself: under a steady stream of version
creations one request in about 300 waited 15-18 ms, most of it for the fsync of the ~20 MiB of
log written since the last sync (5 % of the wall time of 3,000 creations in a row). This thread
does that work instead:

    every round  a ``PASSIVE`` checkpoint (never waits for, nor blocks, readers and writers):
                 the log's sync and the page copies, while requests go on
    log long?    (``restart_frames`` or more) a second ``PASSIVE`` checkpoint holding the
                 Database's writer lock, so no writer of this process is mid-transaction:
                 it copies only the frames committed during the first one. With every frame
                 copied, the next write transaction starts the log again from its beginning
                 (SQLite restarts the log only when a write begins on a log that is wholly
                 copied back, which a checkpoint that races the writer never achieves)
    next round   after ``busy_interval`` while the log moves, ``interval`` once it is still;
                 resting, it is woken by the ``wake_after`` th write of this process (so
                 a burst after a quiet spell does not fill the log up to SQLite's bound)

A request waits at most for the second, short checkpoint (well under a millisecond on this
machine, against 15-18 ms before). Connections keep ``wal_autocheckpoint``
(``engine.WAL_AUTOCHECKPOINT_PAGES``) as a bound for processes that run no checkpointer (CLI
commands, tests), for writers of other processes, which the lock does not hold, and for a
reader that holds the log (a restart needs the log free of readers; the next round tries again).

    request threads ── commit ──> -wal ──(this thread)──> database file
"""

from __future__ import annotations

from modelyard.db.engine import Database
from modelyard.db.periodic import Periodic

INTERVAL_SECONDS = 1.0  # between rounds while nothing is written
BUSY_INTERVAL_SECONDS = 0.1  # while the log grows: ~3,000 frames at 1,000 creations a second
# The log length (frames, one page each) at which a round restarts the log: at 2 KiB pages,
# 8 MiB. Far below the autocheckpoint bound, so a round comes first even at a few thousand
# frames per busy interval.
RESTART_FRAMES = 4_096
WAKE_AFTER_WRITES = 32  # commits that wake a resting checkpointer (~1,000 frames of creations)


class WalCheckpointer(Periodic):
    """Checkpoints every round (see the module docstring), and once more when stopped.
    ``restarts`` counts the rounds that left the log wholly copied for the next write to
    restart."""

    def __init__(
        self,
        db: Database,
        interval: float = INTERVAL_SECONDS,
        *,
        busy_interval: float = BUSY_INTERVAL_SECONDS,
        restart_frames: int = RESTART_FRAMES,
        wake_after: int = WAKE_AFTER_WRITES,
    ) -> None:
        super().__init__("wal-checkpoint", self.round, interval, last_round=True)
        self.db = db
        self.idle_interval = interval
        self.busy_interval = min(busy_interval, interval)
        self.restart_frames = restart_frames
        self.restarts = 0
        self._last_frames = 0
        self.wake_after = wake_after
        self._writes = 0  # since the last round, counted while resting

    def start(self) -> None:
        self.db.after_write = self._wrote
        super().start()

    def stop(self) -> None:
        if self.db.after_write == self._wrote:
            self.db.after_write = None
        super().stop()

    def _wrote(self) -> None:
        """After each commit of this process: a resting checkpointer wakes after a few."""
        if self.interval > self.busy_interval:
            self._writes += 1
            if self._writes >= self.wake_after:
                self._writes = 0
                self.wake()

    def round(self) -> None:
        """One checkpoint round; sets the wait before the next (``Periodic`` reads
        ``interval`` before every wait)."""
        done = self.db.checkpoint()
        if done is None:  # not SQLite
            return
        _busy, frames, _copied = done
        if frames >= self.restart_frames:
            held = self.db.checkpoint(hold_writers=True)
            if held is not None and held[0] == 0 and held[1] == held[2]:
                self.restarts += 1
        moved = frames != self._last_frames
        self._last_frames = frames
        self._writes = 0
        self.interval = self.busy_interval if moved else self.idle_interval
