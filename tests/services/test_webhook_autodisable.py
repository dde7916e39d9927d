"""A webhook whose deliveries keep dying is switched off by itself (services/deliveries.py
``_switch_off_if_failing``), through the real worker and a real receiver, on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, WebhookDeliveryRow
from modelyard.domain.webhooks import CreatedWebhook
from modelyard.services import webhooks as svc
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings
from tests import factories
from tests.webhook_support import Receiver, running_worker, settle

ADMIN = "admin"


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.resolved_webhooks_key_file)


def hook(db: Database, box: SecretBox, url: str) -> CreatedWebhook:
    return svc.create_webhook(db, box, ADMIN, svc.WebhookSpec(url=url, events=[], namespaces=[]))


def events(db: Database, *names: str) -> None:
    for name in names:
        factories.namespace(db, name)


def statuses(db: Database) -> list[str]:
    with db.read() as s:
        return sorted(s.scalars(select(WebhookDeliveryRow.status)))


def disabled_events(db: Database) -> list[AuditEventRow]:
    with db.read() as s:
        query = select(AuditEventRow).where(AuditEventRow.action == "webhook.disabled")
        return list(s.scalars(query))


def test_a_webhook_is_switched_off_after_its_limit_of_dead_letters_in_a_row(
    db: Database, box: SecretBox
) -> None:
    with Receiver(answers=[500] * 10) as receiver:
        made = hook(db, box, receiver.url)
        events(db, "a", "b")
        with running_worker(db, box, max_attempts=1, disable_after_dead=3) as worker:
            settle(worker, db)
            assert svc.get_webhook(db, made.webhook.id).active  # two dead letters: still on
            events(db, "c")
            settle(worker, db)
            assert not svc.get_webhook(db, made.webhook.id).active
            events(db, "d")  # made while it is off: no delivery for it
            settle(worker, db)
    assert statuses(db) == ["dead", "dead", "dead"]
    assert len(receiver.requests) == 3
    (event,) = disabled_events(db)
    assert (event.actor, event.target) == ("system", f"webhook:{made.webhook.id}")
    assert event.before == {"active": True}
    assert event.after == {"active": False, "reason": "3 dead letters in a row"}


def test_a_success_in_between_resets_the_count(db: Database, box: SecretBox) -> None:
    with Receiver(answers=[500, 500, 200, 500, 500]) as receiver:
        made = hook(db, box, receiver.url)
        with running_worker(db, box, max_attempts=1, disable_after_dead=3) as worker:
            for name in ("a", "b", "c", "d", "e"):  # dead, dead, delivered, dead, dead
                events(db, name)
                settle(worker, db)
    assert svc.get_webhook(db, made.webhook.id).active
    assert statuses(db) == ["dead", "dead", "dead", "dead", "delivered"]
    assert disabled_events(db) == []


def test_zero_never_switches_a_webhook_off(db: Database, box: SecretBox) -> None:
    with Receiver(answers=[500] * 4) as receiver:
        made = hook(db, box, receiver.url)
        events(db, "a", "b", "c", "d")
        with running_worker(db, box, max_attempts=1, disable_after_dead=0) as worker:
            settle(worker, db)
    assert svc.get_webhook(db, made.webhook.id).active
    assert statuses(db) == ["dead"] * 4


def test_switching_it_back_on_resumes_its_waiting_deliveries(db: Database, box: SecretBox) -> None:
    with Receiver(answers=[500, 500]) as receiver:
        made = hook(db, box, receiver.url)
        events(db, "a", "b", "c")
        config = {"max_attempts": 1, "disable_after_dead": 2, "concurrency": 1}
        with running_worker(db, box, **config) as worker:
            for _ in range(20):  # one delivery at a time, until the webhook is off
                worker.run_once()
                if not svc.get_webhook(db, made.webhook.id).active:
                    break
            worker.run_once()  # the third waits while the webhook is off
            assert statuses(db) == ["dead", "dead", "pending"]
            svc.update_webhook(db, ADMIN, made.webhook.id, svc.WebhookChange(active=True))
            settle(worker, db)
    assert statuses(db) == ["dead", "dead", "delivered"]
    assert [r.status for r in receiver.requests] == [500, 500, 200]
