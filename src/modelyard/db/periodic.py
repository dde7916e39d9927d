"""A background thread that does one thing every few seconds until it is stopped (WAL
checkpoints, closing expired transition requests). A failed round is logged and the next one
tries again: the database may be busy or restarting."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("modelyard.db")


class Periodic:
    """``step()`` every ``interval`` seconds on a daemon thread named ``name``; with
    ``last_round``, once more when stopped (a checkpoint on the way out)."""

    def __init__(
        self, name: str, step: Callable[[], object], interval: float, last_round: bool = False
    ) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.last_round = last_round
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.interval)
            if stopping and not self.last_round:
                return
            try:
                self.step()
            except Exception:
                log.warning("%s failed; the next round tries again", self.name, exc_info=True)
            if stopping:
                return
