"""``modelyard serve`` and ``modelyard db upgrade``: the commands that run the server side."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from modelyard.api import redaction
from modelyard.cli import first_start
from modelyard.settings import ENV_PREFIX, Settings

err = Console(stderr=True)

DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory [env: MODELYARD_DATA_DIR]")
]
DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", help="Metadata database URL [env: MODELYARD_DATABASE_URL]"),
]


def upgrade_database(settings: Settings) -> str | None:
    """Migrate the schema to the newest revision; returns the revision."""
    from modelyard.db import migrate
    from modelyard.db.engine import make_engine

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url, settings.sqlite_busy_timeout_ms)
    try:
        migrate.upgrade(engine)
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def serve(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    host: Annotated[str | None, typer.Option(help="Address to bind [env: MODELYARD_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env: MODELYARD_PORT]")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes [env: MODELYARD_WORKERS]")
    ] = None,
    log_level: Annotated[
        str | None, typer.Option(help="Log level [env: MODELYARD_LOG_LEVEL]")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request")] = False,
) -> None:
    """Run the registry: migrate the database if needed, then serve the API and web pages."""
    import uvicorn

    settings = Settings.from_env(
        data_dir=data_dir,
        database_url=database_url,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
    )
    redaction.install()  # uvicorn's access log prints request lines, query strings included
    check_policy(settings)
    upgrade_database(settings)
    first_start.sign_in_locally(settings)
    _export(settings)
    err.print(
        f"Modelyard serving on http://{settings.host}:{settings.port} "
        f"(data: {settings.data_dir}, database: {_dialect(settings)})"
    )
    uvicorn.run(
        "modelyard.api.asgi:from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers if settings.workers > 1 else None,
        log_level=settings.log_level,
        access_log=access_log,
        server_header=False,
        ws="none",  # no WebSocket routes: do not load a WebSocket implementation
    )


def check_policy(settings: Settings) -> None:
    """Refuse to start on a policy file that does not validate, saying what is wrong."""
    from modelyard.domain.policy import PolicyError
    from modelyard.services.policy_file import server_policy

    try:
        server_policy(settings)
    except PolicyError as exc:
        err.print(f"error: {exc.code}: {exc.message}", markup=False, highlight=False)
        raise typer.Exit(1) from None


def _export(settings: Settings) -> None:
    """Hand the resolved settings to worker processes through the environment."""
    os.environ[ENV_PREFIX + "DATA_DIR"] = str(settings.data_dir)
    os.environ[ENV_PREFIX + "DATABASE_URL"] = settings.resolved_database_url
    os.environ[ENV_PREFIX + "BLOB_URL"] = settings.resolved_blob_url
    if settings.policy_file:  # workers read the same file, wherever they start
        os.environ[ENV_PREFIX + "POLICY_FILE"] = str(Path(settings.policy_file).resolve())


def _dialect(settings: Settings) -> str:
    return settings.resolved_database_url.split(":", 1)[0].split("+", 1)[0]


db_app = typer.Typer(help="Manage the metadata database.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None, database_url: DatabaseUrl = None) -> None:
    """Migrate the metadata database to the newest schema (safe to repeat)."""
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    revision = upgrade_database(settings)
    err.print(f"database at revision {revision} ({_dialect(settings)})")


db_app.command("admin-token")(first_start.admin_token)
