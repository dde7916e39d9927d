"""``modelyard versions create|list|show``."""

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
    Reference,
    Tags,
    Text,
    key_values,
    numbers,
)
from modelyard.cli.remote import remote

app = typer.Typer(help="Versions: numbered, immutable snapshots of a model.", no_args_is_help=True)

Metrics = Annotated[
    list[str] | None, typer.Option("--metric", "-m", help="A metric NAME=NUMBER; repeat for more.")
]


@app.command("create")
def create(
    ctx: typer.Context,
    model: ModelName,
    description: Description = None,
    tag: Tags = None,
    metric: Metrics = None,
    as_json: AsJson = False,
) -> None:
    """Create the next version of a model (metadata only; files arrive with push)."""
    tags, metrics = key_values(tag, "--tag"), numbers(metric, "--metric")
    with remote(ctx) as client:
        version = client.create_version(model, description or "", tags, metrics)
    output.done(version, as_json, f"created version {version.reference}")


@app.command("list")
def list_(
    ctx: typer.Context,
    model: ModelName,
    filter: Filter = None,
    q: Text = None,
    order_by: OrderBy = None,
    limit: Limit = DEFAULT_LIMIT,
    archived: Archived = False,
    as_json: AsJson = False,
) -> None:
    """List a model's versions, newest first."""
    with remote(ctx) as client:
        size = output.page_size(limit)
        found = client.iter_versions(model, filter, q, order_by, size, archived)
        output.show_first(found, limit, as_json, "versions")


@app.command("show")
def show(ctx: typer.Context, reference: Reference, as_json: AsJson = False) -> None:
    """Show one version, e.g. `versions show risk-team/fraud@champion`."""
    with remote(ctx) as client:
        output.show(client.get_version(reference), as_json)
