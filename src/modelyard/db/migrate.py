"""Run Alembic migrations from inside Modelyard (``modelyard db upgrade``, ``serve``).

A server starts far more often than the schema changes, so ``upgrade`` first compares the
database's revision (one query on ``alembic_version``) with the newest migration file's and
returns when they match, without importing Alembic (about a quarter of a second of start-up).
Migration files are numbered ``NNNN_name.py`` and their revision ids are those numbers
(tests/db/test_migrations.py checks both, and that the newest file is Alembic's head).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = MIGRATIONS / "versions"

# Objects made by hand in migrations that the typed tables do not describe (the free-text index:
# FTS5 table and triggers on SQLite, a GIN index on PostgreSQL). Autogenerate and ``alembic
# check`` skip them; env.py and the migration drift test both use this one filter.
FULLTEXT_NAMES = frozenset({"search_fts", "ix_search_documents_body_tsv"})

_FILE = re.compile(r"(\d{4})_\w+\.py")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if name is None:
        return True
    return not (name in FULLTEXT_NAMES or name.startswith("search_fts_"))


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    """Alembic's head, from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def newest_file_revision() -> str | None:
    """The revision of the highest-numbered migration file (the head, by the convention
    above), read from the file names alone."""
    numbers = [m.group(1) for f in VERSIONS.iterdir() if (m := _FILE.fullmatch(f.name))]
    return max(numbers, default=None)


def current_revision(engine: Engine) -> str | None:
    """The database's revision (``None``: never migrated)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head", *, use_snapshot: bool = True) -> None:
    """Bring the schema up to ``revision``; a no-op when it is there already. A SQLite
    database with no table at all is made at the head in one step from the schema file the
    migrations wrote (``db/snapshot.py``), unless ``use_snapshot`` is false."""
    if revision == "head":
        current, head = current_revision(engine), newest_file_revision()
        if current == head:
            return
        if use_snapshot and current is None and _made_from_snapshot(engine, head):
            return
    from alembic import command

    cfg = _config()
    with engine.connect() as conn, foreign_keys_off(conn), conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _made_from_snapshot(engine: Engine, head: str | None) -> bool:
    """Make an empty SQLite database from the schema file when it is at ``head``."""
    from modelyard.db import snapshot

    if engine.dialect.name != "sqlite" or head is None or snapshot.revision() != head:
        return False
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        if dbapi.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return False  # something is there already: Alembic decides
        snapshot.apply(dbapi)  # type: ignore[arg-type]
    return True


@contextmanager
def foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite: migrate with foreign keys off, as Alembic's batch mode needs.

    A batch migration rebuilds a table: it copies it, drops the original and renames the copy.
    With foreign keys on, that DROP deletes every row referring to the table with ``ON DELETE
    CASCADE`` (upgrading to 0008 emptied version_tags this way). Call it on a new
    connection, before its transaction: SQLite ignores the pragma inside one. ``env.py`` checks
    ``PRAGMA foreign_key_check`` before it commits, so no migration can leave a dangling row."""
    if conn.dialect.name != "sqlite":
        yield
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        dbapi.execute("PRAGMA foreign_keys=ON")


def check_foreign_keys(conn: Connection) -> None:
    """Refuse to commit a migration that left rows pointing at nothing (SQLite)."""
    if conn.dialect.name != "sqlite":
        return
    dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        raise RuntimeError(f"the migration left rows with dangling foreign keys: {dangling[:10]}")
