"""The company-wide inventory: one entry per model, and its CSV, JSON and HTML renderings.

An entry answers, for one model: who owns it, how risky it is, which version serves production
and which are in the other stages, what data its live versions were trained and evaluated on
(with the classifications they inherit), what it depends on, who consumes it, whether its
current version's ingredients are complete, and (once governance and scanning record them) its
last approval and scan status. "Current version": the production one, else the newest live one.
Pure: rendering takes entries and returns text.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

FORMATS: tuple[str, ...] = ("json", "csv", "html")
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class DatasetUse:
    reference: str
    role: str  # trained_on | evaluated_on
    status: str
    classifications: tuple[str, ...]


@dataclass(frozen=True)
class Dependency:
    relation: str  # derived_from | depends_on
    reference: str


@dataclass(frozen=True)
class ConsumerUse:
    name: str
    kind: str
    reference: str
    last_seen_at: datetime | None


@dataclass(frozen=True)
class Completeness:
    version: int
    complete: bool
    missing: tuple[str, ...]


@dataclass(frozen=True)
class InventoryEntry:
    namespace: str
    name: str
    description: str
    owners: tuple[str, ...]
    risk_level: str
    risk_reason: str
    production_version: int | None
    stages: dict[str, list[int]]
    latest_version: int | None
    datasets: tuple[DatasetUse, ...]
    classifications: tuple[str, ...]
    revoked_datasets: tuple[str, ...]
    dependencies: tuple[Dependency, ...]
    consumers: tuple[ConsumerUse, ...]
    completeness: Completeness | None
    tags: dict[str, str]
    archived: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_approval: dict[str, Any] | None = None  # governance fills it in
    scan_status: str | None = None  # scanning fills it in

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def to_dict(e: InventoryEntry) -> dict[str, Any]:
    """The JSON shape of one entry. Hand-written (``asdict`` is several times slower), and
    the parts many models share (dataset uses, completeness reports) are converted once:
    an export of ten thousand models goes through here."""
    return {
        "namespace": e.namespace,
        "name": e.name,
        "full_name": e.full_name,
        "description": e.description,
        "owners": list(e.owners),
        "risk_level": e.risk_level,
        "risk_reason": e.risk_reason,
        "production_version": e.production_version,
        "stages": e.stages,
        "latest_version": e.latest_version,
        "datasets": [_use(d) for d in e.datasets],
        "classifications": list(e.classifications),
        "revoked_datasets": list(e.revoked_datasets),
        "dependencies": [_dependency(d) for d in e.dependencies],
        "consumers": [_consumer(c) for c in e.consumers],
        "completeness": None if e.completeness is None else _completeness(e.completeness),
        "last_approval": e.last_approval,
        "scan_status": e.scan_status,
        "tags": e.tags,
        "archived": e.archived,
        "created_by": e.created_by,
        "created_at": _time(e.created_at),
        "updated_at": _time(e.updated_at),
    }


# The cached dicts below are shared by many entries' JSON; json.dumps only reads them.
@lru_cache(maxsize=65536)
def _use(d: DatasetUse) -> dict[str, Any]:
    return {"reference": d.reference, "role": d.role, "status": d.status,
            "classifications": list(d.classifications)}  # fmt: skip


@lru_cache(maxsize=65536)
def _dependency(d: Dependency) -> dict[str, Any]:
    return {"relation": d.relation, "reference": d.reference}


def _consumer(c: ConsumerUse) -> dict[str, Any]:
    return {"name": c.name, "kind": c.kind, "reference": c.reference,
            "last_seen_at": _time(c.last_seen_at)}  # fmt: skip


@lru_cache(maxsize=4096)
def _completeness(c: Completeness) -> dict[str, Any]:
    return {"version": c.version, "complete": c.complete, "missing": list(c.missing)}


COLUMNS: tuple[str, ...] = (
    "model", "namespace", "owners", "risk_level", "production_version", "stages",
    "latest_version", "datasets", "classifications", "revoked_datasets", "dependencies",
    "consumers", "complete", "missing", "last_approval", "scan_status", "archived",
    "updated_at",
)  # fmt: skip


def to_row(e: InventoryEntry) -> dict[str, str]:
    """One flat row (lists joined with "; ") for CSV and HTML."""
    c = e.completeness
    stages = "; ".join(f"{s}: {', '.join(map(str, ns))}" for s, ns in e.stages.items())
    return {
        "model": e.full_name,
        "namespace": e.namespace,
        "owners": "; ".join(e.owners),
        "risk_level": e.risk_level,
        "production_version": _text(e.production_version),
        "stages": stages,
        "latest_version": _text(e.latest_version),
        "datasets": "; ".join(f"{d.reference} ({d.role})" for d in e.datasets),
        "classifications": "; ".join(e.classifications),
        "revoked_datasets": "; ".join(e.revoked_datasets),
        "dependencies": "; ".join(f"{d.relation} {d.reference}" for d in e.dependencies),
        "consumers": "; ".join(f"{x.name} ({x.reference})" for x in e.consumers),
        "complete": "" if c is None else ("yes" if c.complete else "no"),
        "missing": "" if c is None else "; ".join(c.missing),
        "last_approval": _text(e.last_approval and json.dumps(e.last_approval)),
        "scan_status": _text(e.scan_status),
        "archived": "yes" if e.archived else "no",
        "updated_at": e.updated_at.isoformat(),
    }


def _text(value: object) -> str:
    return "" if value is None else str(value)


def render(entries: list[InventoryEntry], fmt: str, generated_at: datetime) -> str:
    if fmt == "csv":
        return render_csv(entries)
    if fmt == "html":
        return render_html(entries, generated_at)
    body = {"generated_at": generated_at.isoformat(), "count": len(entries),
            "models": [to_dict(e) for e in entries]}  # fmt: skip
    # No cycles can occur (the shared parts are leaves): skipping the check saves a tenth.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), check_circular=False)


def render_csv(entries: list[InventoryEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_csv_safe(to_row(e)) for e in entries)
    return out.getvalue()


def _csv_safe(row: dict[str, str]) -> dict[str, str]:
    """A cell starting with = + - @ is a formula to a spreadsheet (CSV injection): quote it
    with a leading apostrophe, as OWASP advises. Names never start so; descriptions might."""
    return {k: ("'" + v if v[:1] in ("=", "+", "-", "@") else v) for k, v in row.items()}


def render_html(entries: list[InventoryEntry], generated_at: datetime) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in to_row(e).values()) + "</tr>"
        for e in entries
    )
    return _PAGE.format(
        generated=html.escape(generated_at.isoformat()), count=len(entries), head=head, rows=rows
    )


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Modelyard inventory</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem}}table{{border-collapse:collapse;
font-size:.85rem}}th,td{{border:1px solid #ccc;padding:.25rem .4rem;vertical-align:top;
text-align:left}}th{{background:#f4f4f4;position:sticky;top:0}}</style></head>
<body><h1>Model inventory</h1><p>{count} models, generated {generated}.</p>
<table><thead><tr>{head}</tr></thead><tbody>
{rows}
</tbody></table></body></html>
"""
