"""``modelyard webhooks``: create, list, show, update, rm, rotate-secret, test, deliveries,
redeliver, worker."""

from __future__ import annotations

import signal
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from itertools import islice
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console

from modelyard.cli.options import AsJson, Limit
from modelyard.cli.output import field_grid, print_json, print_plain, text_table
from modelyard.cli.remote import fail, remote
from modelyard.cli.server import DatabaseUrl, DataDir
from modelyard.client import Client, CreatedWebhook, Delivery, Webhook

app = typer.Typer(
    help="Webhooks: signed event deliveries to your endpoints, their log, tests, redelivery.",
    no_args_is_help=True,
)

SHORT = 8
WebhookId = Annotated[
    str, typer.Argument(metavar="ID", help="A webhook id, or its first characters.")
]
Events = Annotated[
    list[str] | None,
    typer.Option(
        "--event",
        "-e",
        help="An event type (model.created), a prefix (transition.*) or *; repeat for more."
        " None: every event.",
    ),
]
Namespaces = Annotated[
    list[str] | None,
    typer.Option(
        "--namespace",
        "-n",
        help="Only events of this namespace; repeat for more. None: a global webhook (admins).",
    ),
]


@app.command("create")
def create(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="Where to POST events (http or https).")],
    event: Events = None,
    namespace: Namespaces = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
    inactive: Annotated[bool, typer.Option("--inactive", help="Create it switched off.")] = False,
    as_json: AsJson = False,
) -> None:
    """Create a webhook. Its signing secret is printed this once: store it now."""
    with remote(ctx) as client:
        made = client.create_webhook(url, event, namespace, not inactive, description)
    _show_secret(made, as_json, "created")


@app.command("list")
def list_(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The webhooks you manage."""
    with remote(ctx) as client:
        hooks = client.list_webhooks()
    if as_json:
        print_json([asdict(h) for h in hooks])
    elif not hooks:
        typer.echo("no webhooks")
    else:
        rows = [
            [h.id[:SHORT], "on" if h.active else "off", _cut(_filters(h), 40), h.url] for h in hooks
        ]
        print_plain(text_table(["ID", "ACTIVE", "EVENTS @ NAMESPACES", "URL"], rows))


@app.command("show")
def show(ctx: typer.Context, webhook_id: WebhookId, as_json: AsJson = False) -> None:
    """One webhook (never its secret)."""
    with remote(ctx) as client:
        hook = client.get_webhook(_full_id(client, webhook_id))
    _show_webhook(hook, as_json)


@app.command("update")
def update(
    ctx: typer.Context,
    webhook_id: WebhookId,
    url: Annotated[str | None, typer.Option("--url")] = None,
    event: Events = None,
    all_events: Annotated[
        bool, typer.Option("--all-events", help="Clear the event filter.")
    ] = False,
    namespace: Namespaces = None,
    global_: Annotated[
        bool, typer.Option("--global", help="Clear the namespace filter (global admins).")
    ] = False,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Switch it on or off.")
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    as_json: AsJson = False,
) -> None:
    """Change a webhook: the options given replace what it had."""
    with remote(ctx) as client:
        hook = client.update_webhook(
            _full_id(client, webhook_id),
            url=url,
            events=[] if all_events else event,
            namespaces=[] if global_ else namespace,
            active=active,
            description=description,
        )
    _show_webhook(hook, as_json)


@app.command("rm")
def remove(ctx: typer.Context, webhook_id: WebhookId) -> None:
    """Delete a webhook with its pending deliveries and its delivery log."""
    with remote(ctx) as client:
        full = _full_id(client, webhook_id)
        client.delete_webhook(full)
    typer.echo(f"deleted webhook {full}")


@app.command("rotate-secret")
def rotate_secret(
    ctx: typer.Context,
    webhook_id: WebhookId,
    keep_previous: Annotated[
        int,
        typer.Option(
            "--keep-previous",
            metavar="SECONDS",
            help="Keep signing with the old secret too for this long (at most 604800, 7 days), "
            "so the receiver can switch without refusing events.",
        ),
    ] = 0,
    as_json: AsJson = False,
) -> None:
    """A new signing secret, printed this once; the old one is no longer used (or, with
    --keep-previous, signs next to it until then)."""
    with remote(ctx) as client:
        made = client.rotate_webhook_secret(_full_id(client, webhook_id), keep_previous)
    _show_secret(made, as_json, "rotated the secret of")
    if made.webhook.previous_secret_until is not None and not as_json:
        until = _when(made.webhook.previous_secret_until)
        typer.echo(f"the previous secret also signs until {until}", err=True)


@app.command("test")
def send_test(ctx: typer.Context, webhook_id: WebhookId, as_json: AsJson = False) -> None:
    """Send a webhook.test event; watch it with ``modelyard webhooks deliveries ID``."""
    with remote(ctx) as client:
        found = client.test_webhook(_full_id(client, webhook_id))
    if as_json:
        print_json(asdict(found))
    else:
        typer.echo(f"queued test event {found.event_id} (delivery {found.id})")


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    webhook_id: WebhookId,
    delivery_id: Annotated[
        str | None,
        typer.Argument(metavar="[DELIVERY]", help="Show this delivery's attempts."),
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="pending, delivered or dead.")
    ] = None,
    limit: Limit = 50,
    as_json: AsJson = False,
) -> None:
    """The delivery log, newest first; with a DELIVERY id, its attempts one by one."""
    with remote(ctx) as client:
        full = _full_id(client, webhook_id)
        if delivery_id is not None:
            _show_delivery(
                client.get_delivery(full, _delivery_id(client, full, delivery_id)), as_json
            )
            return
        found = list(islice(client.iter_deliveries(full, status), limit))
    _show_deliveries(found, as_json)


@app.command("redeliver")
def redeliver(
    ctx: typer.Context,
    webhook_id: WebhookId,
    delivery_id: Annotated[str, typer.Argument(metavar="DELIVERY")],
    as_json: AsJson = False,
) -> None:
    """Send a dead-lettered (or delivered) event again, with the same webhook-id."""
    with remote(ctx) as client:
        full = _full_id(client, webhook_id)
        found = client.redeliver(full, _delivery_id(client, full, delivery_id))
    if as_json:
        print_json(asdict(found))
    else:
        typer.echo(f"redelivering {found.event_type} {found.event_id} (delivery {found.id})")


@app.command("worker")
def worker(
    data_dir: DataDir = None,
    database_url: DatabaseUrl = None,
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Run a delivery worker on its own (next to, or instead of, the ones in ``serve``)."""
    from modelyard.db import migrate
    from modelyard.db.engine import Database
    from modelyard.services.worker import DeliveryWorker
    from modelyard.settings import Settings

    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    db = Database.from_url(settings.resolved_database_url, settings.sqlite_busy_timeout_ms)
    try:
        if migrate.current_revision(db.engine) != migrate.head_revision():
            fail("SCHEMA_OUTDATED", "the database schema is not current: run modelyard db upgrade")
        runner = DeliveryWorker.from_settings(db, settings)
        if once:
            runner.run_once()
        else:
            _run_until_signalled(runner)
        runner.stop()
    finally:
        db.dispose()


def _run_until_signalled(runner: Any) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        runner.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    Console(stderr=True).print(f"webhook worker {runner.name} running; Ctrl-C stops it")
    runner.run()


# ------------------------------------------------------------------------------- output


def _full_id(client: Client, given: str) -> str:
    """A unique prefix (4+ characters) of a listed webhook's id stands for it."""
    ids = [h.id for h in client.list_webhooks()] if len(given) >= 4 else []
    matches = [i for i in ids if i.startswith(given)]
    if len(matches) > 1:
        fail("WEBHOOK_AMBIGUOUS", f"{given!r} starts {len(matches)} webhook ids; give more of it")
    return matches[0] if matches else given


def _delivery_id(client: Client, webhook_id: str, given: str) -> str:
    """A unique prefix of one of the newest 1000 deliveries' ids stands for it."""
    if len(given) >= 36 or len(given) < 4:
        return given
    recent = islice(client.iter_deliveries(webhook_id, page_size=200), 1000)
    matches = [d.id for d in recent if d.id.startswith(given)]
    if len(matches) > 1:
        fail("DELIVERY_AMBIGUOUS", f"{given!r} starts {len(matches)} delivery ids; give more")
    return matches[0] if matches else given


def _filters(hook: Webhook) -> str:
    events = ",".join(hook.events) or "*"
    return f"{events} @ {','.join(hook.namespaces) or '(all)'}"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _show_secret(made: CreatedWebhook, as_json: bool, what: str) -> None:
    if as_json:
        print_json({**asdict(made.webhook), "secret": made.secret})
        return
    typer.echo(made.secret)
    typer.echo(
        f"{what} webhook {made.webhook.id} ({_filters(made.webhook)}); the signing secret above"
        " is shown this once",
        err=True,
    )


def _show_webhook(hook: Webhook, as_json: bool) -> None:
    if as_json:
        print_json(asdict(hook))
        return
    fields = [
        ("id", hook.id),
        ("url", hook.url),
        ("active", "yes" if hook.active else "no"),
        ("events", ", ".join(hook.events) or "* (every event)"),
        ("namespaces", ", ".join(hook.namespaces) or "(all: a global webhook)"),
        ("description", hook.description),
        ("created", f"{_when(hook.created_at)} by {hook.created_by}"),
        ("updated", f"{_when(hook.updated_at)} by {hook.updated_by}"),
    ]
    if hook.previous_secret_until is not None:
        fields.append(("previous secret", f"also signs until {_when(hook.previous_secret_until)}"))
    print_plain(field_grid(fields))


def _show_deliveries(found: Sequence[Delivery], as_json: bool) -> None:
    if as_json:
        print_json([asdict(d) for d in found])
        return
    if not found:
        typer.echo("no deliveries")
        return
    rows = [
        [
            d.id[:SHORT],
            d.event_type,
            d.status,
            str(d.attempts),
            str(d.last_status_code or ""),
            _when(d.next_attempt_at or d.delivered_at),
            d.last_error,
        ]
        for d in found
    ]
    headers = ["ID", "EVENT", "STATUS", "TRIES", "CODE", "NEXT/DONE", "LAST ERROR"]
    print_plain(text_table(headers, rows))


def _show_delivery(found: Delivery, as_json: bool) -> None:
    if as_json:
        print_json(asdict(found))
        return
    typer.echo(
        f"delivery {found.id}: {found.event_type} event {found.event_id}, {found.status},"
        f" {found.attempts} attempt(s)"
        + (f", next at {_when(found.next_attempt_at)}" if found.next_attempt_at else "")
    )
    rows = [
        [
            str(a.number),
            _when(a.at),
            str(a.status_code or ""),
            f"{a.duration_ms} ms",
            a.error or "ok",
        ]
        for a in found.attempt_log
    ]
    print_plain(text_table(["#", "AT", "CODE", "TOOK", "RESULT"], rows))
