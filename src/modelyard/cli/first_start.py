"""First start on a laptop: a global admin, and a CLI that is signed in with no extra step.

When the database has no global admin, ``modelyard serve`` makes user ``admin`` with a token,
prints the token once, and stores it in the credentials file (``client/_credentials.py``,
mode 0600) for this server's local URL, which becomes the CLI's default server unless another
(non-local) server already is. ``modelyard db admin-token NAME`` is the way back in when every
admin token is lost: it works on the database directly, so only its operator can run it.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.console import Console

from modelyard.domain.accounts import IssuedToken
from modelyard.domain.errors import ModelyardError
from modelyard.settings import Settings

err = Console(stderr=True, highlight=False)
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}  # noqa: S104
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def local_url(settings: Settings) -> str:
    """Where a CLI on this machine reaches the server."""
    host = _WILDCARDS.get(settings.host, settings.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def sign_in_locally(settings: Settings) -> None:
    """Make the first admin if there is none; print its token; store it for the local CLI."""
    from modelyard.db.engine import Database
    from modelyard.services import bootstrap

    db = Database.from_url(settings.resolved_database_url, settings.sqlite_busy_timeout_ms)
    try:
        issued = bootstrap.first_admin(db)
    finally:
        db.dispose()
    if issued is not None:
        _announce(issued, _store(local_url(settings), issued.secret))


def _store(url: str, secret: str) -> str:
    # Imported here: the SDK package is not needed to start a server (only on its first start).
    from modelyard.client import _credentials as credentials

    current = credentials.default_url(os.environ)
    make_default = current is None or current.startswith(tuple(f"http://{h}" for h in _LOCAL_HOSTS))
    try:
        path = credentials.save(url, secret, os.environ, make_default=make_default)
    except OSError as exc:
        return f"not stored ({exc}); use `modelyard login {url} --token -`"
    default = "" if make_default else f" (run `modelyard login {url} --token -` to use it)"
    return f"stored for {url} in {path}{default}"


def _announce(issued: IssuedToken, stored: str) -> None:
    err.print(
        f"First start: created the global admin [bold]{issued.token.user}[/bold].\n"
        f"Its API token, shown this once:\n\n    {issued.secret}\n\n"
        f"The CLI on this machine is signed in: token {stored}.\n"
        "Add people with `modelyard users create NAME --password`; see docs/access.md."
    )


def admin_token(
    name: Annotated[str, typer.Argument(help="The user to make a global admin.")] = "admin",
    data_dir: Annotated[
        str | None, typer.Option("--data-dir", help="Data directory [env: MODELYARD_DATA_DIR]")
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option("--database-url", help="Metadata database URL [env: MODELYARD_DATABASE_URL]"),
    ] = None,
) -> None:
    """Make NAME a global admin with a new token, straight in the database (recovery)."""
    from modelyard.cli.remote import fail
    from modelyard.cli.server import upgrade_database
    from modelyard.db.engine import Database
    from modelyard.services import bootstrap

    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    upgrade_database(settings)
    db = Database.from_url(settings.resolved_database_url, settings.sqlite_busy_timeout_ms)
    try:
        issued = bootstrap.admin_token(db, name)
    except ModelyardError as exc:
        fail(exc.code, exc.message)
    finally:
        db.dispose()
    typer.echo(issued.secret)
    err.print(f"{name} is a global admin; the token above is shown this once")
