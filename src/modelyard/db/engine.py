"""Engines and transactions.

SQLite is run the way a server needs it: WAL (readers never block the writer), foreign keys on,
a busy timeout, ``synchronous=NORMAL`` (durable across process crashes; WAL keeps the database
consistent across power loss) and ``BEGIN IMMEDIATE`` for write transactions, so two writers
never deadlock upgrading a read lock: the second waits at BEGIN for the busy timeout. Within one
process, writers queue on a lock before BEGIN instead: SQLite's busy handler polls with sleeps
of up to 100 ms, while a lock hands over the moment the writer before is done. The busy timeout
still orders writers of different processes (``--workers N``, a CLI command). ``LIKE`` is
made case-sensitive and ``lower()`` folds all of Unicode, as on PostgreSQL.
PostgreSQL runs at READ COMMITTED; services take row locks where order matters.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from modelyard.db import audit
from modelyard.db.prepared import Snapshot
from modelyard.domain.errors import ConflictError, UnavailableError

_WRITE = "modelyard_write"

# The page size of a database file this module creates (an existing file keeps its own: SQLite
# fixes it when the first table is made). A commit appends every page it changed to the
# write-ahead log, and the log's cost is per byte (copy, checksum, the kernel's page cache): a
# version creation changes about 30 pages whatever their size, so 2 KiB pages instead of
# SQLite's default 4 KiB make its commit about 40 % cheaper (docs/architecture.md).
PAGE_SIZE = 2048

# A bound on the write-ahead log (frames) for connections whose process runs no background
# checkpoints (db/checkpoints.py says why the server does); at 2 KiB pages, about 20 MiB.
WAL_AUTOCHECKPOINT_PAGES = 10_000


def make_engine(url: str, busy_timeout_ms: int = 30000, pool_size: int = 10) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout_ms)
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        pool_size=20,
        max_overflow=20,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL mode writes the first page
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        # SQLite's LIKE ignores ASCII case by default; PostgreSQL's does not. The filter language
        # promises case-sensitive LIKE on both (ILIKE compiles to lower() LIKE lower()).
        cur.execute("PRAGMA case_sensitive_like=ON")
        cur.close()
        # ILIKE compiles to lower(x) LIKE lower(y) on SQLite, whose lower() folds ASCII only:
        # 'École' ILIKE 'école' was false on SQLite and true on PostgreSQL. Python's folds all.
        dbapi_conn.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


class Database:
    """Hands out sessions: ``read()`` for queries, ``write()`` for one mutation's transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._peeks: dict[Select[Any], str] = {}
        # SQLite (a file): peeks and snapshots run on a connection each thread keeps outside
        # the pool (see ``peek``); by thread id: a finished thread's passes to the next one.
        self._held: dict[int, sqlite3.Connection] | None = (
            {} if self.dialect == "sqlite" and isinstance(engine.pool, QueuePool) else None
        )
        # One SQLite writer at a time in this process (see the module docstring). Re-entrant,
        # so a write nested in a write fails at BEGIN as it always did, never hangs.
        self._writer: AbstractContextManager[Any] = (
            threading.RLock() if self.dialect == "sqlite" else nullcontext()
        )
        self._held_writer: Any = None  # write_prepared's connection, once it has written
        self._audit_head = audit.Head()  # where write_prepared last left the chain's head
        # Called after every write transaction this process commits (the server's WAL
        # checkpointer listens: db/checkpoints.py); ``None`` when nothing listens.
        self.after_write: Callable[[], None] | None = None
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, busy_timeout_ms: int = 30000) -> Database:
        return cls(make_engine(url, busy_timeout_ms))

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _unavailable_as_503(), self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises. The audit
        and outbox events the block queued (``services.audit.record``) are written just before
        the commit, in the same transaction."""
        with self._writer, _unavailable_as_503(), self._write() as session, session.begin():
            yield session
            audit.flush(session)
        if self.after_write is not None:
            self.after_write()

    @contextmanager
    def write_prepared(self) -> Iterator[Session | Snapshot]:
        """``write()`` for a block made only of ``Prepared`` statements and audit records. On
        SQLite the transaction runs on a pooled DBAPI connection without a Session (whose
        set-up, begin and commit machinery cost more CPU than the statements of a version
        creation): the same writer lock, ``BEGIN IMMEDIATE``, audit flush before COMMIT,
        rollback on any error, and SQLAlchemy's exceptions. Elsewhere it is ``write()``.

        The connection is one the Database keeps checked out for these writes (they take
        turns on the writer lock, so one is enough): the pool's check-out and check-in (with its
        rollback) cost about 25 µs, a twentieth of a version creation, and the connection's
        page cache stays warm. After an error it goes back to the pool (the next write takes
        another). A block nested in another (a bug: it fails at BEGIN) takes a pooled
        connection, as before, so the outer transaction is never touched."""
        if self.dialect != "sqlite":
            with self.write() as session:
                yield session
            return
        with self._writer, _unavailable_as_503():
            held = self._held_writer
            if held is None or held.driver_connection.in_transaction:  # first, or nested
                conn = self.engine.raw_connection()
                if held is None:
                    self._held_writer = held = conn
            else:
                conn = held
            failed = True
            try:
                dbapi = conn.driver_connection
                assert dbapi is not None
                _driver("BEGIN IMMEDIATE", lambda: dbapi.execute("BEGIN IMMEDIATE"))
                transaction = Snapshot(self.engine.dialect, dbapi, {audit.HEAD: self._audit_head})
                try:
                    yield transaction
                    audit.flush(transaction)
                    _driver("COMMIT", dbapi.commit)
                except BaseException:
                    dbapi.rollback()
                    raise
                failed = False
            finally:
                if conn is held and failed:
                    # Kept only while all is well: after an error the pool's check-in decides
                    # (its rollback, or discarding a connection that cannot roll back), so no
                    # connection stuck in a transaction keeps the write lock.
                    self._held_writer = None
                    conn.close()
                elif conn is not held:
                    conn.close()  # back to the pool
        if self.after_write is not None:
            self.after_write()

    @contextmanager
    def snapshot(self) -> Iterator[Snapshot]:
        """A read transaction on a DBAPI connection, for look-ups made only of ``Prepared``
        statements: a Session's set-up and tear-down around one indexed read cost more than
        the read. Rolled back when the block ends. On SQLite it is the connection the thread
        keeps (see ``peek``; a pool's check-out and check-in cost 20 µs, as much as the read),
        unless a snapshot of the thread is open on it already; elsewhere a pooled one."""
        held = self._held
        kept = self._kept(held) if held is not None else None
        if held is not None and kept is not None and not kept.in_transaction:
            try:
                kept.execute("BEGIN")
            except sqlite3.OperationalError as exc:
                self._forget(held, kept)
                raise _unreachable() from exc
            try:
                with _unavailable_as_503():
                    yield Snapshot(self.engine.dialect, kept)
            finally:
                try:
                    kept.rollback()
                except sqlite3.Error:
                    self._forget(held, kept)
            return
        broken = self.engine.dialect.loaded_dbapi.OperationalError
        with _unavailable_as_503():
            try:
                conn = self.engine.raw_connection()
            except broken as exc:  # a refused connection comes straight from the driver
                raise _unreachable() from exc
            try:
                dbapi = conn.driver_connection
                assert dbapi is not None
                if self.dialect == "sqlite":  # autocommit mode (see _on_connect): begin here
                    dbapi.execute("BEGIN")
                yield Snapshot(self.engine.dialect, dbapi)
            finally:
                conn.close()  # back to the pool, which rolls back

    def peek(self, statement: Select[Any]) -> Any:
        """The first column of the first row of a statement without parameters, or ``None``.

        For the one read every request makes (the access generation): it runs on a DBAPI
        connection, skipping SQLAlchemy's execution machinery (about 14 µs on SQLite instead
        of 130). On SQLite that connection is the calling thread's own, kept between peeks
        (3 µs: no pool check-out, no rollback at check-in). It is in autocommit mode, so each
        peek is a transaction of its own that sees every commit made before it, by any
        connection or process. No result processing: plain integer or text columns only."""
        sql = self._peeks.get(statement)
        if sql is None:
            compiled = statement.compile(self.engine, compile_kwargs={"literal_binds": True})
            sql = self._peeks[statement] = str(compiled)
        held = self._held
        kept = self._kept(held) if held is not None else None
        if held is not None and kept is not None and not kept.in_transaction:
            return self._peek_kept(held, kept, sql)  # (in a snapshot: a pooled one, as below)
        broken = self.engine.dialect.loaded_dbapi.OperationalError
        try:
            with _unavailable_as_503():  # the pool's own errors are SQLAlchemy's
                conn = self.engine.raw_connection()
        except broken as exc:  # a refused connection comes straight from the driver
            raise _unreachable() from exc
        try:
            cursor = conn.cursor()
            try:
                cursor.execute(sql)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except broken as exc:
            conn.invalidate(exc)
            raise _unreachable() from exc
        finally:
            conn.close()  # back to the pool, which rolls back
        return row[0] if row else None

    def _kept(self, held: dict[int, sqlite3.Connection]) -> sqlite3.Connection:
        """The connection this thread keeps (made on its first use)."""
        thread = threading.get_ident()
        conn = held.get(thread)
        if conn is None:
            conn = held[thread] = self._detached_connection()
        return conn

    def _peek_kept(
        self, held: dict[int, sqlite3.Connection], conn: sqlite3.Connection, sql: str
    ) -> Any:
        try:
            rows = conn.execute(sql).fetchall()  # to the end: no statement left open
        except sqlite3.OperationalError as exc:
            self._forget(held, conn)
            raise _unreachable() from exc
        return rows[0][0] if rows else None

    def _forget(self, held: dict[int, sqlite3.Connection], conn: sqlite3.Connection) -> None:
        """Close a kept connection that failed; the thread's next use makes another."""
        held.pop(threading.get_ident(), None)
        conn.close()

    def _detached_connection(self) -> sqlite3.Connection:
        """A connection made as the pool makes them (pragmas included), then taken out of it
        (the pool makes another for its slot when it needs one)."""
        try:
            with _unavailable_as_503():
                fairy = self.engine.raw_connection()
        except sqlite3.OperationalError as exc:
            raise _unreachable() from exc
        conn = fairy.driver_connection
        fairy.detach()
        assert isinstance(conn, sqlite3.Connection)
        return conn

    def checkpoint(self, *, hold_writers: bool = False) -> tuple[int, int, int] | None:
        """A passive WAL checkpoint (SQLite; ``None`` elsewhere): (busy, frames in the log,
        frames checkpointed), as ``PRAGMA wal_checkpoint`` reports them. ``hold_writers``:
        holding the writer lock, so no write of this process is mid-transaction and every
        frame can be copied (``db/checkpoints.py`` says why)."""
        if self.dialect != "sqlite":
            return None
        conn = self.engine.raw_connection()
        try:
            cursor = conn.cursor()
            try:
                with self._writer if hold_writers else nullcontext():
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    busy, frames, done = cursor.fetchone() or (0, 0, 0)
            finally:
                cursor.close()
        finally:
            conn.close()
        return int(busy), int(frames), int(done)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False

    def dispose(self) -> None:
        if self._held is not None:
            held, self._held = self._held, {}
            for conn in list(held.values()):
                conn.close()
        with self._writer:
            writer, self._held_writer = self._held_writer, None
            if writer is not None:
                writer.close()  # back to the pool, which the next line closes
        self.engine.dispose()


@contextmanager
def _unavailable_as_503() -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        if _is_rollback_request(exc):
            raise ConflictError(
                "CONFLICT", "a concurrent change won; retry the request", sqlstate=_sqlstate(exc)
            ) from exc
        if _is_connection_error(exc):
            raise _unreachable() from exc
        raise


def _driver(sql: str, call: Callable[[], object]) -> None:
    """``call`` (running ``sql`` on an sqlite3 connection) with its errors as SQLAlchemy's
    (``OperationalError`` for a busy database, which ``_unavailable_as_503`` makes a 503)."""
    try:
        call()
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(sql, (), error, sqlite3.Error) from error


def _unreachable() -> UnavailableError:
    return UnavailableError("DATABASE_UNAVAILABLE", "the metadata database cannot be reached")


def _is_rollback_request(exc: OperationalError) -> bool:
    """PostgreSQL's SQLSTATE class 40 (deadlock detected, serialization failure): the database
    rolled the transaction back because a concurrent one won; retrying is the cure."""
    return _sqlstate(exc).startswith("40")


def _sqlstate(exc: OperationalError) -> str:
    return str(getattr(exc.orig, "sqlstate", "") or "")


def _is_connection_error(exc: OperationalError) -> bool:
    text_ = str(exc.orig).lower()
    return exc.connection_invalidated or any(
        s in text_ for s in ("connection", "could not connect", "unable to open", "locked")
    )
