"""``modelyard push|pull|ls`` (remote, through the SDK) and ``modelyard gc`` (server side).

Push and pull show rich progress bars (bytes, rate, ETA) on stderr when it is a terminal, and
print nothing but their result otherwise.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from modelyard.cli import output, provenance
from modelyard.cli.options import (
    AsJson,
    Description,
    ModelName,
    Reference,
    Tags,
    key_values,
    numbers,
)
from modelyard.cli.remote import fail, remote
from modelyard.cli.server import DatabaseUrl, DataDir
from modelyard.domain.manifests import Manifest
from modelyard.domain.transfers import GcReport

Metrics = Annotated[
    list[str] | None, typer.Option("--metric", "-m", help="A metric NAME=NUMBER; repeat for more.")
]
Progress = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress", help="Progress bars (default: when stderr is a terminal)."
    ),
]


def push(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A file, or a directory of files.")],
    model: ModelName,
    description: Description = None,
    tag: Tags = None,
    metric: Metrics = None,
    progress: Progress = None,
    as_json: AsJson = False,
    no_code: provenance.NoCode = False,
    code_from: provenance.CodeFrom = None,
    no_environment: provenance.NoEnvironment = False,
    container_image: provenance.ContainerImage = None,
    config: provenance.Config = None,
    data: provenance.Data = None,
    eval_data: provenance.EvalData = None,
    derived_from: provenance.DerivedFrom = None,
    depends_on: provenance.DependsOn = None,
    card: provenance.Card = None,
) -> None:
    """Push PATH as the next version of a model; only files the server lacks are sent.
    The ingredients are captured (see docs/ingredients.md); --no-code, --no-environment and
    the other capture options change what is recorded."""
    tags, metrics = key_values(tag, "--tag"), numbers(metric, "--metric")
    with remote(ctx) as client:
        try:
            captured = provenance.push_arguments(
                no_code, code_from, no_environment, container_image, config, data, eval_data,
                derived_from, depends_on, card,
            )  # fmt: skip
            version = client.push(
                path, model, description or "", tags, metrics, progress=progress, **captured
            )
        except OSError as exc:
            fail("LOCAL_FILES", str(exc))
    output.done(version, as_json, f"pushed {version.reference} ({version.manifest_digest})")


def pull(
    ctx: typer.Context,
    reference: Reference,
    dest: Annotated[
        Path | None, typer.Argument(help="Directory to write into (default: ./NAME).")
    ] = None,
    progress: Progress = None,
    consumer: Annotated[
        str | None,
        typer.Option("--consumer", help="Who pulls (service, pipeline, job): recorded as seen."),
    ] = None,
) -> None:
    """Download a version's files, verifying every digest (cached blobs are not fetched)."""
    with remote(ctx) as client:
        try:
            target = client.pull(reference, dest, progress=progress, consumer=consumer)
        except OSError as exc:
            fail("LOCAL_FILES", str(exc))
    typer.echo(f"pulled {reference} into {target}")


def ls(ctx: typer.Context, reference: Reference, as_json: AsJson = False) -> None:
    """List a version's files with their sizes and digests."""
    with remote(ctx) as client:
        resolved, manifest = client.manifest(reference)
    if as_json:
        doc = {"reference": resolved, "digest": manifest.digest}
        output.print_json({**doc, "artifacts": [a.to_dict() for a in manifest.artifacts]})
        return
    typer.echo(f"{resolved}  {len(manifest.artifacts)} files, {human_size(manifest.total_size)}")
    typer.echo(f"digest {manifest.digest}")
    Console(highlight=False).print(_files(manifest))


def _files(manifest: Manifest) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("SIZE", justify="right", no_wrap=True)
    table.add_column("DIGEST", no_wrap=True)
    table.add_column("PATH", overflow="fold")
    for a in manifest.artifacts:
        table.add_row(human_size(a.size), a.digest[:19], a.path)
    return table


def human_size(size: int) -> str:
    value, unit = float(size), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def gc(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
    as_json: AsJson = False,
) -> None:
    """Remove blobs no version uses and stale uploads, older than MODELYARD_GC_GRACE_SECONDS,
    and webhook history older than MODELYARD_WEBHOOKS_RETENTION_SECONDS. Runs on the server's
    database and blob store (like `db upgrade`); safe while it serves."""
    from modelyard.blobs import open_store
    from modelyard.db.engine import Database
    from modelyard.services import gc as collector
    from modelyard.settings import Settings

    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    db = Database.from_url(settings.resolved_database_url, settings.sqlite_busy_timeout_ms)
    store = open_store(settings)
    try:
        grace = timedelta(seconds=settings.gc_grace_seconds)
        retention = timedelta(seconds=settings.webhooks_retention_seconds)
        report = collector.collect(db, store, grace, dry_run=dry_run, webhook_retention=retention)
    finally:
        store.close()
        db.dispose()
    _report(report, as_json)


def _report(report: GcReport, as_json: bool) -> None:
    if as_json:
        doc = {
            "dry_run": report.dry_run,
            "grace_seconds": report.grace_seconds,
            "blobs": [{"digest": d, "size": n} for d, n in report.blobs],
            "freed_bytes": report.freed_bytes,
            "uploads": report.uploads,
            "leftovers": report.leftovers,
            "webhook_deliveries": report.webhook_deliveries,
            "outbox_events": report.outbox_events,
        }
        typer.echo(json.dumps(doc, indent=2))
        return
    verb = "would free" if report.dry_run else "freed"
    for digest, size in report.blobs:
        typer.echo(
            f"{'would remove' if report.dry_run else 'removed'} {digest} ({human_size(size)})"
        )
    typer.echo(
        f"{verb} {human_size(report.freed_bytes)} in {len(report.blobs)} blobs; "
        f"{len(report.uploads)} stale uploads"
    )
    if report.webhook_deliveries or report.outbox_events:
        typer.echo(
            f"{'would forget' if report.dry_run else 'forgot'} webhook history: "
            f"{report.webhook_deliveries} finished deliveries, {report.outbox_events} outbox events"
        )
