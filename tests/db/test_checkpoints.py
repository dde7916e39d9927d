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
