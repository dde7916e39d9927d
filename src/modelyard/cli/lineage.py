"""``modelyard ingredients|lineage|impact|card|metrics|packages`` (all remote, through the SDK)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelyard.cli import output
from modelyard.cli.options import AsJson, ModelName, Reference
from modelyard.cli.remote import remote

Depth = Annotated[int, typer.Option("--depth", min=1, max=10, help="Steps away from it.")]
Direction = Annotated[str, typer.Option("--direction", help="upstream, downstream or both.")]


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*map(Text, row))
    Console(highlight=False).print(table)


def ingredients(ctx: typer.Context, reference: Reference, as_json: AsJson = False) -> None:
    """Show what made a version (code, environment, config, data) and what is missing."""
    with remote(ctx) as client:
        got = client.ingredients(reference)
    if as_json:
        output.print_json(asdict(got))
        return
    report = got.completeness
    typer.echo(f"{got.reference}: ingredients {'complete' if report.complete else 'incomplete'}")
    for part, why in report.missing.items():
        typer.echo(f"  missing {part}: {why}")
    if got.code:
        dirty = " (dirty, diff recorded)" if got.code.get("dirty") else ""
        typer.echo(f"code: {got.code.get('commit')} on {got.code.get('branch')}{dirty}")
    if got.environment:
        env = got.environment
        count = len(env.get("packages") or [])
        python = f"{env.get('implementation')} {env.get('python_version')}"
        typer.echo(f"environment: {python}, {count} packages")
    if got.config is not None:
        typer.echo(f"config: {len(got.config)} keys")
    for d in got.data:
        typer.echo(f"data: {d.role} {d.dataset or d.uri} {', '.join(d.classifications)}".rstrip())


def lineage(
    ctx: typer.Context,
    reference: Reference,
    direction: Direction = "both",
    depth: Depth = 3,
    as_json: AsJson = False,
) -> None:
    """Show the lineage graph around a version: one line per edge."""
    with remote(ctx) as client:
        graph = client.lineage(reference, direction, depth)
    if as_json:
        output.print_json(asdict(graph))
        return
    rows = [(e.source, e.relation, e.target) for e in graph.edges]
    if not rows:
        typer.echo(f"{graph.root}: no lineage recorded")
        return
    _table(("FROM", "RELATION", "TO"), rows)
    if graph.truncated:
        typer.echo("(graph truncated; lower --depth)", err=True)


def impact(ctx: typer.Context, reference: Reference, as_json: AsJson = False) -> None:
    """What archiving a version would touch: aliases, consumers, versions built on it."""
    with remote(ctx) as client:
        found = client.impact(reference)
    if as_json:
        output.print_json(asdict(found))
        return
    typer.echo(f"{found.reference} ({found.stage})")
    if found.exclusive_stage:
        typer.echo(
            f"  holds {found.stage}: it cannot be archived until another version takes its"
            " place or it is moved out (modelyard promote)"
        )
    typer.echo(f"  aliases: {', '.join(found.aliases) or 'none'}")
    typer.echo(f"  consumers: {', '.join(c.name for c in found.consumers) or 'none'}")
    for a in found.downstream:
        typer.echo(f"  downstream: {a.reference} ({a.via})")


def card(
    ctx: typer.Context,
    reference: Reference,
    html: Annotated[bool, typer.Option("--html", help="A standalone HTML page.")] = False,
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Print a version's model card (the author's text merged with generated facts)."""
    with remote(ctx) as client:
        text = client.card(reference, "html" if html else "md")
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}")


def metrics(
    ctx: typer.Context,
    model: ModelName,
    names: Annotated[str | None, typer.Option("--names", help="e.g. auc,f1")] = None,
    as_json: AsJson = False,
) -> None:
    """Compare metrics across a model's versions (oldest first)."""
    wanted = [n.strip() for n in names.split(",") if n.strip()] if names else None
    with remote(ctx) as client:
        found = client.compare_metrics(model, wanted)
    if as_json:
        output.print_json([asdict(v) for v in found])
        return
    rows = [
        (str(v.version), v.stage, m.name, f"{m.value:g}", m.dataset, m.split)
        for v in found
        for m in v.metrics
    ]
    _table(("VERSION", "STAGE", "METRIC", "VALUE", "DATASET", "SPLIT"), rows)


def packages(
    ctx: typer.Context,
    package: Annotated[str, typer.Argument(help="A distribution name, e.g. scipy.")],
    specifier: Annotated[
        str | None, typer.Option("--specifier", help="A PEP 440 range, e.g. '<1.11.1'.")
    ] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="e.g. production")] = None,
    as_json: AsJson = False,
) -> None:
    """Which versions run a package (in a version range): e.g. a vulnerable SciPy."""
    with remote(ctx) as client:
        found = client.package_users(package, specifier, stage)
    if as_json:
        output.print_json([asdict(u) for u in found])
        return
    rows: list[tuple[str, ...]] = [(u.reference, u.stage, u.version) for u in found]
    if not rows:
        typer.echo("no versions")
        return
    _table(("VERSION", "STAGE", package.upper()), rows)
