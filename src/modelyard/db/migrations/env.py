"""Alembic environment: runs on SQLite (batch mode) and PostgreSQL.

The URL comes from the connection handed in by ``modelyard.db.migrate`` or, for the ``alembic``
command line (CI runs ``alembic upgrade head`` and ``alembic check``), from ``-x url=...`` or
``MODELYARD_DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from modelyard.db.engine import make_engine
from modelyard.db.migrate import check_foreign_keys, foreign_keys_off, include_name
from modelyard.db.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        check_foreign_keys(connection)


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "MODELYARD_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database: alembic -x url=... or MODELYARD_DATABASE_URL")
    engine = make_engine(url)
    with engine.connect() as conn, foreign_keys_off(conn):
        _run(conn)
    engine.dispose()


run_migrations_online()
