"""Webhook history retention: `gc` forgets finished deliveries and fanned-out outbox events
older than the retention window, and nothing a delivery still needs (services/deliveries.py
``prune_history``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from modelyard.db.engine import Database
from modelyard.db.tables import (
    OutboxEventRow,
    WebhookAttemptRow,
    WebhookCursorRow,
    WebhookDeliveryRow,
)
from modelyard.db.types import utcnow
from modelyard.services import deliveries, gc
from modelyard.services import webhooks as svc
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings
from tests import factories
from tests.transfer_support import make_transfers
from tests.webhook_support import Receiver, running_worker, settle

RETENTION = timedelta(days=30)
LATER = timedelta(days=31)  # past the retention window


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.resolved_webhooks_key_file)


def delivered_history(db: Database, box: SecretBox, answers: list[int], events: int) -> None:
    """A webhook and ``events`` namespaces made, each delivered (or dead) through the worker."""
    with Receiver(answers=answers) as receiver:
        spec = svc.WebhookSpec(url=receiver.url, events=[], namespaces=[])
        svc.create_webhook(db, box, "admin", spec)
        for i in range(events):
            factories.namespace(db, f"team-{i}")
        with running_worker(db, box, max_attempts=1) as worker:
            settle(worker, db)


def count(db: Database, table: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def statuses(db: Database) -> list[str]:
    with db.read() as s:
        return sorted(s.scalars(select(WebhookDeliveryRow.status)))


def test_finished_deliveries_and_read_events_past_retention_are_forgotten(
    db: Database, box: SecretBox
) -> None:
    delivered_history(db, box, answers=[500], events=3)  # the first dies, two are delivered
    assert statuses(db) == ["dead", "delivered", "delivered"]
    assert count(db, WebhookAttemptRow) == 3
    outbox = count(db, OutboxEventRow)

    pruned = deliveries.prune_history(db, utcnow() + LATER - RETENTION)

    assert pruned == deliveries.Pruned(deliveries=3, outbox_events=outbox - 1)
    assert (count(db, WebhookDeliveryRow), count(db, WebhookAttemptRow)) == (0, 0)
    with db.read() as s:  # only the newest event stays: new webhooks start after it
        assert list(s.scalars(select(OutboxEventRow.seq))) == [
            s.scalar(select(WebhookCursorRow.seq))
        ]


def test_history_within_retention_is_kept(db: Database, box: SecretBox) -> None:
    delivered_history(db, box, answers=[], events=2)
    before = (count(db, WebhookDeliveryRow), count(db, OutboxEventRow))
    assert deliveries.prune_history(db, utcnow() - RETENTION) == deliveries.Pruned(0, 0)
    assert (count(db, WebhookDeliveryRow), count(db, OutboxEventRow)) == before


def test_pending_deliveries_and_events_not_yet_fanned_out_are_kept(
    db: Database, box: SecretBox
) -> None:
    spec = svc.WebhookSpec(url="http://127.0.0.1:9/hook", events=[], namespaces=[])
    svc.create_webhook(db, box, "admin", spec)
    factories.namespace(db, "fanned-out")
    deliveries.fan_out(db)  # a pending delivery (nobody sends it)
    factories.namespace(db, "not-yet-read")  # an outbox event past the cursor
    factories.namespace(db, "newest")

    with db.read() as s:
        cursor = s.scalar(select(WebhookCursorRow.seq)) or 0
        unread = list(s.scalars(select(OutboxEventRow.seq).where(OutboxEventRow.seq > cursor)))

    pruned = deliveries.prune_history(db, utcnow() + LATER)

    assert pruned == deliveries.Pruned(deliveries=0, outbox_events=1)  # the one fanned out
    assert statuses(db) == ["pending"]  # its delivery carries the body it is sent with
    with db.read() as s:
        kept = list(s.scalars(select(OutboxEventRow.seq).order_by(OutboxEventRow.seq)))
    assert kept == unread
    assert len(unread) == 2


def test_a_webhook_made_after_pruning_gets_only_later_events(db: Database, box: SecretBox) -> None:
    delivered_history(db, box, answers=[], events=2)
    deliveries.prune_history(db, utcnow() + LATER)
    with Receiver() as receiver:
        spec = svc.WebhookSpec(url=receiver.url, events=[], namespaces=[])
        made = svc.create_webhook(db, box, "admin", spec)
        factories.namespace(db, "after-pruning")
        with running_worker(db, box) as worker:
            settle(worker, db)
    got = [r.event(made.secret)["type"] for r in receiver.requests]
    assert got == ["namespace.created"]
    assert receiver.requests[0].event(made.secret)["target"] == "after-pruning"


def test_dry_run_counts_without_deleting(db: Database, box: SecretBox) -> None:
    delivered_history(db, box, answers=[], events=2)
    before = (count(db, WebhookDeliveryRow), count(db, OutboxEventRow))
    pruned = deliveries.prune_history(db, utcnow() + LATER, dry_run=True)
    assert pruned.deliveries == before[0] == 2
    assert pruned.outbox_events == before[1] - 1
    assert (count(db, WebhookDeliveryRow), count(db, OutboxEventRow)) == before


def test_gc_prunes_webhook_history_only_when_given_a_retention(
    settings: Settings, db: Database, box: SecretBox
) -> None:
    delivered_history(db, box, answers=[], events=2)
    with db.write() as s:  # made 31 days ago
        s.execute(update(WebhookDeliveryRow).values(created_at=utcnow() - LATER))
        s.execute(update(OutboxEventRow).values(created_at=utcnow() - LATER))
    t = make_transfers(settings, db)
    try:
        kept = gc.collect(db, t.store, timedelta(hours=1))
        assert (kept.webhook_deliveries, kept.outbox_events) == (0, 0)
        assert count(db, WebhookDeliveryRow) == 2
        report = gc.collect(db, t.store, timedelta(hours=1), webhook_retention=RETENTION)
    finally:
        t.store.close()
    assert (report.webhook_deliveries, report.outbox_events) == (2, 1)  # the newest event stays
    assert (count(db, WebhookDeliveryRow), count(db, OutboxEventRow)) == (0, 1)
