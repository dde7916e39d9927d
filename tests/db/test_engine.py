from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    case,
    delete,
    insert,
    literal,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError

from modelyard.db import engine
from modelyard.db.engine import Database
from modelyard.db.prepared import Prepared
from modelyard.db.tables import AuditEventRow, NamespaceRow, OutboxEventRow
from modelyard.domain.errors import UnavailableError
from modelyard.services import audit
from modelyard.settings import Settings
from tests import factories


def _truth(db: Database, condition: ColumnElement[bool]) -> bool:
    with db.read() as s:
        return bool(s.scalar(select(case((condition, 1), else_=0))))


def test_like_is_case_sensitive_and_ilike_is_not(db: Database) -> None:
    fraud = literal("Fraud")
    assert not _truth(db, fraud.like("fraud"))
    assert not _truth(db, fraud.like("fr%"))
    assert _truth(db, fraud.like("Fr%"))
    assert _truth(db, fraud.ilike("fRAUD"))
    assert _truth(db, fraud.ilike("fr%"))


def test_ilike_folds_case_beyond_ascii(db: Database) -> None:
    assert _truth(db, literal("École Übersetzer").ilike("école über%"))
    assert _truth(db, literal("ÀÉÎÕÜ").ilike("àéîõü"))
    assert not _truth(db, literal("École").like("école"))


def test_sqlite_connections_are_set_up_for_a_server(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.read() as s:
        assert s.scalar(text("PRAGMA journal_mode")) == "wal"
        assert s.scalar(text("PRAGMA foreign_keys")) == 1
        assert s.scalar(text("PRAGMA busy_timeout")) == 30000


def test_a_new_sqlite_database_gets_small_pages_and_an_old_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    # Small pages make every commit's write-ahead-log frames cheaper (engine.PAGE_SIZE); SQLite
    # fixes the size at a file's first table, so a database made before keeps its 4 KiB.
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE t (x)")
    for path, size in ((tmp_path / "new.db", engine.PAGE_SIZE), (old, 4096)):
        db = Database.from_url(f"sqlite:///{path}")
        with db.write() as s:
            s.execute(text("CREATE TABLE IF NOT EXISTS t (x)"))
            s.execute(text("INSERT INTO t VALUES (1)"))
        with db.read() as s:
            assert s.scalar(text("PRAGMA page_size")) == size
            assert s.scalar(text("PRAGMA journal_mode")) == "wal"
            assert s.scalar(text("SELECT count(*) FROM t")) == 1
        db.dispose()
    assert engine.PAGE_SIZE == 2048


def test_write_commits_when_the_block_ends(db: Database) -> None:
    with db.write() as s:
        s.add(NamespaceRow(name="kept", created_by="t"))
    with db.read() as s:
        assert s.scalar(select(NamespaceRow.name)) == "kept"


def _write_then_fail(db: Database) -> None:
    with db.write() as s:
        s.add(NamespaceRow(name="lost", created_by="t"))
        s.flush()
        raise RuntimeError("boom")


def test_write_rolls_back_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _write_then_fail(db)
    with db.read() as s:
        assert s.scalar(select(NamespaceRow.id)) is None


def test_ping_reports_a_reachable_database(db: Database) -> None:
    assert db.ping() is True


def test_ping_reports_an_unreachable_database() -> None:
    nowhere = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    try:
        assert nowhere.ping() is False
    finally:
        nowhere.dispose()


def test_factories_build_rows_through_the_services(db: Database) -> None:
    model = factories.model(db, "team/fraud", tags={"k": "v"}, risk="high")
    assert (model.namespace, model.name, model.tags, model.risk_level) == (
        "team",
        "fraud",
        {"k": "v"},
        "high",
    )


def test_sqlite_writers_of_one_process_wait_for_each_other_not_for_the_busy_handler(
    database_url: str,
) -> None:
    """With no busy timeout at all, a second writer would fail at once ("database is
    locked") if SQLite's busy handler were all that ordered writers; the writer lock makes it
    wait for the first and then succeed."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL writers queue on row locks")
    db = Database.from_url(database_url, busy_timeout_ms=0)
    holding, release, second_started = threading.Event(), threading.Event(), threading.Event()
    outcome: list[object] = []

    def first() -> None:
        with db.write() as s:
            s.add(NamespaceRow(name="first", created_by="t"))
            s.flush()
            holding.set()
            release.wait(10)

    def second() -> None:
        second_started.set()
        try:
            with db.write() as s:
                s.add(NamespaceRow(name="second", created_by="t"))
            outcome.append("committed")
        except Exception as exc:
            outcome.append(exc)

    a = threading.Thread(target=first)
    a.start()
    assert holding.wait(10)
    b = threading.Thread(target=second)
    b.start()
    assert second_started.wait(10)
    time.sleep(0.3)  # let the second writer reach BEGIN (without the lock it fails right there)
    release.set()
    a.join(10)
    b.join(10)
    db.dispose()
    assert outcome == ["committed"]


def test_peek_reads_the_first_value_of_a_constant_statement(db: Database) -> None:
    with db.write() as s:
        s.add(NamespaceRow(name="kept", created_by="t"))
    assert db.peek(select(NamespaceRow.name)) == "kept"
    assert db.peek(select(NamespaceRow.name).where(NamespaceRow.name == "none")) is None


def test_peek_sees_what_other_connections_commit_at_once(db: Database, settings: Settings) -> None:
    """The access generation is read this way on every request: a commit by any other
    connection (another worker process, a CLI command) counts from the very next peek,
    including on SQLite, where a thread keeps its peek connection between peeks."""
    other = Database.from_url(settings.resolved_database_url)  # as another process has it
    name = select(NamespaceRow.name).where(NamespaceRow.created_by == "other")
    assert db.peek(name) is None
    for n in range(3):
        with other.write() as s:
            s.execute(delete(NamespaceRow).where(NamespaceRow.created_by == "other"))
            s.add(NamespaceRow(name=f"ns{n}", created_by="other"))
        assert db.peek(name) == f"ns{n}"
    other.dispose()


def test_peek_leaves_no_read_transaction_open(db: Database) -> None:
    """SQLite: the connection a thread keeps for peeks holds no snapshot between peeks (it
    would pin the write-ahead log: a checkpoint could not complete)."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    db.peek(select(NamespaceRow.name))
    with db.write() as s:
        s.add(NamespaceRow(name="after", created_by="t"))
    assert db.peek(select(NamespaceRow.name)) == "after"
    busy, frames, done = db.checkpoint() or (1, 0, 0)
    assert busy == 0
    assert frames == done


def test_peek_works_from_many_threads_and_after_dispose(db: Database) -> None:
    with db.write() as s:
        s.add(NamespaceRow(name="kept", created_by="t"))
    seen: list[str] = []
    threads = [
        threading.Thread(target=lambda: seen.append(db.peek(select(NamespaceRow.name))))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen == ["kept"] * 4
    db.dispose()  # closes the connections peeks kept; the next peek opens another
    assert db.peek(select(NamespaceRow.name)) == "kept"


def test_peek_at_an_unusable_database_is_database_unavailable(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    with pytest.raises(UnavailableError):
        db.peek(select(NamespaceRow.name))
    db.dispose()


_INSERT_NAMESPACE = Prepared(insert(cast(Table, NamespaceRow.__table__)))
_NAMES = Prepared(select(NamespaceRow.name).where(NamespaceRow.name == bindparam("name")))
_AUDIT_TARGETS = select(AuditEventRow.target).order_by(AuditEventRow.seq)


def test_write_prepared_commits_its_statements_with_their_audit_events(db: Database) -> None:
    with db.write_prepared() as t:
        _INSERT_NAMESPACE.run(t, factories.namespace_row("kept"))
        audit.record(t, "t", "namespace.created", "kept", namespace="kept")
    with db.read() as s:
        assert s.scalars(_AUDIT_TARGETS).all() == ["kept"]
        assert _NAMES.first(s, {"name": "kept"}) == ("kept",)
        assert s.scalar(select(OutboxEventRow.target)) == "kept"


def _prepared_then(db: Database, failure: str) -> None:
    with db.write_prepared() as t:
        _INSERT_NAMESPACE.run(t, factories.namespace_row("lost"))
        audit.record(t, "t", "namespace.created", "lost", namespace="lost")
        if failure == "raise":
            raise RuntimeError("boom")
        _INSERT_NAMESPACE.run(
            t, factories.namespace_row("lost")
        )  # the name is taken: IntegrityError


def test_write_prepared_rolls_everything_back_when_the_block_raises(db: Database) -> None:
    with pytest.raises(RuntimeError):
        _prepared_then(db, "raise")
    with pytest.raises(IntegrityError):
        _prepared_then(db, "duplicate")
    with db.read() as s:
        assert _NAMES.first(s, {"name": "lost"}) is None
        assert s.scalars(_AUDIT_TARGETS).all() == []
    with db.write_prepared() as t:  # the connection went back to the pool usable
        _INSERT_NAMESPACE.run(t, factories.namespace_row("next"))
    with db.read() as s:
        assert _NAMES.first(s, {"name": "next"}) == ("next",)


def test_write_prepared_on_sqlite_holds_the_write_lock_and_a_busy_database_is_503(
    database_url: str,
) -> None:
    """BEGIN IMMEDIATE: another connection cannot write meanwhile; and a database another
    process holds is DATABASE_UNAVAILABLE (503), as with write()."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite locking")
    db = Database.from_url(database_url, busy_timeout_ms=0)
    path = database_url.removeprefix("sqlite:///")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    with db.write_prepared() as t:
        _INSERT_NAMESPACE.run(t, factories.namespace_row("held"))
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(UnavailableError), db.write_prepared() as t:
        _INSERT_NAMESPACE.run(t, factories.namespace_row("waits"))
    other.execute("ROLLBACK")
    other.close()
    with db.write_prepared() as t:
        _INSERT_NAMESPACE.run(t, factories.namespace_row("after"))
    db.dispose()


def test_write_prepared_on_sqlite_keeps_one_connection_and_dispose_returns_it(
    database_url: str,
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's held writer connection")
    db = Database.from_url(database_url)
    pool = db.engine.pool
    for name in ("one", "two", "three"):
        with db.write_prepared() as t:
            _INSERT_NAMESPACE.run(t, factories.namespace_row(name))
    assert pool.checkedout() == 1  # kept between writes, not checked out and in each time
    with pytest.raises(RuntimeError):
        _prepared_then(db, "raise")
    assert pool.checkedout() == 0  # after an error: back to the pool, whose check-in decides
    with db.write_prepared() as t:
        _INSERT_NAMESPACE.run(t, factories.namespace_row("four"))
    assert pool.checkedout() == 1
    with db.read() as s:
        assert _NAMES.first(s, {"name": "four"}) == ("four",)
        assert _NAMES.first(s, {"name": "lost"}) is None
    db.dispose()
    assert pool.checkedout() == 0


def test_write_prepared_nested_never_touches_the_outer_transaction(database_url: str) -> None:
    """A nested block (a bug) fails at BEGIN on a connection of its own; the outer block's
    statements stay in its transaction and commit."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's held writer connection")
    db = Database.from_url(database_url, busy_timeout_ms=0)
    with db.write_prepared() as t:
        _INSERT_NAMESPACE.run(t, factories.namespace_row("outer"))
        with pytest.raises(UnavailableError), db.write_prepared() as inner:
            _INSERT_NAMESPACE.run(inner, factories.namespace_row("inner"))
        _INSERT_NAMESPACE.run(t, factories.namespace_row("outer-after"))
    with db.read() as s:
        assert _NAMES.first(s, {"name": "outer"}) == ("outer",)
        assert _NAMES.first(s, {"name": "outer-after"}) == ("outer-after",)
        assert _NAMES.first(s, {"name": "inner"}) is None
    db.dispose()
