"""The background thread behind WAL checkpoints and the expiry sweeper (db/periodic.py)."""

from __future__ import annotations

import time

import pytest

from modelyard.db.periodic import Periodic

WAIT_SECONDS = 5.0


def test_a_failed_round_is_followed_by_the_next() -> None:
    calls: list[int] = []

    def step() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("database busy")

    thread = Periodic("test-periodic", step, 0.01)
    thread.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    thread.stop()
    assert len(calls) >= 3
    assert not thread.is_running()


@pytest.mark.parametrize(("last_round", "expected"), [(True, 1), (False, 0)])
def test_last_round_runs_once_more_when_stopped(last_round: bool, expected: int) -> None:
    calls: list[str] = []
    thread = Periodic("test-periodic", lambda: calls.append("x"), 3600, last_round)
    thread.start()
    assert thread.is_running()
    thread.stop()
    assert len(calls) == expected
