"""``modelyard users list|show|create|update|password|admin|disable|enable|service-account``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from modelyard.cli import identity_output as out
from modelyard.cli.options import DEFAULT_LIMIT, AsJson, Limit
from modelyard.cli.output import page_size, print_json
from modelyard.cli.remote import remote
from modelyard.client import User

app = typer.Typer(help="Users and service accounts (machine users for CI).", no_args_is_help=True)

Name = Annotated[str, typer.Argument(metavar="USER", help="A user name, e.g. ann")]
Kind = Annotated[
    str | None, typer.Option("--kind", help="Only people (user) or service accounts (service).")
]


@app.command("list")
def list_(
    ctx: typer.Context, kind: Kind = None, limit: Limit = DEFAULT_LIMIT, as_json: AsJson = False
) -> None:
    """List users and service accounts by name."""
    with remote(ctx) as client:
        found = list(client.iter_users(kind, page_size=page_size(limit)))
    out.show_users(found[:limit], as_json)


@app.command("show")
def show(ctx: typer.Context, name: Name, as_json: AsJson = False) -> None:
    """Show one user."""
    with remote(ctx) as client:
        out.show_user(client.get_user(name), as_json)


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    display_name: Annotated[str, typer.Option("--name", help="Full name.")] = "",
    email: Annotated[str, typer.Option("--email")] = "",
    admin: Annotated[bool, typer.Option("--admin", help="Make a global admin.")] = False,
    password: Annotated[
        bool, typer.Option("--password", help="Prompt for a password (else tokens only).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Create a person (global admins only)."""
    secret = (
        typer.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    )
    with remote(ctx) as client:
        user = client.create_user(name, secret, display_name, email, admin)
    _done(user, as_json, f"created user {user.name}")


@app.command("update")
def update(
    ctx: typer.Context,
    name: Name,
    display_name: Annotated[str | None, typer.Option("--name", help="Full name.")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    as_json: AsJson = False,
) -> None:
    """Change a user's full name or e-mail."""
    with remote(ctx) as client:
        user = client.update_user(name, display_name, email)
    _done(user, as_json, f"updated user {user.name}")


@app.command("password")
def password(ctx: typer.Context, name: Name) -> None:
    """Set a password: your own (asks for the current one), or anyone's as a global admin."""
    with remote(ctx) as client:
        mine = client.whoami().user
        current = None
        if mine.name == name and not mine.admin:
            current = typer.prompt("Current password", hide_input=True)
        new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        client.set_password(name, new, current)
    typer.echo(f"password of {name} changed; their web sessions have ended")


@app.command("admin")
def admin(
    ctx: typer.Context,
    name: Name,
    revoke: Annotated[bool, typer.Option("--revoke", help="Take global admin away.")] = False,
    as_json: AsJson = False,
) -> None:
    """Make a user a global admin (or, with --revoke, no longer one)."""
    with remote(ctx) as client:
        user = client.set_admin(name, not revoke)
    _done(user, as_json, f"{user.name} is {'a' if user.admin else 'no longer a'} global admin")


@app.command("disable")
def disable(ctx: typer.Context, name: Name, as_json: AsJson = False) -> None:
    """Disable an account: its sessions end and its tokens stop working at once."""
    with remote(ctx) as client:
        user = client.disable_user(name)
    _done(user, as_json, f"disabled {user.name}")


@app.command("enable")
def enable(ctx: typer.Context, name: Name, as_json: AsJson = False) -> None:
    """Enable a disabled account again."""
    with remote(ctx) as client:
        user = client.enable_user(name)
    _done(user, as_json, f"enabled {user.name}")


@app.command("service-account")
def service_account(
    ctx: typer.Context,
    name: Name,
    team: Annotated[str, typer.Option("--team", help="The namespace that owns it.")],
    role: Annotated[str, typer.Option("--role", help="Its role there.")] = "contributor",
    as_json: AsJson = False,
) -> None:
    """Create a service account for CI, owned by a team; then `tokens create --for NAME`."""
    with remote(ctx) as client:
        user = client.create_service_account(name, team, role)
    _done(user, as_json, f"created service account {user.name} ({role} in {team})")


def _done(user: User, as_json: bool, message: str) -> None:
    if as_json:
        print_json(asdict(user))
    else:
        typer.echo(message)
