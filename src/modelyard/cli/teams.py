"""``modelyard teams members|add|remove|grant|revoke|visibility|capacities``: namespaces as
teams."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli import identity_output as out
from modelyard.cli.options import AsJson
from modelyard.cli.output import print_json
from modelyard.cli.remote import remote

app = typer.Typer(
    help="Teams: who belongs to a namespace, with which role and reviewer capacities.",
    no_args_is_help=True,
)

Team = Annotated[str, typer.Argument(metavar="NAMESPACE", help="e.g. risk-team")]
User = Annotated[str, typer.Argument(metavar="USER")]
Capacity = Annotated[str, typer.Argument(metavar="CAPACITY", help="e.g. technical, legal")]


@app.command("members")
def members(ctx: typer.Context, team: Team, as_json: AsJson = False) -> None:
    """List a namespace's members, roles and reviewer capacities."""
    with remote(ctx) as client:
        out.show_members(client.list_members(team), as_json)


@app.command("add")
def add(
    ctx: typer.Context,
    team: Team,
    user: User,
    role: Annotated[
        str, typer.Option("--role", help="viewer, contributor, maintainer or admin.")
    ] = "viewer",
) -> None:
    """Add a member, or change a member's role."""
    with remote(ctx) as client:
        member = client.set_member(team, user, role)
    typer.echo(f"{member.user} is {member.role} in {member.namespace}")


@app.command("remove")
def remove(ctx: typer.Context, team: Team, user: User) -> None:
    """Remove a member (and their reviewer capacities there)."""
    with remote(ctx) as client:
        client.remove_member(team, user)
    typer.echo(f"removed {user} from {team}")


@app.command("grant")
def grant(ctx: typer.Context, team: Team, user: User, capacity: Capacity) -> None:
    """Let a member review as CAPACITY in this namespace (admins of the namespace)."""
    with remote(ctx) as client:
        member = client.grant_capacity(team, user, capacity)
    typer.echo(f"{member.user} reviews as {', '.join(member.capacities)} in {team}")


@app.command("revoke")
def revoke(ctx: typer.Context, team: Team, user: User, capacity: Capacity) -> None:
    """Take a reviewer capacity away."""
    with remote(ctx) as client:
        member = client.revoke_capacity(team, user, capacity)
    held = ", ".join(member.capacities) or "nothing"
    typer.echo(f"{member.user} now reviews as {held} in {team}")


@app.command("visibility")
def visibility(
    ctx: typer.Context,
    team: Team,
    value: Annotated[str, typer.Argument(metavar="private|internal")],
) -> None:
    """private: members only; internal: every signed-in user may read the namespace."""
    with remote(ctx) as client:
        ns = client.set_visibility(team, value)
    typer.echo(f"{ns.name} is {ns.visibility}")


@app.command("capacities")
def capacities(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The reviewer capacities this server defines."""
    with remote(ctx) as client:
        names = client.capacities()
    if as_json:
        print_json(names)
    else:
        typer.echo("\n".join(names))
