"""Closing expired transition requests in the background, so their ends are not lazy.

A pending request past ``expires_at`` is closed as ``expired`` by whatever touches it first
(listing, showing, voting, requesting again). Without this thread, an unwatched request would
stay "pending" in the database, and its ``transition.expired`` audit and webhook event would
not exist, until somebody looked. ``modelyard serve`` runs one sweeper per server process
every ``MODELYARD_TRANSITION_SWEEP_SECONDS``; ``transitions.expire_due`` reads first and takes
the write lock only when something is due, and closes each request once even when several
processes sweep (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, one writer on SQLite).
"""

from __future__ import annotations

import logging
import threading

from modelyard.db.engine import Database
from modelyard.services import transitions

log = logging.getLogger("modelyard.transitions")


class ExpirySweeper:
    def __init__(self, db: Database, interval: float) -> None:
        self.db = db
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="transition-expiry", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                closed = transitions.expire_due(self.db)
            except Exception:  # a busy or unreachable database: the next round tries again
                log.warning("closing expired transition requests failed; retrying", exc_info=True)
                continue
            if closed:
                log.info("closed %d expired transition requests", closed)
