"""Prepared statements (db/prepared.py) run in the session's transaction with SQLAlchemy's own
type processing and errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.prepared import Prepared
from modelyard.db.tables import NamespaceRow, OutboxEventRow
from modelyard.settings import Settings
from tests import factories

NS = cast(Table, NamespaceRow.__table__)
OUT = cast(Table, OutboxEventRow.__table__)
AT = factories.ROW_TIME


def _event(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "event_id": uuid.uuid4(),
        "type": "model.created",
        "namespace": "team",
        "target": "team/fraud",
        "payload": {"data": {"after": {"tags": {"é": "ü"}}}, "n": 1.5},
        "created_at": AT,
    }


def test_inserts_round_trip_every_type(db: Database) -> None:
    events = [_event(1), _event(2)]
    with db.write() as s:
        Prepared(insert(OUT)).run_many(s, events)
    with db.read() as s:
        rows = s.execute(select(OUT).order_by(OUT.c.seq)).mappings().all()
    assert [dict(r) for r in rows] == events


def test_returning_and_select_rows_are_processed_like_sqlalchemys(db: Database) -> None:
    ns = factories.namespace_row("team")
    counter = Prepared(
        update(NS)
        .where(NS.c.name == bindparam("which"))
        .values(description=NS.c.description + "!", updated_at=bindparam("now"))
        .returning(NS.c.id, NS.c.updated_at, NS.c.description)
    )
    later = datetime(2027, 1, 1, tzinfo=UTC)
    with db.write() as s:
        Prepared(insert(NS)).run(s, ns)
        got = counter.rows(s, {"which": "team", "now": later})
        missing = counter.rows(s, {"which": "nobody", "now": later})
        read = Prepared(select(NS.c.id, NS.c.created_at).where(NS.c.name == "team")).rows(s, {})
    assert got == [(ns["id"], later, "!")]
    assert missing == []
    assert read == [(ns["id"], AT)]


def test_statements_join_the_sessions_transaction(db: Database) -> None:
    def write_then_fail() -> None:
        with db.write() as s:
            Prepared(insert(NS)).run(s, factories.namespace_row("lost"))
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        write_then_fail()
    with db.read() as s:
        assert s.scalar(select(NS.c.name)) is None


def test_a_constraint_violation_is_sqlalchemys_integrity_error(db: Database) -> None:
    with db.write() as s:
        Prepared(insert(NS)).run(s, factories.namespace_row("team"))
    with pytest.raises(IntegrityError), db.write() as s:
        Prepared(insert(NS)).run(s, factories.namespace_row("team"))


def test_expanding_parameters_are_refused(db: Database) -> None:
    stmt = Prepared(select(NS.c.name).where(NS.c.name.in_(bindparam("names", expanding=True))))
    with pytest.raises(ValueError, match="expanding"), db.read() as s:
        stmt.rows(s, {"names": ["a"]})


def test_no_rows_to_insert_runs_nothing(db: Database) -> None:
    with db.write() as s:
        Prepared(insert(OUT)).run_many(s, [])
    with db.read() as s:
        assert s.scalar(select(OUT.c.seq)) is None


def test_values_are_stored_exactly_as_sqlalchemy_stores_them(db: Database) -> None:
    """Same bind processing: a row written by Prepared and one written by session.execute hold
    the same raw values (SQLite keeps datetimes, UUIDs and JSON as text)."""
    mine = _event(1)
    with db.write() as s:
        Prepared(insert(OUT)).run(s, mine)
        s.execute(insert(OUT), {**mine, "seq": 2, "event_id": uuid.uuid4()})
    raw = text("SELECT created_at, payload, namespace FROM outbox_events ORDER BY seq")
    with db.read() as s:
        first, second = s.execute(raw).all()
    assert tuple(first) == tuple(second)


def test_a_session_that_runs_two_transactions_runs_each_statement_in_its_own(
    db: Database,
) -> None:
    with Session(db.engine) as s:
        Prepared(insert(NS)).run(s, factories.namespace_row("kept"))
        s.commit()
        Prepared(insert(NS)).run(s, factories.namespace_row("dropped"))
        s.rollback()
    with db.read() as s:
        assert s.scalars(select(NS.c.name)).all() == ["kept"]


def test_first_is_a_row_named_as_the_columns_or_none(db: Database) -> None:
    ns = factories.namespace_row("team")
    with db.write() as s:
        Prepared(insert(NS)).run(s, ns)
    stmt = Prepared(select(NS.c.id, NS.c.created_at).where(NS.c.name == bindparam("name")))
    with db.read() as s:
        core = s.execute(stmt.statement, {"name": "team"}).first()
        row = stmt.first(s, {"name": "team"})
        assert stmt.first(s, {"name": "nobody"}) is None
    assert row is not None
    assert core is not None
    assert (row.id, row.created_at) == (core.id, core.created_at) == (ns["id"], AT)


def test_a_snapshot_reads_committed_rows(db: Database) -> None:
    """``Database.snapshot``: prepared reads on a pooled connection without a Session, rolled
    back at the end, the connection back in the pool for the next."""
    names = Prepared(select(NS.c.name).where(NS.c.name == bindparam("name")))
    with db.snapshot() as snap:
        assert names.first(snap, {"name": "team"}) is None
    with db.write() as s:
        Prepared(insert(NS)).run(s, factories.namespace_row("team"))
    for _ in range(3):
        with db.snapshot() as snap:
            assert names.rows(snap, {"name": "team"}) == [("team",)]
    with db.snapshot() as snap, db.write() as s:  # a snapshot does not hold writers up
        Prepared(insert(NS)).run(s, factories.namespace_row("other"))
        assert names.first(snap, {"name": "team"}) == ("team",)


def test_a_snapshot_is_one_consistent_read_and_the_next_sees_what_others_committed(
    db: Database, settings: Settings
) -> None:
    """On SQLite a thread's snapshots (and peeks) share the connection it keeps: each
    snapshot still reads as of its start and ends there, leaving nothing open, and neither a
    snapshot inside it nor a peek is held to its point in time."""
    other = Database.from_url(settings.resolved_database_url)  # as another process has it
    names = Prepared(select(NS.c.name).order_by(NS.c.name))
    count = select(func.count()).select_from(NS)
    try:
        with db.snapshot() as snap:
            assert names.rows(snap, {}) == []
            with other.write() as s:
                Prepared(insert(NS)).run(s, factories.namespace_row("one"))
            # As of the snapshot's start on SQLite; PostgreSQL reads at READ COMMITTED.
            assert names.rows(snap, {}) == ([] if db.dialect == "sqlite" else [("one",)])
            with db.snapshot() as inner:
                assert names.rows(inner, {}) == [("one",)]
            assert db.peek(count) == 1
        with db.snapshot() as snap:
            assert names.rows(snap, {}) == [("one",)]
        with pytest.raises(RuntimeError), db.snapshot() as snap:
            raise RuntimeError("the block fails")
        with other.write() as s:
            Prepared(insert(NS)).run(s, factories.namespace_row("two"))
        with db.snapshot() as snap:
            assert names.rows(snap, {}) == [("one",), ("two",)]
        assert db.peek(count) == 2
        if db.dialect == "sqlite":  # no read left open: a checkpoint gets the whole log
            busy, frames, done = db.checkpoint() or (1, 0, 0)
            assert busy == 0
            assert frames == done
    finally:
        other.dispose()


def test_run_many_of_one_row_and_of_several_insert_them_all(db: Database) -> None:
    with db.write() as s:
        Prepared(insert(OUT)).run_many(s, [_event(1)])
        Prepared(insert(OUT)).run_many(s, [_event(2), _event(3)])
    with db.read() as s:
        assert list(s.scalars(select(OUT.c.seq).order_by(OUT.c.seq))) == [1, 2, 3]


def test_parameter_names_are_data_never_code(db: Database) -> None:
    """Each plan's binder is written as Python source (``_binder``); a bind name that reads as
    code is bound as a name all the same."""
    odd = "x'], __import__('os').getpid()) #"
    stmt = Prepared(
        update(NS).where(NS.c.name == bindparam(odd)).values(description=bindparam("d\"'\\n"))
    )
    with db.write() as s:
        Prepared(insert(NS)).run(s, factories.namespace_row("team"))
        stmt.run(s, {odd: "team", "d\"'\\n": "changed"})
    with db.read() as s:
        assert s.scalar(select(NS.c.description).where(NS.c.name == "team")) == "changed"
