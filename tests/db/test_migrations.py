"""The migrations and the typed tables agree, on SQLite and PostgreSQL.

Each test gets an empty database of its own (never the shared, migrated test database) and
drives Alembic the way the ``alembic`` command line does (``-x url=...``, through env.py).
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from modelyard.db import migrate
from modelyard.db.engine import make_engine
from modelyard.db.migrate import include_name
from modelyard.db.tables import Base
from tests.conftest import PG_ADMIN_URL, REQUIRE_PG


def _admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"modelyard_migrations_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = _admin()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable: {exc}")
        pytest.skip("PostgreSQL unreachable")
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _alembic(url: str) -> Config:
    """A Config as the command line builds it for ``alembic -x url=<url> …``."""
    cfg = Config(cmd_opts=argparse.Namespace(x=[f"url={url}"]))
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    return cfg


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_name": include_name, "compare_type": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_matches_the_tables_and_makes_the_fulltext_index(empty_url: str) -> None:
    command.upgrade(_alembic(empty_url), "head")
    assert _differences(empty_url) == []
    command.check(_alembic(empty_url))  # what CI's `alembic check` runs, through env.py
    engine = create_engine(empty_url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                names = set(conn.scalars(text("SELECT name FROM sqlite_master")))
                assert {"search_fts", "search_fts_ad", "search_fts_au"} <= names
                assert "search_fts_watermark" in names  # new documents: db/fts_indexer.py
            else:
                indexes = set(conn.scalars(text("SELECT indexname FROM pg_indexes")))
                assert "ix_search_documents_body_tsv" in indexes
    finally:
        engine.dispose()


# Migration 0006's triggers that count changes to access (services/access_cache.py relies on
# them). A later migration that rebuilds one of these tables on SQLite (batch mode copies the
# table) drops its triggers, and must make them again: this test notices.
ACCESS_TRIGGERS = {
    f"access_generation_{table}_{event}"
    for table, events in {
        "api_tokens": ("update", "delete"),
        "users": ("update", "delete"),
        "memberships": ("insert", "update", "delete"),
        "reviewer_capacities": ("insert", "update", "delete"),
        "namespaces": ("insert", "update", "delete"),
    }.items()
    for event in events
}


def _triggers(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            else:
                query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            return set(conn.scalars(text(query)))
    finally:
        engine.dispose()


def test_head_has_the_triggers_that_count_access_changes(empty_url: str) -> None:
    command.upgrade(_alembic(empty_url), "head")
    assert _triggers(empty_url) >= ACCESS_TRIGGERS
    command.downgrade(_alembic(empty_url), "0005")
    assert not ACCESS_TRIGGERS & _triggers(empty_url)


def test_migrate_then_downgrade_to_base_then_upgrade_to_head(empty_url: str) -> None:
    engine = create_engine(empty_url)
    try:
        migrate.upgrade(engine)  # what `modelyard db upgrade` and `serve` run
        assert migrate.current_revision(engine) == migrate.head_revision()
        migrate.upgrade(engine)  # a no-op at head
    finally:
        engine.dispose()
    cfg = _alembic(empty_url)
    command.downgrade(cfg, "base")
    assert _tables(empty_url) == {"alembic_version"}
    command.upgrade(cfg, "head")
    assert {t.name for t in Base.metadata.sorted_tables} <= _tables(empty_url)
    assert _differences(empty_url) == []


@pytest.mark.parametrize(
    ("name", "included"),
    [
        ("models", True),
        ("versions", True),
        ("search_documents", True),
        (None, True),
        ("search_fts", False),
        ("search_fts_data", False),
        ("search_fts_idx", False),
        ("search_fts_watermark", False),
        ("ix_search_documents_body_tsv", False),
    ],
)
def test_include_name_skips_only_the_hand_made_fulltext_objects(
    name: str | None, included: bool
) -> None:
    assert include_name(name, "table", {}) is included


def test_migration_files_are_numbered_by_their_revisions_and_the_newest_is_the_head() -> None:
    """``migrate.upgrade`` recognises a current schema by the newest file's number alone."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic("sqlite://"))
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_")
    assert migrate.newest_file_revision() == migrate.head_revision() == scripts.get_current_head()


_AT = "2026-11-27 08:00:00.000000"
_ROWS_AT_0007 = [
    "INSERT INTO namespaces (id, name, description, created_by, created_at, updated_at,"
    " visibility) VALUES ('{ns}', 'team', '', 't', '{at}', '{at}', 'private')",
    "INSERT INTO models (id, namespace_id, namespace, name, description, risk_level,"
    " risk_reason, version_counter, created_by, created_at, updated_by, updated_at) VALUES"
    " ('{m}', '{ns}', 'team', 'fraud', '', 'unassessed', '', 1, 't', '{at}', 't', '{at}')",
    "INSERT INTO versions (id, model_id, number, namespace, model_name, description, stage,"
    " status, metrics, created_by, created_at, updated_at) VALUES ('{v}', '{m}', 1, 'team',"
    " 'fraud', '', 'development', 'ready', '{{}}', 't', '{at}', '{at}')",
    "INSERT INTO version_tags (version_id, key, value) VALUES ('{v}', 'team', 'risk')",
    "INSERT INTO aliases (model_id, alias, version_id, version_number, updated_by, updated_at)"
    " VALUES ('{m}', 'champion', '{v}', 1, 't', '{at}')",
]


def test_upgrading_keeps_the_rows_that_refer_to_rebuilt_tables(empty_url: str) -> None:
    """Batch migrations rebuild tables on SQLite (copy, drop, rename); the drop must not
    cascade to the rows that refer to them (0008 rebuilds ``versions``)."""
    command.upgrade(_alembic(empty_url), "0007")
    engine = create_engine(empty_url)
    pg = engine.dialect.name == "postgresql"
    ids = {k: (uuid.uuid4() if pg else uuid.uuid4().hex) for k in ("ns", "m", "v")}
    try:
        with engine.begin() as conn:
            for sql in _ROWS_AT_0007:
                conn.execute(text(sql.format(at=_AT, **ids)))
        command.upgrade(_alembic(empty_url), "head")
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT key, value FROM version_tags")).all()
            aliases = conn.execute(text("SELECT alias FROM aliases")).scalars().all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in kept] == [("team", "risk")]
    assert aliases == ["champion"]


def test_migrate_upgrade_leaves_foreign_keys_on_for_the_connections_it_used(
    empty_url: str,
) -> None:
    engine = make_engine(empty_url)
    try:
        migrate.upgrade(engine)
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()
