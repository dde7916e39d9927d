"""SDK webhook methods against the real app in process."""

from __future__ import annotations

import pytest

from modelyard.client import Client, ConflictError, CreatedWebhook, NotFoundError
from modelyard.db.engine import Database
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings
from tests.webhook_support import Receiver, running_worker, settle

URL = "https://hooks.example.com/modelyard"


def test_webhook_lifecycle(client: Client) -> None:
    made = client.create_webhook(URL, events=["model.*"], description="CI")
    assert isinstance(made, CreatedWebhook)
    assert made.secret.startswith("whsec_")
    hook = made.webhook
    assert (hook.url, hook.events, hook.namespaces, hook.active) == (URL, ["model.*"], [], True)
    assert client.get_webhook(hook.id) == hook
    assert client.list_webhooks() == [hook]
    changed = client.update_webhook(hook.id, active=False, events=[])
    assert (changed.active, changed.events, changed.description) == (False, [], "CI")
    assert client.rotate_webhook_secret(hook.id).secret not in (made.secret, "")
    client.delete_webhook(hook.id)
    with pytest.raises(NotFoundError) as info:
        client.get_webhook(hook.id)
    assert info.value.code == "WEBHOOK_NOT_FOUND"


def test_test_events_and_the_delivery_log(client: Client) -> None:
    hook = client.create_webhook(URL).webhook
    queued = [client.test_webhook(hook.id) for _ in range(3)]
    assert {d.status for d in queued} == {"pending"}
    page = client.list_deliveries(hook.id, page_size=2)
    assert len(page.items) == 2
    assert page.next_page_token
    assert [d.id for d in client.iter_deliveries(hook.id, page_size=2)] == [
        d.id for d in reversed(queued)
    ]
    shown = client.get_delivery(hook.id, queued[0].id)
    assert (shown.event_type, shown.attempts, shown.attempt_log) == ("webhook.test", 0, [])
    with pytest.raises(ConflictError) as info:
        client.redeliver(hook.id, queued[0].id)
    assert info.value.code == "DELIVERY_PENDING"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(webhooks_allow_private=True)


def test_a_delivery_log_shows_every_attempt(
    client: Client, db: Database, settings: Settings
) -> None:
    with Receiver(answers=[500]) as receiver:
        made = client.create_webhook(receiver.url)
        queued = client.test_webhook(made.webhook.id)
        with running_worker(db, SecretBox(settings.resolved_webhooks_key_file)) as worker:
            settle(worker, db)
    shown = client.get_delivery(made.webhook.id, queued.id)
    assert (shown.status, shown.last_status_code, shown.delivered_at is not None) == (
        "delivered",
        200,
        True,
    )
    assert [(a.number, a.status_code, a.error) for a in shown.attempt_log] == [
        (1, 500, "HTTP 500"),
        (2, 200, ""),
    ]
    assert receiver.requests[-1].event(made.secret)["id"] == queued.event_id
