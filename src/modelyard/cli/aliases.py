"""``modelyard alias set|rm``: movable names for one version of a model."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli import output
from modelyard.cli.options import AsJson, ModelName
from modelyard.cli.remote import remote

app = typer.Typer(help="Aliases: movable names such as @champion.", no_args_is_help=True)

Alias = Annotated[str, typer.Argument(help="e.g. champion")]


@app.command("set")
def set_(
    ctx: typer.Context,
    model: ModelName,
    alias: Alias,
    version: Annotated[int, typer.Argument(min=1, help="The version number it points at.")],
    as_json: AsJson = False,
) -> None:
    """Point an alias at a version, moving it if it pointed elsewhere."""
    with remote(ctx) as client:
        m = client.set_alias(model, alias, version)
    output.done(m, as_json, f"{m.full_name}@{alias} -> version {version}")


@app.command("rm")
def rm(ctx: typer.Context, model: ModelName, alias: Alias, as_json: AsJson = False) -> None:
    """Remove an alias (the version stays)."""
    with remote(ctx) as client:
        m = client.remove_alias(model, alias)
    output.done(m, as_json, f"removed alias {m.full_name}@{alias}")
