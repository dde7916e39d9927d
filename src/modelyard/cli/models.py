"""``modelyard models create|list|show|update|archive``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli import output
from modelyard.cli.options import (
    DEFAULT_LIMIT,
    Archived,
    AsJson,
    Description,
    Filter,
    Limit,
    ModelName,
    OrderBy,
    Tags,
    Text,
    key_values,
)
from modelyard.cli.remote import remote
from modelyard.client import Client, Model

app = typer.Typer(
    help="Models: namespace/name, with tags, risk level and aliases.", no_args_is_help=True
)

Risk = Annotated[
    str | None, typer.Option("--risk", help="Risk level: unassessed, low, medium or high.")
]
Reason = Annotated[str | None, typer.Option("--reason", help="Why this risk level (with --risk).")]


@app.command("create")
def create(
    ctx: typer.Context,
    name: ModelName,
    description: Description = None,
    tag: Tags = None,
    as_json: AsJson = False,
) -> None:
    """Register a model, e.g. `models create risk-team/fraud --tag team=fraud`."""
    tags = key_values(tag, "--tag")
    with remote(ctx) as client:
        model = client.create_model(name, description or "", tags)
    output.done(model, as_json, f"created model {model.full_name}")


@app.command("list")
def list_(
    ctx: typer.Context,
    namespace: Annotated[str | None, typer.Argument(help="Only this namespace.")] = None,
    filter: Filter = None,
    q: Text = None,
    order_by: OrderBy = None,
    limit: Limit = DEFAULT_LIMIT,
    archived: Archived = False,
    as_json: AsJson = False,
) -> None:
    """List models (all, or one namespace's), optionally filtered."""
    if namespace is not None:
        filter = _and(f"namespace = {_quoted(namespace)}", filter)
    with remote(ctx) as client:
        found = client.iter_models(filter, q, order_by, output.page_size(limit), archived)
        output.show_first(found, limit, as_json, "models")


@app.command("show")
def show(ctx: typer.Context, name: ModelName, as_json: AsJson = False) -> None:
    """Show one model: description, risk, aliases, tags."""
    with remote(ctx) as client:
        output.show(client.get_model(name), as_json)


@app.command("update")
def update(
    ctx: typer.Context,
    name: ModelName,
    description: Description = None,
    risk: Risk = None,
    reason: Reason = None,
    as_json: AsJson = False,
) -> None:
    """Change a model's description, or its risk level (with a reason)."""
    if description is None and risk is None:
        raise typer.BadParameter("nothing to change", param_hint="--description / --risk")
    if (risk is None) != (reason is None):
        raise typer.BadParameter("give --risk and --reason together", param_hint="--risk")
    with remote(ctx) as client:
        model = _change(client, name, description, risk, reason or "")
    output.done(model, as_json, f"updated model {model.full_name}")


@app.command("archive")
def archive(ctx: typer.Context, name: ModelName, as_json: AsJson = False) -> None:
    """Archive a model: it stays readable but accepts no changes."""
    with remote(ctx) as client:
        model = client.archive_model(name)
    output.done(model, as_json, f"archived model {model.full_name}")


def _change(
    client: Client, name: str, description: str | None, risk: str | None, reason: str
) -> Model:
    if risk is None:
        return client.update_model(name, description)
    if description is not None:
        client.update_model(name, description)
    return client.set_model_risk(name, risk, reason)


def _quoted(value: str) -> str:
    """A filter-language string literal (a doubled quote escapes itself)."""
    return "'" + value.replace("'", "''") + "'"


def _and(clause: str, filter: str | None) -> str:
    return f"{clause} AND ({filter})" if filter else clause
