"""Governance commands: ``promote``, ``approve``, ``reject``, ``rollback``, ``transitions
list|show|cancel|apply``, ``risk set``, ``comment add|list``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from itertools import islice
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from modelyard.cli import output
from modelyard.cli.options import DEFAULT_LIMIT, AsJson, Limit, ModelName, Reference
from modelyard.cli.remote import remote
from modelyard.domain.comments import Comment
from modelyard.domain.transitions import Transition

Why = Annotated[str, typer.Option("--reason", "-r", help="Why (recorded in the audit trail).")]
Message = Annotated[str, typer.Option("--message", "-m", help="Your comment (required).")]
As = Annotated[
    str | None,
    typer.Option("--as", help="The reviewer capacity you vote in, e.g. legal (when not clear)."),
]
Id = Annotated[int, typer.Argument(metavar="ID", help="A transition id.", min=1)]


# ---------------------------------------------------------------------------- output


def transition_json(t: Transition) -> dict[str, Any]:
    data = asdict(t)
    data["reference"], data["waiting_for"] = t.reference, t.waiting_for
    for vote, cast in zip(data["votes"], t.votes, strict=True):
        vote["counts"] = cast.counts
    for need, wanted in zip(data["approvals"], t.approvals, strict=True):
        need["missing"] = wanted.missing
    return data


def _approvals(t: Transition) -> str:
    parts = []
    for a in t.approvals:
        who = f" ({', '.join(a.given)})" if a.given else ""
        parts.append(f"{a.capacity} {len(a.given)}/{a.needed}{who}")
    return "; ".join(parts) or "none needed"


def _summary(t: Transition) -> str:
    line = f"transition #{t.id}: {t.reference} {t.from_stage} -> {t.to_stage}: {t.status}"
    if t.status == "pending" and t.waiting_for:
        line += "; waiting for " + ", ".join(t.waiting_for)
    if t.replaced_version is not None and t.status == "applied":
        line += f" (replaced @{t.replaced_version})"
    return line


def _done(t: Transition, as_json: bool) -> None:
    if as_json:
        output.print_json(transition_json(t))
    else:
        typer.echo(_summary(t))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M %Z").strip() if moment else ""


def _show(t: Transition) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    rows = [
        ("transition", f"#{t.id} ({t.kind})"),
        ("version", t.reference),
        ("stages", f"{t.from_stage} -> {t.to_stage}"),
        ("status", t.status + (f": {t.close_reason}" if t.close_reason else "")),
        ("reason", t.reason),
        ("risk", t.risk_level),
        ("requested", f"{_when(t.created_at)} by {t.requested_by}"),
        ("expires", _when(t.expires_at) if t.status == "pending" else ""),
        ("closed", f"{_when(t.closed_at)} by {t.closed_by or 'the server'}" if t.closed_at else ""),
        ("approvals", _approvals(t)),
        ("checks", "; ".join(f"{c.check}: {c.status}" for c in t.checks) or "none"),
        ("waiting for", ", ".join(t.waiting_for)),
        ("replaced", f"@{t.replaced_version}" if t.replaced_version is not None else ""),
    ]  # fmt: skip
    for label, value in rows:
        if value:
            grid.add_row(label, Text(value))
    console = Console(highlight=False)
    console.print(grid)
    for v in t.votes:
        note = "" if v.counts else " (superseded: the risk level rose)"
        console.print(Text(f"  {v.decision} by {v.voter} as {v.capacity}{note}: {v.comment}"))


def _table(items: list[Transition]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in ("ID", "VERSION", "TO", "STATUS", "BY"):
        table.add_column(header, no_wrap=True, max_width=output.MAX_WIDTH["MODEL"])
    # The one column that gives up width, so that the table fits 80 columns.
    table.add_column("WAITING FOR", no_wrap=True, overflow="ellipsis", max_width=32)
    for t in items:
        table.add_row(
            str(t.id), t.reference, t.to_stage, t.status, t.requested_by, ", ".join(t.waiting_for)
        )
    return table


# ---------------------------------------------------------------------------- commands


def promote(
    ctx: typer.Context,
    reference: Reference,
    to: Annotated[str, typer.Option("--to", help="The target stage, e.g. production.")],
    reason: Why,
    as_json: AsJson = False,
) -> None:
    """Ask to move a version to a stage: applied at once if the policy needs no approval."""
    with remote(ctx) as client:
        t = client.request_transition(reference, to, reason)
    _done(t, as_json)


def approve(
    ctx: typer.Context,
    transition_id: Id,
    message: Message,
    capacity: As = None,
    as_json: AsJson = False,
) -> None:
    """Approve a transition in one of your reviewer capacities."""
    with remote(ctx) as client:
        t = client.approve(transition_id, message, capacity)
    _done(t, as_json)


def reject(
    ctx: typer.Context,
    transition_id: Id,
    message: Message,
    capacity: As = None,
    as_json: AsJson = False,
) -> None:
    """Reject a transition: the request is closed."""
    with remote(ctx) as client:
        t = client.reject(transition_id, message, capacity)
    _done(t, as_json)


def rollback(
    ctx: typer.Context,
    name: ModelName,
    reason: Why,
    stage: Annotated[
        str | None, typer.Option(help="The exclusive stage (default: the only one).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Return production to the version that held it before the current one."""
    with remote(ctx) as client:
        t = client.rollback(name, reason, stage)
    if as_json:
        output.print_json(transition_json(t))
    else:
        typer.echo(f"rolled back {t.model} {t.to_stage} to @{t.version}"
                   f" (@{t.replaced_version} moved out)")  # fmt: skip


transitions_app = typer.Typer(help="Transition requests and their approvals.", no_args_is_help=True)


@transitions_app.command("list")
def list_(
    ctx: typer.Context,
    pending: Annotated[bool, typer.Option("--pending", help="Only pending requests.")] = False,
    status: Annotated[
        str | None, typer.Option(help="pending, applied, rejected, cancelled or expired.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Only this model (namespace/name).")] = None,
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    as_json: AsJson = False,
) -> None:
    """List transition requests you may see, newest first."""
    if pending and status not in (None, "pending"):
        raise typer.BadParameter("--pending and --status disagree", param_hint="--status")
    wanted = "pending" if pending else status
    with remote(ctx) as client:
        found = client.iter_transitions(wanted, namespace, model, output.page_size(limit))
        shown = list(islice(found, limit + 1))
    items = shown[:limit]
    if as_json:
        output.print_json([transition_json(t) for t in items])
    elif not items:
        typer.echo("no transitions")
    else:
        Console(highlight=False).print(_table(items))
    if len(shown) > limit and not as_json:
        typer.echo("(more transitions match; raise --limit to see them)", err=True)


@transitions_app.command("show")
def show(ctx: typer.Context, transition_id: Id, as_json: AsJson = False) -> None:
    """One request: stages, approvals given and missing, checks, votes."""
    with remote(ctx) as client:
        t = client.get_transition(transition_id)
    if as_json:
        output.print_json(transition_json(t))
    else:
        _show(t)


@transitions_app.command("cancel")
def cancel(ctx: typer.Context, transition_id: Id, reason: Why, as_json: AsJson = False) -> None:
    """Withdraw a pending request (its requester, or a maintainer)."""
    with remote(ctx) as client:
        t = client.cancel_transition(transition_id, reason)
    _done(t, as_json)


@transitions_app.command("apply")
def apply(ctx: typer.Context, transition_id: Id, as_json: AsJson = False) -> None:
    """Apply an approved request a check held back, once the check passes."""
    with remote(ctx) as client:
        t = client.apply_transition(transition_id)
    _done(t, as_json)


risk_app = typer.Typer(help="Risk levels of models.", no_args_is_help=True)


@risk_app.command("set")
def risk_set(
    ctx: typer.Context,
    name: ModelName,
    level: Annotated[str, typer.Argument(help="unassessed, low, medium or high.")],
    reason: Why,
    as_json: AsJson = False,
) -> None:
    """Set a model's risk level (maintainers); pending requests are worked out again."""
    with remote(ctx) as client:
        model = client.set_model_risk(name, level, reason)
    output.done(model, as_json, f"{model.full_name} is now {model.risk_level} risk")


comment_app = typer.Typer(help="Comments on models and versions.", no_args_is_help=True)
Target = Annotated[
    str, typer.Argument(metavar="REF", help="ns/name (the model) or ns/name@REF (a version).")
]


@comment_app.command("add")
def comment_add(
    ctx: typer.Context, target: Target, message: Message, as_json: AsJson = False
) -> None:
    """Comment on a model or a version."""
    with remote(ctx) as client:
        c = client.add_comment(target, message)
    if as_json:
        output.print_json(_comment_json(c))
    else:
        typer.echo(f"commented on {c.target}")


@comment_app.command("list")
def comment_list(
    ctx: typer.Context, target: Target, limit: Limit = DEFAULT_LIMIT, as_json: AsJson = False
) -> None:
    """A model's comments (its versions' too), or one version's; oldest first."""
    with remote(ctx) as client:
        items = list(islice(client.iter_comments(target, output.page_size(limit)), limit))
    if as_json:
        output.print_json([_comment_json(c) for c in items])
        return
    if not items:
        typer.echo("no comments")
    console = Console(highlight=False)
    for c in items:
        console.print(Text(f"{_when(c.created_at)}  {c.author} on {c.target}:", style="bold"))
        console.print(Text(c.body))


def _comment_json(c: Comment) -> dict[str, Any]:
    return {**asdict(c), "target": c.target}
