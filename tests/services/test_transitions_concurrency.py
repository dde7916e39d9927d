"""Acceptance: 50 concurrent promotions of different versions of one model to production, on
SQLite and PostgreSQL, real threads on one shared Database.

Exactly one version is in production at every moment (a reader watches throughout), every
promotion that loses the race gets 409 TRANSITION_CONFLICT, and each applied transition has
exactly one ``transition.applied`` audit event. Promotions that overlap in time conflict; one
that starts after another committed replaces it (that is a sequential promotion), so the
winners, if more than one, form a chain in which each replaced the one before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import func, select

from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, VersionRow
from modelyard.domain.errors import ModelyardError
from modelyard.domain.transitions import Transition
from modelyard.services import models, transitions, versions
from tests.governance import DAY, MODEL, NS, open_policy, team, who

T = TypeVar("T")
RACERS = 50


def _race(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    start = threading.Barrier(count)

    def run(i: int) -> T | BaseException:
        start.wait()
        try:
            return work(i)
        except Exception as exc:  # collected and asserted on below
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _in_production(db: Database) -> int:
    stmt = select(func.count()).select_from(VersionRow).where(VersionRow.stage == "production")
    with db.read() as s:
        return int(s.scalar(stmt) or 0)


def test_fifty_concurrent_promotions_leave_one_production_version(db: Database) -> None:
    team(db)
    models.create_model(db, "mia", NS, "fraud")
    for _ in range(RACERS):
        versions.create_version(db, "mia", NS, "fraud")
    policy = open_policy()
    mia = who(db, "mia").user_id

    def promote(ref: str) -> Transition:
        return transitions.request_transition(db, policy, "mia", mia, ref, "production", "go", DAY)

    seen: list[int] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            seen.append(_in_production(db))

    reader = threading.Thread(target=watch)
    reader.start()
    try:
        results = _race(RACERS, lambda i: promote(f"{MODEL}@{i + 1}"))
    finally:
        done.set()
        reader.join()

    won = sorted((r for r in results if isinstance(r, Transition)), key=lambda t: t.id)
    lost = [r for r in results if not isinstance(r, Transition)]
    assert won
    assert [(type(e).__name__, getattr(e, "code", repr(e))) for e in lost] == [
        ("ConflictError", "TRANSITION_CONFLICT")
    ] * len(lost)
    assert all(isinstance(e, ModelyardError) and e.status == 409 for e in lost)
    assert len(won) + len(lost) == RACERS
    assert all(t.status == "applied" for t in won)
    # each winner replaced the one before it: never two holders at once
    assert [t.replaced_version for t in won] == [None, *(t.version for t in won[:-1])]
    assert seen  # the reader looked while the race ran
    assert max(seen) <= 1
    assert _in_production(db) == 1
    with db.read() as s:
        holder = s.scalar(select(VersionRow.number).where(VersionRow.stage == "production"))
        applied = list(
            s.scalars(select(AuditEventRow).where(AuditEventRow.action == "transition.applied"))
        )
    assert holder == won[-1].version
    assert sorted(e.after["id"] for e in applied if e.after) == [t.id for t in won]
    print(f"\n{db.dialect}: {len(won)} promotion(s) won, {len(lost)} got 409")
