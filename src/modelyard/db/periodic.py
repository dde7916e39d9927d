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
    ``last_round``, once more when stopped (a checkpoint on the way out). ``interval`` is read
    before every wait, so a step may change it (the checkpointer hurries while writes come)."""

    def __init__(
        self, name: str, step: Callable[[], object], interval: float, last_round: bool = False
    ) -> None:
        self.name = name
        self.step = step
        self.interval = interval
        self.last_round = last_round
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by stop() and wake(): ends the current wait
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def wake(self) -> None:
        """Run the next round now instead of at the end of the current wait."""
        self._wake.set()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            stopping = self._stop.is_set()
            if stopping and not self.last_round:
                return
            try:
                self.step()
            except Exception:
                log.warning("%s failed; the next round tries again", self.name, exc_info=True)
            if stopping:
                return
