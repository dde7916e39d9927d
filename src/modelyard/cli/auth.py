"""``modelyard login URL``, ``modelyard logout``, ``modelyard whoami``.

``login`` trades a user name and password (or a token given with ``--token``) for an API token
and stores it in the credentials file (``modelyard.client._credentials``: 0600, keyed by URL),
where the SDK and every command find it. ``MODELYARD_TOKEN`` still wins when it is set.
"""

from __future__ import annotations

import getpass
import os
import socket
from typing import Annotated

import typer

from modelyard.cli import identity_output as out
from modelyard.cli.options import AsJson
from modelyard.cli.remote import fail, remote
from modelyard.client import Client, ModelyardError, sign_in
from modelyard.client import _credentials as credentials

FROM_STDIN = "-"


def login(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The server, e.g. https://models.example.com")],
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="Your user name (default: your login).")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="Store this API token instead of signing in ('-': stdin)."),
    ] = None,
) -> None:
    """Sign in to a server and remember it: later commands and the SDK use it by themselves."""
    transport = getattr(ctx.find_root().obj, "transport", None)
    try:
        if token is not None:
            stdin = typer.get_text_stream("stdin")
            secret = stdin.readline().strip() if token == FROM_STDIN else token
        else:
            name = user or getpass.getuser()
            password = typer.prompt(f"Password for {name} at {url}", hide_input=True)
            token_name = f"cli on {socket.gethostname()}"[:200]
            secret = sign_in(url, name, password, token_name, transport=transport).secret
        with Client(url, token=secret, transport=transport) as client:
            me = client.whoami()
    except ModelyardError as exc:
        fail(exc.code, exc.message)
    path = credentials.save(url, secret, os.environ)
    typer.echo(f"signed in to {credentials.normal(url)} as {me.user.name} (token kept in {path})")


def logout(
    ctx: typer.Context,
    url: Annotated[
        str | None, typer.Argument(help="The server (default: the default one).")
    ] = None,
) -> None:
    """Revoke the stored token of a server and forget it."""
    server = url or credentials.default_url(os.environ)
    if server is None or credentials.token_for(server, os.environ) is None:
        fail("NOT_SIGNED_IN", f"no stored token for {server or 'any server'}")
    transport = getattr(ctx.find_root().obj, "transport", None)
    try:
        with Client(server, transport=transport) as client:
            me = client.whoami()
            if me.token is not None:
                client.revoke_token(me.token.id)
    except ModelyardError as exc:  # an unreachable server, or a token already dead
        typer.echo(f"note: could not revoke the token ({exc.code}); forgetting it", err=True)
    credentials.forget(server, os.environ)
    typer.echo(f"signed out of {credentials.normal(server)}")


def whoami(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Who the server takes you for: user, token scopes, teams, roles and capacities."""
    with remote(ctx) as client:
        me = client.whoami()
    out.show_identity(me, as_json)
