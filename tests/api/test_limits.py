"""The failed-authentication limiter, on a clock the test moves."""

from __future__ import annotations

from modelyard.api.limits import FailureLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_is_blocked_after_the_limit_until_its_oldest_failure_leaves_the_window() -> None:
    clock = Clock()
    limiter = FailureLimiter(3, 60, clock)
    for step in range(3):
        assert limiter.retry_after("a") == 0
        limiter.failed("a")
        clock.now += 10 * (step + 1)  # failures at 1000, 1010, 1030
    assert clock.now == 1060
    assert limiter.retry_after("a") == 0  # the one at 1000 has left the window
    limiter.failed("a")  # 1010, 1030, 1060
    assert limiter.retry_after("a") == 10  # until 1010 + 60
    assert limiter.retry_after("b") == 0
    clock.now += 10
    assert limiter.retry_after("a") == 0


def test_a_broken_clock_fails_closed() -> None:
    def broken() -> float:
        raise OSError("no clock")

    assert FailureLimiter(3, 60, broken).retry_after("a") == 60


def test_when_full_of_recent_clients_a_new_one_is_refused_and_old_ones_make_room() -> None:
    clock = Clock()
    limiter = FailureLimiter(3, 60, clock, max_clients=2)
    limiter.failed("a")
    limiter.failed("b")
    assert limiter.retry_after("c") == 60  # cannot be counted: refused
    clock.now += 61
    limiter.failed("c")  # a and b are forgotten to make room
    assert limiter.retry_after("d") == 0


def test_nobody_failed_holds_until_a_failure_is_counted() -> None:
    """The request path's shortcut: while it holds, every client may try (no lock taken)."""
    limiter = FailureLimiter(3, 60, Clock())
    assert limiter.nobody_failed()
    assert limiter.retry_after("a") == 0
    limiter.failed("a")
    assert not limiter.nobody_failed()
    assert not FailureLimiter(3, 60, Clock(), max_clients=0).nobody_failed()  # always full
