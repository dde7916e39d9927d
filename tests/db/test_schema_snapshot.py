"""A new SQLite database is made at the head revision from the schema file the migrations
wrote (db/snapshot.py), and that file is exactly what the migrations make."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from modelyard.db import migrate, snapshot
from modelyard.db.engine import make_engine


def _made(path: Path, *, use_snapshot: bool) -> Path:
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine, use_snapshot=use_snapshot)
    finally:
        engine.dispose()
    return path


def _contents(path: Path) -> tuple[object, ...]:
    """Every object (its SQL as ``snapshot.statements`` compares it), every row of every table
    but the free-text index's own (an empty index's bookkeeping differs in a byte between one
    made at once and one made, emptied and made again; the tests check its integrity), the
    page size and the journal mode."""
    with sqlite3.connect(path) as conn:
        sql = ";\n".join(s for (s,) in conn.execute("SELECT sql FROM sqlite_master") if s)
        objects = (
            snapshot.statements(sql),
            sorted(conn.execute("SELECT type, name, tbl_name FROM sqlite_master")),
        )
        shadow = {r[1] for r in conn.execute("PRAGMA table_list") if r[2] == "shadow"}
        rows = {}
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        ).fetchall():
            if name not in shadow:
                rows[name] = sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
        settings = (
            conn.execute("PRAGMA page_size").fetchone(),
            conn.execute("PRAGMA journal_mode").fetchone(),
        )
    return objects, rows, settings


def test_the_schema_file_is_what_the_migrations_make() -> None:
    committed = snapshot.SQLITE.read_text(encoding="utf-8")
    assert snapshot.statements(snapshot.written()) == snapshot.statements(committed), (
        "the migrations changed: run `python -m modelyard.db.snapshot` and commit "
        "src/modelyard/db/schema/sqlite.sql"
    )
    assert snapshot.revision() == migrate.newest_file_revision()


def test_a_database_made_from_the_file_holds_what_the_migrations_make(tmp_path: Path) -> None:
    quick = _made(tmp_path / "snapshot.db", use_snapshot=True)
    replayed = _made(tmp_path / "alembic.db", use_snapshot=False)
    assert _contents(quick) == _contents(replayed)
    engine = make_engine(f"sqlite:///{quick}")
    try:
        assert migrate.current_revision(engine) == migrate.newest_file_revision()
    finally:
        engine.dispose()
    with sqlite3.connect(quick) as conn:  # the free-text index was made, not copied
        conn.execute("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')")


def test_a_new_database_is_made_without_alembic(tmp_path: Path) -> None:
    """What ``modelyard serve`` does on a fresh data directory: no Alembic import at all."""
    script = (
        "import sys\n"
        "from modelyard.db import migrate\n"
        "from modelyard.db.engine import make_engine\n"
        f"engine = make_engine('sqlite:///{tmp_path / 'new.db'}')\n"
        "migrate.upgrade(engine)\n"
        "print(migrate.current_revision(engine), 'alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [migrate.newest_file_revision(), "False"]


def test_a_database_that_holds_anything_is_left_to_alembic(tmp_path: Path) -> None:
    path = tmp_path / "partial.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine, "0013")  # Alembic, to an older revision
        migrate.upgrade(engine)  # then to the head: Alembic again, from 0013
        assert migrate.current_revision(engine) == migrate.newest_file_revision()
    finally:
        engine.dispose()
    assert _contents(path)[0] == _contents(_made(tmp_path / "fresh.db", use_snapshot=True))[0]
