"""Concurrency: real threads, one shared Database, on SQLite and PostgreSQL.

Version numbers stay gapless and unique however many writers race (invariant 5), and racing
creators of one model name get MODEL_EXISTS, never an IntegrityError or a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import ModelRow, VersionRow
from modelyard.domain.errors import ModelyardError
from modelyard.services import models, namespaces, versions

T = TypeVar("T")

THREADS = 16
VERSIONS_PER_THREAD = 25
NAME_RACERS = 8


def _race(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(i)`` in ``count`` threads released together; return results or exceptions."""
    start = threading.Barrier(count)

    def run(i: int) -> T | BaseException:
        start.wait()
        try:
            return work(i)
        except Exception as exc:  # collected and asserted on by the caller
            return exc

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_version_creation_numbers_gapless_one_to_four_hundred(db: Database) -> None:
    namespaces.create_namespace(db, "alice", "risk-team")
    models.create_model(db, "alice", "risk-team", "fraud")

    def create_many(i: int) -> list[int]:
        return [
            versions.create_version(db, f"user-{i}", "risk-team", "fraud").version
            for _ in range(VERSIONS_PER_THREAD)
        ]

    results = _race(THREADS, create_many)

    errors = [r for r in results if isinstance(r, BaseException)]
    assert [(repr(e), repr(e.__cause__)) for e in errors] == []
    handed_out = sorted(n for r in results if isinstance(r, list) for n in r)
    total = THREADS * VERSIONS_PER_THREAD
    assert handed_out == list(range(1, total + 1))
    with db.read() as s:
        stored = sorted(s.scalars(select(VersionRow.number)))
        counter = s.scalar(select(ModelRow.version_counter).where(ModelRow.name == "fraud"))
    assert stored == list(range(1, total + 1))
    assert counter == total


def test_concurrent_creation_of_one_model_name_has_one_winner_and_model_exists(
    db: Database,
) -> None:
    namespaces.create_namespace(db, "alice", "risk-team")

    results = _race(
        NAME_RACERS, lambda i: models.create_model(db, f"user-{i}", "risk-team", "fraud")
    )

    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert len(losers) == NAME_RACERS - 1
    assert all(isinstance(e, ModelyardError) for e in losers), losers
    assert {(e.code, e.status) for e in losers if isinstance(e, ModelyardError)} == {
        ("MODEL_EXISTS", 409)
    }
    with db.read() as s:
        assert s.scalars(select(ModelRow.name)).all() == ["fraud"]


def test_concurrent_creation_of_one_namespace_has_one_winner_and_namespace_exists(
    db: Database,
) -> None:
    results = _race(NAME_RACERS, lambda i: namespaces.create_namespace(db, f"u{i}", "risk-team"))

    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(results) - len(losers) == 1
    assert {getattr(e, "code", repr(e)) for e in losers} == {"NAMESPACE_EXISTS"}
