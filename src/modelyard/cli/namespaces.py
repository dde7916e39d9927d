"""``modelyard namespaces create|list|show|update|archive``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli import output
from modelyard.cli.options import DEFAULT_LIMIT, AsJson, Description, Limit
from modelyard.cli.remote import remote

app = typer.Typer(help="Namespaces: a team's space that owns models.", no_args_is_help=True)

Name = Annotated[str, typer.Argument(metavar="NAMESPACE", help="e.g. risk-team")]


Visibility = Annotated[
    str | None,
    typer.Option(
        "--visibility", help="private (members only, the default) or internal (all signed in)."
    ),
]


@app.command("create")
def create(
    ctx: typer.Context,
    name: Name,
    description: Description = None,
    visibility: Visibility = None,
    as_json: AsJson = False,
) -> None:
    """Create a namespace; you become its admin."""
    with remote(ctx) as client:
        ns = client.create_namespace(name, description or "", visibility)
    output.done(ns, as_json, f"created namespace {ns.name}")


@app.command("list")
def list_(ctx: typer.Context, limit: Limit = DEFAULT_LIMIT, as_json: AsJson = False) -> None:
    """List namespaces by name."""
    with remote(ctx) as client:
        found = client.iter_namespaces(page_size=output.page_size(limit))
        output.show_first(found, limit, as_json, "namespaces")


@app.command("show")
def show(ctx: typer.Context, name: Name, as_json: AsJson = False) -> None:
    """Show one namespace."""
    with remote(ctx) as client:
        output.show(client.get_namespace(name), as_json)


@app.command("update")
def update(
    ctx: typer.Context, name: Name, description: Description = None, as_json: AsJson = False
) -> None:
    """Change a namespace's description."""
    if description is None:
        raise typer.BadParameter("nothing to change", param_hint="--description")
    with remote(ctx) as client:
        ns = client.update_namespace(name, description)
    output.done(ns, as_json, f"updated namespace {ns.name}")


@app.command("archive")
def archive(ctx: typer.Context, name: Name, as_json: AsJson = False) -> None:
    """Archive a namespace: it keeps its models but accepts no new ones."""
    with remote(ctx) as client:
        ns = client.archive_namespace(name)
    output.done(ns, as_json, f"archived namespace {ns.name}")
