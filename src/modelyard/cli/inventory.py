"""``modelyard inventory export`` and ``modelyard consumers declare|list|remove``."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelyard.cli import output
from modelyard.cli.options import Archived, AsJson, Filter, ModelName
from modelyard.cli.options import Text as FreeText
from modelyard.cli.remote import remote

inventory_app = typer.Typer(help="The company-wide inventory of models.", no_args_is_help=True)
consumers_app = typer.Typer(
    help="Services, pipelines and jobs that consume a model.", no_args_is_help=True
)

Format = Annotated[str, typer.Option("--format", help="json, csv or html.")]


@inventory_app.command("export")
def export(
    ctx: typer.Context,
    format: Format = "json",
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file (default: stdout).")
    ] = None,
    filter: Filter = None,
    q: FreeText = None,
    archived: Archived = False,
) -> None:
    """Every model you may read: owners, risk, stages, data and classifications,
    dependencies, consumers, completeness (filters as in search)."""
    if format not in ("json", "csv", "html"):
        raise typer.BadParameter("json, csv or html", param_hint="--format")
    with remote(ctx) as client:
        body = client.export_inventory(format, filter, q, archived)
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        out.write_bytes(body)
        typer.echo(f"wrote {out} ({len(body)} bytes)", err=True)


@consumers_app.command("declare")
def declare(
    ctx: typer.Context,
    model: ModelName,
    name: Annotated[str, typer.Argument(help="The consumer, e.g. payments-api.")],
    reference: Annotated[
        str, typer.Argument(help="What it uses: REF (production, champion, 7) or NS/NAME@REF.")
    ],
    kind: Annotated[str, typer.Option("--kind", help="service, pipeline, job or other.")] = (
        "service"
    ),
    as_json: AsJson = False,
) -> None:
    """Declare that a service, pipeline or job consumes a model by a reference."""
    with remote(ctx) as client:
        c = client.declare_consumer(model, name, reference, kind)
    if as_json:
        output.print_json(asdict(c))
    else:
        typer.echo(f"{c.name} consumes {c.reference}")


@consumers_app.command("list")
def list_(ctx: typer.Context, model: ModelName, as_json: AsJson = False) -> None:
    """The consumers of a model, with when each last pulled and which version."""
    with remote(ctx) as client:
        found = client.consumers(model)
    if as_json:
        output.print_json([asdict(c) for c in found])
        return
    if not found:
        typer.echo("no consumers")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in ("CONSUMER", "KIND", "REFERENCE", "LAST SEEN"):
        table.add_column(header, overflow="fold")
    for c in found:
        seen = (
            "never"
            if c.last_seen_at is None
            else f"{c.last_seen_at:%Y-%m-%d %H:%M} (v{c.last_version})"
        )
        table.add_row(Text(c.name), Text(c.kind), Text(c.reference), Text(seen))
    Console(highlight=False).print(table)


@consumers_app.command("remove")
def remove(
    ctx: typer.Context,
    model: ModelName,
    name: Annotated[str, typer.Argument(help="The consumer.")],
) -> None:
    """Forget a consumer."""
    with remote(ctx) as client:
        client.remove_consumer(model, name)
    typer.echo(f"removed {name}")
