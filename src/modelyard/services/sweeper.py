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

from modelyard.db.engine import Database
from modelyard.db.periodic import Periodic
from modelyard.services import transitions

log = logging.getLogger("modelyard.transitions")


class ExpirySweeper(Periodic):
    def __init__(self, db: Database, interval: float) -> None:
        super().__init__("transition-expiry", self._sweep, interval)
        self.db = db

    def _sweep(self) -> None:
        if closed := transitions.expire_due(self.db):
            log.info("closed %d expired transition requests", closed)
