"""A new SQLite database made at the head revision in one step, from a schema file the
migrations wrote (as Rails loads ``schema.rb`` instead of replaying every migration).

``modelyard serve`` on a fresh data directory used to import Alembic and replay every
migration, each a transaction of its own, several of them rebuilding tables in batch mode:
about 0.3 s of a cold start whose budget is 2 s. ``schema/sqlite.sql`` is what those
migrations leave in an empty database, written down by this module: every table, index,
trigger and the free-text index, in an order SQLite accepts, then the rows the migrations
seed (the audit chain's head, the access generation, the Alembic revision...). ``migrate``
runs it in one transaction on a database that has no table yet; any other database, any other
target revision, and PostgreSQL go through Alembic as before.

The file cannot drift from the migrations: ``tests/db/test_schema_snapshot.py`` migrates an
empty database with Alembic, and fails unless this module writes the very same file from it
and a database made from the file holds the same schema and rows. After adding a migration:

    python -m modelyard.db.snapshot        # rewrites src/modelyard/db/schema/sqlite.sql
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

SQLITE = Path(__file__).parent / "schema" / "sqlite.sql"
_REVISION = "-- revision: "
_KINDS = ("table", "virtual", "index", "trigger", "view")  # the order they are made in


def revision(path: Path = SQLITE) -> str | None:
    """The revision the schema file is at (``None``: no file)."""
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.startswith(_REVISION):
                    return line[len(_REVISION) :].strip()
    except FileNotFoundError:
        return None
    return None


def apply(dbapi: sqlite3.Connection, path: Path = SQLITE) -> None:
    """Make the schema file's tables, indexes, triggers and rows, in one transaction, on an
    empty database (``migrate.upgrade`` checks it is)."""
    dbapi.executescript("BEGIN IMMEDIATE;\n" + path.read_text(encoding="utf-8") + "\nCOMMIT;")


def dump(dbapi: sqlite3.Connection, revision_: str) -> str:
    """The schema file of a migrated database: its objects' SQL as SQLite keeps it, tables
    first (an index or trigger needs its table), then every row of every table but those
    SQLite keeps for itself and the free-text index's own (made with its table)."""
    own = {
        name
        for _schema, name, kind, *_ in dbapi.execute("PRAGMA table_list")
        if kind == "shadow" or name.startswith("sqlite_")
    }
    objects = dbapi.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ).fetchall()

    def kind(row: tuple[str, str, str]) -> str:
        if row[0] == "table" and row[2].upper().startswith("CREATE VIRTUAL TABLE"):
            return "virtual"
        return row[0]

    lines = [
        "-- The schema Modelyard's migrations leave in an empty SQLite database, made in one",
        "-- step on a new one (src/modelyard/db/snapshot.py). Written by",
        "-- `python -m modelyard.db.snapshot`; do not edit.",
        f"{_REVISION}{revision_}",
    ]
    for wanted in _KINDS:
        lines += [f"{row[2]};" for row in objects if kind(row) == wanted and row[1] not in own]
    for row in objects:
        name = row[1]
        if kind(row) != "table" or name in own:
            continue
        columns = [c[1] for c in dbapi.execute(f'PRAGMA table_info("{name}")')]
        quoted = " || ',' || ".join(f'quote("{c}")' for c in columns)
        names = ", ".join(f'"{c}"' for c in columns)
        for (values,) in dbapi.execute(f'SELECT {quoted} FROM "{name}" ORDER BY {names}'):
            lines.append(f'INSERT INTO "{name}" ({names}) VALUES ({values});')
    return "\n".join(lines) + "\n"


def written() -> str:
    """The schema file as the migrations make it now (Alembic on a scratch database)."""
    from modelyard.db import migrate
    from modelyard.db.engine import make_engine

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "schema.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            migrate.upgrade(engine, use_snapshot=False)
        finally:
            engine.dispose()
        head = migrate.newest_file_revision()
        assert head is not None
        with sqlite3.connect(path) as conn:
            return dump(conn, head)


def statements(text: str) -> list[str]:
    """The schema file's statements in a form that ignores what the migrations leave to
    chance: the order of a table's columns and constraints in its CREATE TABLE text (Alembic's
    batch mode writes a rebuilt table's constraints from a set), and the statements' order."""
    out = []
    for statement in text.split(";\n"):
        lines = [ln for ln in statement.splitlines() if not ln.startswith("--")]
        sql = "\n".join(lines).strip()
        if not sql:
            continue
        if sql.upper().startswith("CREATE TABLE") and sql.endswith(")"):
            head, _, body = sql.partition("(")
            parts = sorted(p.strip() for p in _top_level(body[:-1]))
            sql = f"{head.strip()} ({', '.join(parts)})"
        out.append(sql)
    return sorted(out)


def _top_level(body: str) -> list[str]:
    """``body`` split at the commas outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(body):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    parts.append(body[start:])
    return parts


def main() -> None:
    text = written()
    if SQLITE.exists() and statements(SQLITE.read_text(encoding="utf-8")) == statements(text):
        print(f"{SQLITE} is up to date")
        return
    SQLITE.parent.mkdir(parents=True, exist_ok=True)
    SQLITE.write_text(text, encoding="utf-8")
    print(f"wrote {SQLITE}", file=sys.stderr)


if __name__ == "__main__":
    main()
