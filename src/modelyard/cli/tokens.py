"""``modelyard tokens create|list|revoke``: API tokens for you and your service accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli import identity_output as out
from modelyard.cli.options import AsJson
from modelyard.cli.output import print_json
from modelyard.cli.remote import fail, remote
from modelyard.client import ApiToken

app = typer.Typer(help="API tokens: create (shown once), list, revoke.", no_args_is_help=True)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="What it is for, e.g. laptop, ci.")] = "cli",
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            "-s",
            help="ACTION:* | ACTION:namespace | ACTION:namespace/model, ACTION one of read"
            " write promote approve admin; repeat for more. None: your full rights.",
        ),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option("--expires-in-days", min=1, max=3650)
    ] = None,
    for_: Annotated[str | None, typer.Option("--for", help="A service account you manage.")] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print the token only (for scripts).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Create a token. It is printed this once: store it now."""
    with remote(ctx) as client:
        issued = client.create_token(name, scope, expires_in_days, service_account=for_)
    if as_json:
        print_json({**out.token_json(issued.token), "token": issued.secret})
    elif quiet:
        typer.echo(issued.secret)
    else:
        typer.echo(issued.secret)
        typer.echo(
            f"token {issued.token.id} for {issued.token.user} ({' '.join(issued.token.scopes)});"
            " it is shown this once",
            err=True,
        )


@app.command("list")
def list_(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option("--user", help="Another account's.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked tokens.")] = False,
    as_json: AsJson = False,
) -> None:
    """List tokens (a hint of each, never the token itself)."""
    with remote(ctx) as client:
        out.show_tokens(client.list_tokens(user, all_), as_json)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The id, or its first characters.")],
    user: Annotated[str | None, typer.Option("--user", help="Another account's token.")] = None,
) -> None:
    """Revoke a token: the server refuses it from the next request."""
    with remote(ctx) as client:
        token = client.revoke_token(_full_id(client.list_tokens(user), token_id))
    typer.echo(f"revoked token {token.id} ({token.name}, {token.hint})")


def _full_id(tokens: list[ApiToken], given: str) -> str:
    """A unique prefix of one of the listed tokens' ids stands for it (as ``tokens list``
    shows them); anything else goes to the server as it is."""
    matches = [t.id for t in tokens if t.id.startswith(given)] if len(given) >= 4 else []
    if len(matches) > 1:
        fail("TOKEN_AMBIGUOUS", f"{given!r} starts {len(matches)} token ids; give more of it")
    return matches[0] if matches else given
