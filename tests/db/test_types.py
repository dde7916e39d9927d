"""UTCDateTime (db/types.py): its one-step SQLite bind gives the text SQLAlchemy's own
layers (``process_bind_param``, then the dialect's DATETIME) give, so rows written before and
after it compare and sort alike; and every value reads back as the same aware UTC instant.
``uuid7``: time-ordered ids."""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from modelyard.db.engine import Database
from modelyard.db.tables import NamespaceRow
from modelyard.db.types import UTCDateTime, uuid7

VALUES = [
    datetime(2026, 11, 27, 8, 30, 0, 123456, tzinfo=UTC),
    datetime(2026, 11, 27, 8, 30, 0, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 11, 27, 8, 30, 0, 7),  # naive: taken as UTC
    datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=5))),  # another offset
    datetime(2026, 3, 1, 0, 30, tzinfo=timezone(-timedelta(hours=9, minutes=30))),
    datetime(1, 1, 1),
    datetime(999, 12, 31, 23, 59, 59, 999999),
]


@pytest.mark.parametrize("value", [*VALUES, None])
def test_sqlite_bind_is_the_text_sqlalchemy_layers_give(value: datetime | None) -> None:
    dialect = sqlite.dialect()
    column = UTCDateTime()
    layered = sqlite.DATETIME().bind_processor(dialect)
    assert layered is not None
    fast = column._cached_bind_processor(dialect)
    assert fast is not None
    assert fast(value) == layered(column.process_bind_param(value, dialect))


def test_sqlite_bind_refuses_what_is_not_a_datetime() -> None:
    fast = UTCDateTime()._cached_bind_processor(sqlite.dialect())
    assert fast is not None
    with pytest.raises(TypeError, match="expected datetime"):
        fast(date(2026, 11, 27))
    with pytest.raises(TypeError, match="expected datetime"):
        fast("2026-11-27 08:30:00")


def test_values_read_back_as_the_same_utc_instant(db: Database) -> None:
    ids = []
    with db.write() as s:
        for i, value in enumerate(VALUES):
            row = NamespaceRow(
                id=uuid.uuid4(),
                name=f"ns{i}",
                description="",
                visibility="private",
                created_by="t",
                created_at=value,
                updated_at=value,
            )
            s.add(row)
            ids.append(row.id)
    with db.read() as s:
        got = {
            r.id: r.created_at for r in s.execute(select(NamespaceRow.id, NamespaceRow.created_at))
        }
    for row_id, value in zip(ids, VALUES, strict=True):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        assert got[row_id] == aware
        assert got[row_id].tzinfo == UTC


def test_uuid7_is_an_rfc_9562_version_7_uuid_of_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    made = uuid7()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after


def test_uuid7s_sort_by_time_as_text_and_as_numbers_and_never_repeat() -> None:
    # A unique index on them appends at its right edge: later ids sort after earlier ones,
    # as SQLite's hex text and as PostgreSQL's bytes (the same order as the numbers).
    batches = []
    for _ in range(3):
        batches.append([uuid7() for _ in range(1000)])
        time.sleep(0.002)
    for earlier, later in itertools.pairwise(batches):
        assert max(u.hex for u in earlier) < min(u.hex for u in later)
        assert max(u.int for u in earlier) < min(u.int for u in later)
    assert len({u for batch in batches for u in batch}) == 3000
