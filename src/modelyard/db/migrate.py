"""Run Alembic migrations from inside Modelyard (``modelyard db upgrade``, ``serve``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"

# Objects made by hand in migrations that the typed tables do not describe (the free-text index:
# FTS5 table and triggers on SQLite, a GIN index on PostgreSQL). Autogenerate and ``alembic
# check`` skip them; env.py and the migration drift test both use this one filter.
FULLTEXT_NAMES = frozenset({"search_fts", "ix_search_documents_body_tsv"})


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    if name is None:
        return True
    return not (name in FULLTEXT_NAMES or name.startswith("search_fts_"))


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; a no-op when it is there already."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
