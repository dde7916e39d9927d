"""What commands print: rich tables for people (80 columns fit), plain JSON for scripts.

User text (descriptions, tags) goes into ``rich.text.Text`` so that ``[bold]`` in a
description is shown as typed, never read as console markup. ``--json`` output is written with
``typer.echo`` and nothing else goes to stdout, so ``| jq`` always works.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from itertools import islice
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelyard.client import Model, Namespace, Version

Record = Namespace | Model | Version


def record_json(record: Record) -> dict[str, Any]:
    """The record as the API sends it (``full_name`` and ``reference`` included)."""
    data = asdict(record)
    if isinstance(record, Model):
        data["full_name"] = record.full_name
    if isinstance(record, Version):
        data["reference"] = record.reference
    return data


def text_table(headers: list[str], rows: list[list[str]]) -> Table:
    """Columns as wide as their widest cell; the last one takes what room is left and is cut
    with … (80 columns fit)."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    used = 0
    for i, header in enumerate(headers[:-1]):
        widest = max([len(header), *(len(row[i]) for row in rows)])
        table.add_column(header, no_wrap=True, min_width=widest)
        used += widest + 2  # the column and the padding between columns
    # Cut the last cells to the room left: a row wider than the terminal would make rich drop
    # whole columns instead.
    room = max(len(headers[-1]), Console().width - used - 1)
    table.add_column(headers[-1], no_wrap=True, overflow="ellipsis", ratio=1)
    for row in rows:
        last = row[-1] if len(row[-1]) <= room else row[-1][: room - 1] + "…"
        table.add_row(*(Text(cell) for cell in [*row[:-1], last]))  # never console markup
    return table


def field_grid(fields: list[tuple[str, str]]) -> Table:
    """One record's fields, a label and its value a line (long values fold)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in fields:
        grid.add_row(label, Text(value))
    return grid


def print_plain(renderable: Any) -> None:
    Console(highlight=False).print(renderable)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_iso))


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def show(record: Record, as_json: bool) -> None:
    """One record: JSON, or a two-column list of its fields."""
    if as_json:
        print_json(record_json(record))
    else:
        Console(highlight=False).print(_details(record))


def show_all(records: Sequence[Record], as_json: bool, kind: str) -> None:
    """Many records: a JSON array, or a table (``kind`` names them when there are none)."""
    if as_json:
        print_json([record_json(r) for r in records])
    elif not records:
        typer.echo(f"no {kind}")
    else:
        Console(highlight=False).print(_table(records))


def show_first(records: Iterator[Record], limit: int, as_json: bool, kind: str) -> None:
    """At most ``limit`` records; says on stderr (never under --json) when there are more."""
    shown = list(islice(records, limit + 1))
    show_all(shown[:limit], as_json, kind)
    if len(shown) > limit and not as_json:
        typer.echo(f"(more {kind} match; raise --limit to see them)", err=True)


def page_size(limit: int) -> int:
    """One page holds the whole listing and the one row that tells whether there is more."""
    return min(limit + 1, 1000)


def done(record: Record, as_json: bool, message: str) -> None:
    """After a change: the changed record as JSON, or a one-line confirmation for people."""
    if as_json:
        print_json(record_json(record))
    else:
        typer.echo(message)


# Names, numbers, stages and dates keep their width (names up to MAX_WIDTH); the SQUEEZE
# columns give up width, each cell cut to one line with an ellipsis, so tables fit 80 columns.
SQUEEZE = frozenset({"ALIASES", "DESCRIPTION"})
MAX_WIDTH = {"DESCRIPTION": 40, "NAMESPACE": 32, "MODEL": 36}


def _table(records: Sequence[Record]) -> Table:
    if isinstance(records[0], Namespace):
        rows = [_namespace_row(r) for r in records if isinstance(r, Namespace)]
        return _rows(["NAMESPACE", "CREATED", "DESCRIPTION"], rows)
    if isinstance(records[0], Model):
        rows = [_model_row(r) for r in records if isinstance(r, Model)]
        return _rows(["MODEL", "LATEST", "RISK", "DESCRIPTION"], rows)
    rows = [_version_row(r) for r in records if isinstance(r, Version)]
    return _rows(["MODEL", "VERSION", "STAGE", "ALIASES", "CREATED", "DESCRIPTION"], rows)


def _rows(headers: list[str], rows: list[list[Text]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in headers:
        squeeze = header in SQUEEZE
        table.add_column(
            header, no_wrap=not squeeze, overflow="ellipsis", max_width=MAX_WIDTH.get(header)
        )
    for row in rows:
        for header, cell in zip(headers, row, strict=True):
            cell.no_wrap = cell.no_wrap or header in SQUEEZE
            cell.overflow = "ellipsis"
        table.add_row(*row)
    return table


def _namespace_row(r: Namespace) -> list[Text]:
    return [_name(r.name, r.archived), Text(_day(r.created_at)), _summary(r.description)]


def _model_row(r: Model) -> list[Text]:
    latest = "" if r.latest_version is None else str(r.latest_version)
    cells = [latest, r.risk_level]
    return [_name(r.full_name, r.archived), *map(Text, cells), _summary(r.description)]


def _version_row(r: Version) -> list[Text]:
    cells = [r.stage, ", ".join(r.aliases), _day(r.created_at)]
    number = _name(str(r.version), r.status == "archived")
    return [Text(f"{r.namespace}/{r.name}"), number, *map(Text, cells), _summary(r.description)]


def _name(name: str, archived: bool) -> Text:
    return Text(name + " (archived)", style="dim") if archived else Text(name)


def _summary(description: str) -> Text:
    """The first line of a (markdown) description; the column truncates it."""
    return Text(description.strip().splitlines()[0] if description.strip() else "")


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip()


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _details(record: Record) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in _fields(record):
        grid.add_row(label, Text(value))
    return grid


def _fields(record: Record) -> list[tuple[str, str]]:
    if isinstance(record, Namespace):
        return _namespace_fields(record)
    if isinstance(record, Model):
        return _model_fields(record)
    return _version_fields(record)


def _namespace_fields(r: Namespace) -> list[tuple[str, str]]:
    return [
        ("namespace", r.name),
        ("description", r.description),
        ("archived", _yes(r.archived)),
        ("created", f"{_when(r.created_at)} by {r.created_by}"),
        ("updated", _when(r.updated_at)),
    ]


def _model_fields(r: Model) -> list[tuple[str, str]]:
    latest = "none" if r.latest_version is None else str(r.latest_version)
    risk = f"{r.risk_level} ({r.risk_reason})" if r.risk_reason else r.risk_level
    return [
        ("model", r.full_name),
        ("description", r.description),
        ("risk", risk),
        ("latest version", latest),
        ("aliases", ", ".join(f"{a} -> {v}" for a, v in sorted(r.aliases.items()))),
        ("tags", _pairs(r.tags)),
        ("archived", _yes(r.archived)),
        ("created", f"{_when(r.created_at)} by {r.created_by}"),
        ("updated", f"{_when(r.updated_at)} by {r.updated_by}"),
    ]


def _version_fields(r: Version) -> list[tuple[str, str]]:
    return [
        ("version", r.reference),
        ("description", r.description),
        ("stage", r.stage),
        ("status", r.status),
        ("aliases", ", ".join(r.aliases)),
        ("risk", r.risk_level),
        ("tags", _pairs(r.tags)),
        ("metrics", _pairs({k: f"{v:g}" for k, v in r.metrics.items()})),
        ("manifest", r.manifest_digest or "none"),
        ("classifications", ", ".join(r.classifications) or "none"),
        *([("revoked data", ", ".join(r.revoked_datasets))] if r.revoked_datasets else []),
        ("created", f"{_when(r.created_at)} by {r.created_by}"),
        ("updated", _when(r.updated_at)),
    ]


def _pairs(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items()))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
