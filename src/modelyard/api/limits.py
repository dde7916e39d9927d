"""Failed-authentication limits per client: after ``max_failures`` failed logins or bad tokens
within ``window`` seconds, a client's credentialed requests get 429 with ``Retry-After`` until
its oldest failure leaves the window. Good credentials are refused too while a client is
blocked: otherwise a 429 would mean "wrong" and a 200 "found", and guessing would go on.

In memory, per server process (with N workers a client gets up to N times the limit). It fails
closed: if the limiter itself breaks (or is full of clients, as in a flood from many addresses),
the attempt is refused rather than let through unchecked.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class FailureLimiter:
    def __init__(
        self,
        max_failures: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def nobody_failed(self) -> bool:
        """No failure is held for any client: then every client may try (``retry_after`` is 0).
        Read without the lock: a failure counted meanwhile is as if it came just after."""
        return not self._failures and self.max_clients > 0

    def retry_after(self, client: str) -> int:
        """Seconds the client must wait before trying credentials again; 0 when it may now."""
        try:
            with self._lock:
                return self._wait(client, self._clock())
        except Exception:  # fail closed: a broken limiter refuses, it never waves through
            return math.ceil(self.window)

    def failed(self, client: str) -> None:
        """Count one failure. Returns quietly; ``retry_after`` tells the consequence."""
        with self._lock:
            now = self._clock()
            failures = self._failures.get(client)
            if failures is None:
                self._make_room(now)
                failures = self._failures.setdefault(client, deque())
            failures.append(now)
            self._failures.move_to_end(client)

    def _wait(self, client: str, now: float) -> int:
        failures = self._failures.get(client)
        if failures is None:
            return math.ceil(self.window) if len(self._failures) >= self.max_clients else 0
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(failures) < self.max_failures:
            return 0
        return max(1, math.ceil(failures[-self.max_failures] + self.window - now))

    def _make_room(self, now: float) -> None:
        """Forget clients whose failures have all left the window (oldest first)."""
        while self._failures:
            client, failures = next(iter(self._failures.items()))
            if failures and failures[-1] > now - self.window:
                break
            del self._failures[client]
