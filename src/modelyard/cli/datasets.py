"""``modelyard datasets create|list|show|update|revoke|reinstate|affected``."""

from __future__ import annotations

from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelyard.cli import output
from modelyard.cli.options import DEFAULT_LIMIT, AsJson, Description, Limit
from modelyard.cli.remote import fail, remote
from modelyard.domain.datasets import Dataset

app = typer.Typer(
    help="Registered datasets: what models are trained and evaluated on.", no_args_is_help=True
)

DatasetRef = Annotated[
    str,
    typer.Argument(metavar="NAMESPACE/NAME@VERSION", help="A dataset version."),
]
Classifications = Annotated[
    list[str] | None,
    typer.Option("--classification", "-c", help="e.g. pii, special-category; repeat for more."),
]
Owner = Annotated[str | None, typer.Option("--owner", help="Who answers for it.")]
Licence = Annotated[str | None, typer.Option("--licence", help="Its licence or terms of use.")]


def _json(d: Dataset) -> dict[str, Any]:
    return {**asdict(d), "reference": d.reference, "classifications": list(d.classifications)}


def _show(d: Dataset, as_json: bool) -> None:
    if as_json:
        output.print_json(_json(d))
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    status = d.status if not d.revoked else f"revoked: {d.revoked_reason} ({d.revoked_by})"
    for label, value in [
        ("dataset", d.reference),
        ("uri", d.uri),
        ("digest", d.digest or ""),
        ("size", "" if d.size is None else str(d.size)),
        ("classifications", ", ".join(d.classifications) or "none"),
        ("status", status),
        ("owner", d.owner),
        ("licence", d.licence),
        ("description", d.description),
    ]:
        grid.add_row(label, Text(value))
    Console(highlight=False).print(grid)


@app.command("create")
def create(
    ctx: typer.Context,
    reference: DatasetRef,
    uri: Annotated[str, typer.Option("--uri", help="Where the data lives.")] = "",
    path: Annotated[
        Path | None,
        typer.Option("--path", help="A local file or directory: its digest and size computed."),
    ] = None,
    digest: Annotated[str | None, typer.Option("--digest", help="sha256:… of the data.")] = None,
    size: Annotated[int | None, typer.Option("--size", min=0, help="Bytes.")] = None,
    classification: Classifications = None,
    owner: Owner = None,
    licence: Licence = None,
    description: Description = None,
    as_json: AsJson = False,
) -> None:
    """Register a dataset version (its uri, digest and size never change)."""
    with remote(ctx) as client:
        try:
            d = client.create_dataset(
                reference, uri, digest, size, path=path, owner=owner or "",
                licence=licence or "", description=description or "",
                classifications=classification or [],
            )  # fmt: skip
        except OSError as exc:
            fail("LOCAL_FILES", str(exc))
    _done(d, as_json, f"registered {d.reference}")


def _done(d: Dataset, as_json: bool, message: str) -> None:
    if as_json:
        output.print_json(_json(d))
    else:
        typer.echo(message)


@app.command("list")
def list_(
    ctx: typer.Context,
    namespace: Annotated[str | None, typer.Option("--namespace", help="Only this team's.")] = None,
    classification: Annotated[
        str | None, typer.Option("--classification", "-c", help="Only those classified so.")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help="active or revoked.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    as_json: AsJson = False,
) -> None:
    """List datasets by namespace, name and version."""
    with remote(ctx) as client:
        found = list(
            islice(
                client.iter_datasets(
                    namespace=namespace, classification=classification, status=status,
                    page_size=output.page_size(limit),
                ),
                limit,
            )
        )  # fmt: skip
    if as_json:
        output.print_json([_json(d) for d in found])
        return
    if not found:
        typer.echo("no datasets")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in ("DATASET", "CLASSIFICATIONS", "STATUS"):
        table.add_column(header, overflow="fold")
    for d in found:
        table.add_row(Text(d.reference), Text(", ".join(d.classifications)), Text(d.status))
    Console(highlight=False).print(table)


@app.command("show")
def show(ctx: typer.Context, reference: DatasetRef, as_json: AsJson = False) -> None:
    """Show one dataset version (NAMESPACE/NAME for its newest)."""
    with remote(ctx) as client:
        _show(client.get_dataset(reference), as_json)


@app.command("update")
def update(
    ctx: typer.Context,
    reference: DatasetRef,
    classification: Classifications = None,
    owner: Owner = None,
    licence: Licence = None,
    description: Description = None,
    as_json: AsJson = False,
) -> None:
    """Correct metadata; --classification replaces the whole list."""
    with remote(ctx) as client:
        d = client.update_dataset(
            reference, description=description, owner=owner, licence=licence,
            classifications=classification,
        )  # fmt: skip
    _done(d, as_json, f"updated {d.reference}")


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    reference: DatasetRef,
    reason: Annotated[str, typer.Option("--reason", help="Why (consent withdrawn, …).")],
    as_json: AsJson = False,
) -> None:
    """Revoke: every version trained on it (directly or derived) is flagged."""
    with remote(ctx) as client:
        d = client.revoke_dataset(reference, reason)
        affected = client.affected_by(reference)
    _done(d, as_json, f"revoked {d.reference}; {len(affected)} versions flagged")


@app.command("reinstate")
def reinstate(ctx: typer.Context, reference: DatasetRef, as_json: AsJson = False) -> None:
    """Undo a revocation made in error."""
    with remote(ctx) as client:
        d = client.reinstate_dataset(reference)
    _done(d, as_json, f"reinstated {d.reference}")


@app.command("affected")
def affected(
    ctx: typer.Context,
    reference: DatasetRef,
    live: Annotated[bool, typer.Option("--live", help="Leave archived versions out.")] = False,
    as_json: AsJson = False,
) -> None:
    """Every version trained on the dataset, directly or through derived_from (GDPR)."""
    with remote(ctx) as client:
        found = client.affected_by(reference, include_archived=not live)
    if as_json:
        output.print_json([asdict(a) for a in found])
        return
    if not found:
        typer.echo("no versions")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in ("VERSION", "STAGE", "VIA"):
        table.add_column(header, overflow="fold")
    for a in found:
        stage = a.stage + (" (archived)" if a.archived else "")
        table.add_row(Text(a.reference), Text(stage), Text(a.via))
    Console(highlight=False).print(table)
