"""Webhook delivery through the real worker to a real HTTP receiver on 127.0.0.1, on SQLite and
PostgreSQL: signatures, filters, retries, dead letters, redelivery, idempotent fan-out, claims
shared by several workers, leases, SSRF at delivery time, sealed secrets."""

from __future__ import annotations

import socket
import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import event, func, select, update

from modelyard.db.engine import Database
from modelyard.db.tables import OutboxEventRow, WebhookCursorRow, WebhookDeliveryRow, WebhookRow
from modelyard.db.types import utcnow
from modelyard.domain.errors import ConflictError, InvalidInputError
from modelyard.domain.webhooks import CreatedWebhook
from modelyard.services import deliveries, models, namespaces
from modelyard.services import webhooks as svc
from modelyard.services.deliveries import Outcome
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings
from tests import factories
from tests.webhook_support import Receiver, running_worker, settle, worker_config

ADMIN = "admin"


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    return SecretBox(settings.resolved_webhooks_key_file)


@pytest.fixture
def receiver() -> Receiver:
    with Receiver() as r:
        yield r


def hook(
    db: Database,
    box: SecretBox,
    url: str,
    events: list[str] | None = None,
    namespaces_: list[str] | None = None,
) -> CreatedWebhook:
    spec = svc.WebhookSpec(url=url, events=events or [], namespaces=namespaces_ or [])
    return svc.create_webhook(db, box, ADMIN, spec)


def outbox_ids(db: Database) -> list[str]:
    with db.read() as s:
        return [
            str(i) for i in s.scalars(select(OutboxEventRow.event_id).order_by(OutboxEventRow.seq))
        ]


def delivery_rows(db: Database) -> list[WebhookDeliveryRow]:
    with db.read() as s:
        return list(s.scalars(select(WebhookDeliveryRow)))


def test_events_reach_the_receiver_signed_per_standard_webhooks(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    made = hook(db, box, receiver.url)
    factories.model(db, "risk-team/fraud")
    models.set_model_tag(db, "ann", "risk-team", "fraud", "team", "payments")
    with running_worker(db, box) as worker:
        settle(worker, db)
    # Attempts run in parallel: events may arrive in any order, each once here.
    by_id = {r.event_id: r for r in receiver.requests}
    assert len(receiver.requests) == len(by_id) == 3
    events = [by_id[event_id].event(made.secret) for event_id in outbox_ids(db)]
    assert [e["type"] for e in events] == ["namespace.created", "model.created", "tag.set"]
    assert [e["id"] for e in events] == outbox_ids(db)
    assert events[2]["actor"] == "ann"
    assert events[2]["target"] == "risk-team/fraud"
    assert events[2]["namespace"] == "risk-team"
    first = by_id[outbox_ids(db)[0]]
    assert first.path == "/hook"
    assert first.headers["content-type"] == "application/json"
    assert first.headers["user-agent"].startswith("Modelyard-Webhooks/")


def test_a_signature_made_with_another_secret_does_not_verify(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    made = hook(db, box, receiver.url)
    factories.namespace(db, "risk-team")
    with running_worker(db, box) as worker:
        settle(worker, db)
    other = svc.rotate_secret(db, box, ADMIN, made.webhook.id).secret
    with pytest.raises(AssertionError):
        receiver.requests[0].event(other)
    assert receiver.requests[0].event(made.secret)["type"] == "namespace.created"


def test_a_receiver_answering_500_twice_gets_the_event_on_the_third_try(
    db: Database, box: SecretBox
) -> None:
    with Receiver(answers=[500, 500]) as receiver:
        made = hook(db, box, receiver.url)
        factories.namespace(db, "risk-team")
        with running_worker(db, box) as worker:
            settle(worker, db)
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert len({r.event_id for r in receiver.requests}) == 1
    assert all(r.event(made.secret)["type"] == "namespace.created" for r in receiver.requests)
    (row,) = delivery_rows(db)
    shown = deliveries.get_delivery(db, row.webhook_id, str(row.id))
    assert (shown.status, shown.attempts, shown.last_status_code) == ("delivered", 3, 200)
    assert [(a.number, a.status_code) for a in shown.attempt_log] == [(1, 500), (2, 500), (3, 200)]
    assert [a.error for a in shown.attempt_log] == ["HTTP 500", "HTTP 500", ""]
    assert shown.delivered_at is not None
    assert shown.next_attempt_at is None


def test_after_max_attempts_a_delivery_is_dead_and_redelivery_sends_it_again(
    db: Database, box: SecretBox
) -> None:
    registry = CollectorRegistry()
    with Receiver(answers=[503, 503, 503]) as receiver:
        made = hook(db, box, receiver.url)
        factories.namespace(db, "risk-team")
        with running_worker(db, box, registry, max_attempts=3) as worker:
            settle(worker, db)
            (row,) = delivery_rows(db)
            dead = deliveries.get_delivery(db, row.webhook_id, str(row.id))
            assert (dead.status, dead.attempts, dead.last_error) == ("dead", 3, "HTTP 503")
            assert len(receiver.requests) == 3
            again = deliveries.redeliver(db, ADMIN, row.webhook_id, str(row.id))
            assert again.status == "pending"
            settle(worker, db)
    final = deliveries.get_delivery(db, row.webhook_id, str(row.id))
    assert (final.status, final.attempts) == ("delivered", 4)
    count = registry.get_sample_value
    assert count("modelyard_webhook_dead_letters_total") == 1
    assert count("modelyard_webhook_attempts_total", {"outcome": "failed"}) == 3
    assert count("modelyard_webhook_attempts_total", {"outcome": "delivered"}) == 1
    assert [r.status for r in receiver.requests] == [503, 503, 503, 200]
    assert len({r.event_id for r in receiver.requests}) == 1
    assert receiver.requests[-1].event(made.secret)["id"] == str(row.event_id)


def test_redelivering_a_pending_delivery_is_refused(db: Database, box: SecretBox) -> None:
    made = hook(db, box, "http://127.0.0.1:9/hook")
    test = svc.send_test_event(db, ADMIN, made.webhook.id)
    with pytest.raises(ConflictError) as info:
        deliveries.redeliver(db, ADMIN, uuid.UUID(made.webhook.id), test.id)
    assert info.value.code == "DELIVERY_PENDING"


def test_filters_choose_which_events_a_webhook_gets(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    only_models = hook(db, box, receiver.url + "/models", events=["model.*"])
    only_beta = hook(db, box, receiver.url + "/beta", namespaces_=["beta"])
    exact = hook(db, box, receiver.url + "/exact", events=["namespace.created", "tag.*"])
    factories.model(db, "alpha/fraud")
    factories.model(db, "beta/churn")
    models.set_model_tag(db, "ann", "beta", "churn", "team", "x")
    models.update_model(db, "ann", "alpha", "fraud", "new text")
    with running_worker(db, box) as worker:
        settle(worker, db)

    def got(path: str, secret: str) -> list[tuple[str, str | None]]:
        events = [r.event(secret) for r in receiver.requests if r.path == path]
        return sorted((e["type"], e["namespace"]) for e in events)

    assert got("/hook/models", only_models.secret) == [
        ("model.created", "alpha"),
        ("model.created", "beta"),
        ("model.updated", "alpha"),
    ]
    assert got("/hook/beta", only_beta.secret) == [
        ("model.created", "beta"),
        ("namespace.created", "beta"),
        ("tag.set", "beta"),
    ]
    assert got("/hook/exact", exact.secret) == [
        ("namespace.created", "alpha"),
        ("namespace.created", "beta"),
        ("tag.set", "beta"),
    ]


def test_inactive_webhooks_and_events_before_a_webhook_existed_are_not_delivered(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    factories.namespace(db, "before")
    made = hook(db, box, receiver.url)
    svc.update_webhook(db, ADMIN, made.webhook.id, svc.WebhookChange(active=False))
    factories.namespace(db, "while-off")
    with running_worker(db, box) as worker:
        settle(worker, db)
        assert receiver.requests == []
        svc.update_webhook(db, ADMIN, made.webhook.id, svc.WebhookChange(active=True))
        factories.namespace(db, "after")
        settle(worker, db)
    assert [r.event(made.secret)["target"] for r in receiver.requests] == ["after"]


def test_fan_out_is_idempotent(db: Database, box: SecretBox, receiver: Receiver) -> None:
    hook(db, box, receiver.url)
    hook(db, box, receiver.url + "/2")
    factories.model(db, "risk-team/fraud")
    assert deliveries.fan_out(db) == 2
    first = sorted((str(r.webhook_id), str(r.event_id)) for r in delivery_rows(db))
    with db.write() as s:  # as if the cursor had not moved: the same events again
        s.execute(update(WebhookCursorRow).values(seq=0))
    assert deliveries.fan_out(db) == 2
    assert sorted((str(r.webhook_id), str(r.event_id)) for r in delivery_rows(db)) == first
    assert len(first) == 4
    with running_worker(db, box) as worker:
        settle(worker, db)
    sent = [(r.path, r.event_id) for r in receiver.requests]
    assert len(sent) == len(set(sent)) == 4


def test_without_webhooks_fan_out_moves_the_cursor_without_loading_events(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    """Every mutation writes an outbox event; with no webhook to feed, the worker only moves
    its cursor past them (no event row is loaded), and a webhook made afterwards gets only the
    events after it."""
    factories.model(db, "risk-team/fraud")
    loaded: list[str] = []

    def log(conn: object, cursor: object, sql: str, *args: object) -> None:
        if "outbox_events.payload" in sql:
            loaded.append(sql)

    event.listen(db.engine, "before_cursor_execute", log)
    try:
        assert deliveries.fan_out(db) == 2  # namespace.created, model.created
    finally:
        event.remove(db.engine, "before_cursor_execute", log)
    assert loaded == []
    with db.read() as s:
        head = s.scalar(select(func.max(OutboxEventRow.seq)))
        assert s.scalar(select(WebhookCursorRow.seq)) == head
    made = hook(db, box, receiver.url)
    factories.namespace(db, "after")
    with running_worker(db, box) as worker:
        settle(worker, db)
    assert [r.event(made.secret)["target"] for r in receiver.requests] == ["after"]


def test_several_workers_share_the_work_and_send_each_event_once(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    hook(db, box, receiver.url)
    for n in range(12):
        factories.namespace(db, f"team-{n}")
    with running_worker(db, box) as one, running_worker(db, box) as two:
        threads = [threading.Thread(target=one.run_once), threading.Thread(target=two.run_once)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        settle(one, db)
    assert sorted(r.event_id for r in receiver.requests) == sorted(outbox_ids(db))
    assert {(r.status, r.attempts, r.leased_by) for r in delivery_rows(db)} == {
        ("delivered", 1, None)
    }


def test_a_lapsed_lease_is_claimed_again_and_the_late_worker_only_logs_its_attempt(
    db: Database, box: SecretBox
) -> None:
    hook(db, box, "http://127.0.0.1:9/hook")
    factories.namespace(db, "risk-team")
    deliveries.fan_out(db)
    policy = worker_config().policy
    (late,) = deliveries.claim(db, "late", 5, timedelta(0))  # its lease lapses at once
    (taker,) = deliveries.claim(db, "taker", 5, timedelta(minutes=5))
    assert (taker.id, taker.attempt) == (late.id, 2)
    assert deliveries.claim(db, "third", 5, timedelta(minutes=5)) == []
    deliveries.finish(db, "late", late, Outcome(200, "", 5), policy)
    (row,) = delivery_rows(db)
    assert (row.status, row.leased_by) == ("pending", "taker")
    deliveries.finish(db, "taker", taker, Outcome(None, "timed out: ReadTimeout", 5), policy)
    shown = deliveries.get_delivery(db, row.webhook_id, str(row.id))
    assert shown.status == "pending"
    assert [(a.number, a.status_code, a.error) for a in shown.attempt_log] == [
        (1, 200, ""),
        (2, None, "timed out: ReadTimeout"),
    ]


def test_private_targets_are_refused_after_dns_when_not_allowed(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    host = socket.gethostname()
    if not any(info[4][0].startswith("127.") for info in socket.getaddrinfo(host, 80)):
        pytest.skip(f"{host} does not resolve to a loopback address here")
    by_name = hook(db, box, f"http://{host}:{receiver.port}/by-name")
    by_address = hook(db, box, receiver.url)
    factories.namespace(db, "risk-team")
    with running_worker(db, box, allow_private=False, max_attempts=1) as worker:
        settle(worker, db)
    assert receiver.requests == []
    errors = {str(r.webhook_id): r.last_error for r in delivery_rows(db)}
    assert errors[by_name.webhook.id].startswith(
        f"refused: {host} resolves to 127.0.0.1, a loopback address"
    )
    assert errors[by_address.webhook.id].startswith("refused: 127.0.0.1 is a loopback address")
    assert {r.status for r in delivery_rows(db)} == {"dead"}


def test_test_events_go_even_to_an_inactive_webhook(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    made = hook(db, box, receiver.url)
    svc.update_webhook(db, ADMIN, made.webhook.id, svc.WebhookChange(active=False))
    queued = svc.send_test_event(db, "ann", made.webhook.id)
    with running_worker(db, box) as worker:
        settle(worker, db)
    (request,) = receiver.requests
    event = request.event(made.secret)
    assert event["type"] == "webhook.test"
    assert event["id"] == queued.event_id == request.event_id
    assert event["actor"] == "ann"


def test_the_secret_is_stored_sealed_and_opens_only_with_the_key_file(
    db: Database, box: SecretBox, tmp_path: Path
) -> None:
    made = hook(db, box, "http://127.0.0.1:9/hook")
    with db.read() as s:
        row = s.get_one(WebhookRow, uuid.UUID(made.webhook.id))
        dumped = " ".join(str(v) for v in row.__dict__.values())
    assert made.secret.startswith("whsec_")
    assert made.secret not in dumped
    assert made.secret.removeprefix("whsec_") not in dumped
    assert box.open(row.secret_sealed, made.webhook.id) == made.secret
    assert box.key_file.stat().st_mode & 0o777 == 0o600
    other = SecretBox(tmp_path / "other.key")
    with pytest.raises(Exception, match="every server needs the same"):
        other.open(row.secret_sealed, made.webhook.id)
    with pytest.raises(Exception, match="damaged"):
        box.open(row.secret_sealed, str(uuid.uuid4()))


def test_a_secret_this_server_cannot_open_fails_the_attempt_clearly(
    db: Database, box: SecretBox, tmp_path: Path, receiver: Receiver
) -> None:
    hook(db, box, receiver.url)
    factories.namespace(db, "risk-team")
    with running_worker(db, SecretBox(tmp_path / "another.key"), max_attempts=1) as worker:
        settle(worker, db)
    assert receiver.requests == []
    (row,) = delivery_rows(db)
    assert row.status == "dead"
    assert row.last_error.startswith("cannot sign: the secret was sealed with key")


def test_deleting_a_webhook_deletes_its_deliveries(db: Database, box: SecretBox) -> None:
    made = hook(db, box, "http://127.0.0.1:9/hook")
    factories.namespace(db, "risk-team")
    deliveries.fan_out(db)
    svc.delete_webhook(db, ADMIN, made.webhook.id)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(WebhookDeliveryRow)) == 0
        assert s.scalar(select(func.count()).select_from(WebhookRow)) == 0


def test_managing_webhooks_is_audited_without_the_secret_or_the_url_path(
    db: Database, box: SecretBox
) -> None:
    from modelyard.db.tables import AuditEventRow

    made = hook(
        db, box, "https://hooks.example.com/services/T0/B0/s3cr3t?token=abc", namespaces_=[]
    )
    svc.update_webhook(db, "bob", made.webhook.id, svc.WebhookChange(events=["model.*"]))
    svc.rotate_secret(db, box, "bob", made.webhook.id)
    svc.delete_webhook(db, "bob", made.webhook.id)
    with db.read() as s:
        rows = list(s.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)))
        outbox = s.scalar(select(func.count()).select_from(OutboxEventRow))
    assert [(r.action, r.actor) for r in rows] == [
        ("webhook.created", ADMIN),
        ("webhook.updated", "bob"),
        ("webhook.secret_rotated", "bob"),
        ("webhook.deleted", "bob"),
    ]
    assert rows[0].after is not None
    assert rows[0].after["url"] == "https://hooks.example.com:443"
    assert (rows[1].before, rows[1].after) == ({"events": []}, {"events": ["model.*"]})
    text = " ".join(str((r.before, r.after)) for r in rows)
    for secret in ("s3cr3t", "abc", made.secret):
        assert secret not in text
    assert outbox == 0  # webhook management is not itself sent to webhooks


def test_a_namespace_webhook_made_for_one_namespace_is_audited_there(
    db: Database, box: SecretBox
) -> None:
    from modelyard.db.tables import AuditEventRow

    namespaces.create_namespace(db, ADMIN, "risk-team")
    hook(db, box, "https://example.com/h", namespaces_=["risk-team"])
    with db.read() as s:
        row = s.scalars(
            select(AuditEventRow).where(AuditEventRow.action == "webhook.created")
        ).one()
    assert (row.namespace, row.target.startswith("webhook:")) == ("risk-team", True)


def test_a_rotation_with_an_overlap_signs_with_both_secrets_until_it_ends(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    made = hook(db, box, receiver.url)
    rotated = svc.rotate_secret(db, box, ADMIN, made.webhook.id, keep_previous_seconds=3600)
    assert rotated.webhook.previous_secret_until is not None
    factories.namespace(db, "during-the-overlap")
    with running_worker(db, box) as worker:
        settle(worker, db)
        during = receiver.requests[-1]
        assert len(during.headers["webhook-signature"].split(" ")) == 2
        assert during.event(made.secret)["target"] == "during-the-overlap"  # the old one
        assert during.event(rotated.secret)["target"] == "during-the-overlap"  # the new one
        with db.write() as s:  # the hour is over
            s.execute(update(WebhookRow).values(previous_secret_until=utcnow()))
        assert svc.get_webhook(db, made.webhook.id).previous_secret_until is None
        factories.namespace(db, "after-the-overlap")
        settle(worker, db)
    after = receiver.requests[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert after.event(rotated.secret)["target"] == "after-the-overlap"
    with pytest.raises(AssertionError):
        after.event(made.secret)


def test_a_second_rotation_keeps_at_most_the_secret_it_replaces(
    db: Database, box: SecretBox, receiver: Receiver
) -> None:
    made = hook(db, box, receiver.url)
    second = svc.rotate_secret(db, box, ADMIN, made.webhook.id, keep_previous_seconds=60)
    third = svc.rotate_secret(db, box, ADMIN, made.webhook.id, keep_previous_seconds=60)
    factories.namespace(db, "risk-team")
    with running_worker(db, box) as worker:
        settle(worker, db)
    (got,) = receiver.requests
    assert got.event(second.secret)["type"] == got.event(third.secret)["type"]
    with pytest.raises(AssertionError):
        got.event(made.secret)
    svc.rotate_secret(db, box, ADMIN, made.webhook.id)  # without an overlap: the old one goes
    assert svc.get_webhook(db, made.webhook.id).previous_secret_until is None


@pytest.mark.parametrize("seconds", [-1, 7 * 24 * 3600 + 1])
def test_an_overlap_out_of_bounds_is_refused(db: Database, box: SecretBox, seconds: int) -> None:
    made = hook(db, box, "http://127.0.0.1:9/hook")
    with pytest.raises(InvalidInputError) as info:
        svc.rotate_secret(db, box, ADMIN, made.webhook.id, keep_previous_seconds=seconds)
    assert info.value.code == "VALIDATION_FAILED"
    assert svc.get_webhook(db, made.webhook.id).previous_secret_until is None


class _Waits(threading.Event):
    """A stop event that records the worker's waits and ends its loop at the first."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        self.set()
        return True


def test_a_worker_goes_round_again_only_after_a_whole_batch(
    db: Database, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a steady stream of changes every step finds new events. The worker goes on at
    once after a fan-out that read a whole batch (more are waiting); after one that read less
    it has caught up and waits its poll interval, whatever arrived meanwhile, instead of
    fanning out a few events at a time."""
    for n in range(4):
        factories.namespace(db, f"team-{n}")  # one event each
    fanned: list[int] = []
    fan_out = deliveries.fan_out

    def streaming(db_: Database, batch: int = deliveries.FAN_OUT_BATCH) -> int:
        fanned.append(fan_out(db_, batch))
        if len(fanned) < 5:  # (a bound: a worker that never waits would go round forever)
            factories.namespace(db, f"during-{len(fanned)}")  # a change made meanwhile
        return fanned[-1]

    monkeypatch.setattr(deliveries, "fan_out", streaming)
    with running_worker(db, box, poll_seconds=30.0) as worker:
        worker.batch = 3
        worker._stop = stop = _Waits()
        worker.run()
    assert fanned == [3, 2]  # a whole batch, then the rest and the one made meanwhile
    assert stop.waits == [30.0]
