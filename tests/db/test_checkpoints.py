"""WAL checkpoints run in a background thread of the server (db/checkpoints.py), so no request
waits for one; committed pages reach the database file all the same."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import anyio
import pytest
from sqlalchemy.engine import make_url

from modelyard.api.app import create_app
from modelyard.db import engine
from modelyard.db.checkpoints import WalCheckpointer
from modelyard.db.engine import Database
from modelyard.db.tables import NamespaceRow
from modelyard.settings import Settings


def _sqlite_only(db: Database) -> Path:
    if db.dialect != "sqlite":
        pytest.skip("write-ahead-log checkpoints are SQLite's")
    return Path(str(make_url(str(db.engine.url)).database))


def _in_database_file(path: Path, tmp: Path, name: str) -> bool:
    """Whether the database file alone (without its -wal) holds namespace ``name``."""
    copy = tmp / f"copy-{time.monotonic_ns()}.db"
    shutil.copy(path, copy)
    with sqlite3.connect(copy) as conn:
        found = conn.execute("SELECT 1 FROM namespaces WHERE name = ?", (name,)).fetchone()
    return found is not None


def _write(db: Database, name: str) -> None:
    with db.write() as s:
        s.add(NamespaceRow(name=name, created_by="t"))


def test_a_commit_leaves_its_pages_in_the_log_until_a_checkpoint(
    db: Database, tmp_path: Path
) -> None:
    path = _sqlite_only(db)
    _write(db, "kept")
    assert not _in_database_file(path, tmp_path, "kept")  # no checkpoint on the request path
    busy, frames, done = db.checkpoint() or (1, 0, 0)
    assert (busy, frames == done) == (0, True)
    assert _in_database_file(path, tmp_path, "kept")


def test_the_checkpointer_thread_checkpoints_until_stopped(db: Database, tmp_path: Path) -> None:
    path = _sqlite_only(db)
    checkpoints = WalCheckpointer(db, interval=0.02)
    checkpoints.start()
    try:
        _write(db, "kept")
        deadline = time.monotonic() + 30
        while not _in_database_file(path, tmp_path, "kept") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_database_file(path, tmp_path, "kept")
    finally:
        checkpoints.stop()
    assert not [t for t in threading.enumerate() if t.name == "wal-checkpoint"]


def test_the_server_runs_the_checkpointer_while_it_serves(settings: Settings, db: Database) -> None:
    _sqlite_only(db)
    app = create_app(settings, db)

    async def serve_briefly() -> list[str]:
        async with app.router.lifespan_context(app):
            return [t.name for t in threading.enumerate()]

    running = anyio.run(serve_briefly)
    assert "wal-checkpoint" in running
    assert "wal-checkpoint" not in [t.name for t in threading.enumerate()]


def test_postgresql_has_no_checkpoints_to_run(db: Database) -> None:
    if db.dialect == "sqlite":
        pytest.skip("PostgreSQL")
    assert db.checkpoint() is None


def _write_many(db: Database, prefix: str, n: int, pause: float = 0.0) -> None:
    for i in range(n):
        _write(db, f"{prefix}-{i}")
        if pause:
            time.sleep(pause)


def _log_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_under_a_stream_of_writes_the_checkpointer_restarts_the_log(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writes back to back never leave the log wholly copied when the next one begins, so only
    a round holding the writers restarts it. Requests run no checkpoint at all here (SQLite's
    own bound is off), so without that round the log grows with every commit."""
    path = _sqlite_only(db)
    monkeypatch.setattr(engine, "WAL_AUTOCHECKPOINT_PAGES", 0)
    grown = Database.from_url(settings.resolved_database_url)
    try:
        _write_many(grown, "unbounded", 300)
        unbounded = _log_bytes(path)
    finally:
        grown.dispose()
    assert db.checkpoint(hold_writers=True) is not None  # copy all back: the next write restarts

    streamed = Database.from_url(settings.resolved_database_url)
    checkpoints = WalCheckpointer(streamed, interval=0.01, busy_interval=0.005, restart_frames=64)
    checkpoints.start()
    try:
        # A server's writes come between requests; back to back in one thread, they would
        # take the writer lock again before the checkpointer, waiting on it, could wake.
        _write_many(streamed, "streamed", 300, pause=0.001)
    finally:
        checkpoints.stop()
        streamed.dispose()
    assert checkpoints.restarts > 0
    assert _log_bytes(path) < unbounded / 2


def test_a_resting_checkpointer_wakes_after_a_few_writes(db: Database, tmp_path: Path) -> None:
    path = _sqlite_only(db)
    checkpoints = WalCheckpointer(db, interval=3600, wake_after=3)
    checkpoints.start()
    try:
        time.sleep(0.05)  # its first wait has begun: an hour
        _write_many(db, "burst", 3)
        deadline = time.monotonic() + 30
        while not _in_database_file(path, tmp_path, "burst-2") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _in_database_file(path, tmp_path, "burst-2")
    finally:
        checkpoints.stop()
    assert db.after_write is None  # stopped: nothing listens to the writes any more


def test_rounds_hurry_while_the_log_moves_and_rest_when_it_stops(db: Database) -> None:
    _sqlite_only(db)
    checkpoints = WalCheckpointer(db, interval=5.0, busy_interval=0.1)
    _write(db, "moving")
    checkpoints.round()
    assert checkpoints.interval == 0.1
    checkpoints.round()  # nothing written since
    assert checkpoints.interval == 5.0


def test_a_checkpoint_holding_the_writers_waits_for_a_write_in_progress(db: Database) -> None:
    _sqlite_only(db)
    _write(db, "before")
    inside, release = threading.Event(), threading.Event()
    result: list[tuple[int, int, int] | None] = []

    def slow_write() -> None:
        with db.write() as s:
            s.add(NamespaceRow(name="slow", created_by="t"))
            inside.set()
            release.wait(30)

    writer = threading.Thread(target=slow_write)
    writer.start()
    assert inside.wait(30)
    checkpointer = threading.Thread(target=lambda: result.append(db.checkpoint(hold_writers=True)))
    checkpointer.start()
    checkpointer.join(0.3)
    assert checkpointer.is_alive()  # held back by the open write transaction
    release.set()
    writer.join(30)
    checkpointer.join(30)
    assert result
    assert result[0] is not None
    busy, frames, done = result[0]
    assert (busy, frames) == (0, done)  # everything copied, the slow write's pages included
