"""``modelyard audit list|export|verify|head``: read and check the audit log."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli import output
from modelyard.cli.options import AsJson
from modelyard.cli.remote import fail, remote
from modelyard.domain.audit import Verification
from modelyard.domain.errors import ModelyardError
from modelyard.services.audit import verify_lines

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)

Action = Annotated[
    str | None, typer.Option(help="Action, exact or prefix ending in * (e.g. 'transition.*').")
]
Actor = Annotated[str | None, typer.Option(help="Who acted (user or service account name).")]
Target = Annotated[
    str | None, typer.Option(help="Target, exact or prefix ending in * (e.g. 'risk/churn*').")
]
Namespace = Annotated[str | None, typer.Option(help="Events of this namespace only.")]
Since = Annotated[datetime | None, typer.Option(help="From this time on (ISO 8601).")]
Until = Annotated[datetime | None, typer.Option(help="Before this time (ISO 8601).")]


@app.command("list")
def list_(
    ctx: typer.Context,
    action: Action = None,
    actor: Actor = None,
    target: Target = None,
    namespace: Namespace = None,
    since: Since = None,
    until: Until = None,
    limit: Annotated[int, typer.Option(help="At most this many events (newest first).")] = 50,
    as_json: AsJson = False,
) -> None:
    """The newest matching events."""
    events: list[dict[str, Any]] = []
    with remote(ctx) as client:
        token: str | None = None
        while len(events) < limit:
            page, token = client.audit_events(
                action, actor, target, namespace, since, until,
                page_size=min(limit - len(events), 1000), page_token=token,
            )  # fmt: skip
            events.extend(page)
            if token is None:
                break
    if as_json:
        output.print_json(events)
        return
    rows = [
        [str(e["seq"]), e["at"][5:16].replace("T", " "), _cut(e["actor"], 10),
         _cut(e["action"], 18), _cut(e["target"], 20), _change(e)]
        for e in events
    ]  # fmt: skip
    # text_table: user text is never read as console markup; the change column is cut with …
    output.print_plain(
        output.text_table(["seq", "at", "actor", "action", "target", "change"], rows)
    )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _change(event: dict[str, Any]) -> str:
    before, after = event.get("before"), event.get("after")
    if before and after:
        return ", ".join(f"{k}: {before.get(k)!r} → {after.get(k)!r}" for k in after)[:80]
    shown = after or before
    return json.dumps(shown, ensure_ascii=False)[:80] if shown else ""


@app.command("export")
def export(
    ctx: typer.Context,
    format: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file (default: stdout).")
    ] = None,
    action: Action = None,
    actor: Actor = None,
    target: Target = None,
    namespace: Namespace = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Every matching event, oldest first. A whole JSONL export can be verified offline with
    ``modelyard audit verify --file``."""
    if format not in ("jsonl", "csv"):
        raise typer.BadParameter("jsonl or csv", param_hint="--format")
    with remote(ctx) as client:
        chunks = client.export_audit(format, action, actor, target, namespace, since, until)
        if out is None:
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
            return
        size = 0
        with out.open("wb") as f:
            for chunk in chunks:
                size += f.write(chunk)
    typer.echo(f"wrote {out} ({size} bytes)", err=True)


@app.command("verify")
def verify(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Verify a JSONL export offline instead of asking the server."),
    ] = None,
    head: Annotated[
        str | None,
        typer.Option(help="With --file: the anchored head SEQ:HASH the export must end at."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Recompute the hash chain and name the first broken link or gap. Exit code 1 when the
    chain is broken."""
    if file is None:
        with remote(ctx) as client:
            result = client.verify_audit()
    else:
        anchored = _parse_head(head) if head else None
        try:
            with file.open(encoding="utf-8") as lines:
                result = verify_lines(lines, anchored)
        except ModelyardError as exc:
            fail(exc.code, exc.message)
        except OSError as exc:
            fail("FILE_UNREADABLE", f"{file}: {exc.strerror}")
    _report(result, as_json)


def _parse_head(text: str) -> tuple[int, str]:
    seq, _, hash_ = text.partition(":")
    if not seq.isdigit() or len(hash_) != 64:
        raise typer.BadParameter("SEQ:HASH, e.g. 42:3f1c…(64 hex digits)", param_hint="--head")
    return int(seq), hash_


def _report(result: Verification, as_json: bool) -> None:
    if as_json:
        output.print_json(result.to_dict())
    elif result.ok:
        typer.echo(f"ok: {result.checked} events, head {result.last_seq}:{result.last_hash}")
    else:
        typer.echo(f"BROKEN at event {result.seq} ({result.problem}): {result.message}", err=True)
    if not result.ok:
        raise typer.Exit(1)


@app.command("head")
def head(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The chain head (last seq and hash): store it somewhere else to anchor the log."""
    with remote(ctx) as client:
        got = client.audit_head()
    if as_json:
        output.print_json(got)
    else:
        typer.echo(f"{got['seq']}:{got['hash']}")
