"""Webhooks: create, list, show, update, delete, rotate the secret, send a test event.

Who may manage which webhook is the API's decision (``api/routes/webhooks.py``); these
functions take the acting user's name for ``created_by``/``updated_by`` and the audit trail.
A signing secret leaves the server only in the answer that makes it (create, rotate); it is
stored sealed (``services/secretbox.py``) and never written to the audit trail or a log. The
audit trail keeps only a URL's origin: a path or query string may hold a credential.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import OutboxEventRow, WebhookDeliveryRow, WebhookRow
from modelyard.db.types import utcnow
from modelyard.domain import webhooks as rules
from modelyard.domain.audit import timestamp
from modelyard.domain.errors import NotFoundError
from modelyard.domain.webhooks import CreatedWebhook, Delivery, Webhook
from modelyard.services import audit
from modelyard.services.deliveries import delivery_record
from modelyard.services.secretbox import SecretBox


@dataclass(frozen=True)
class WebhookSpec:
    """What a caller gives for a new webhook (already validated by ``check_spec``)."""

    url: str
    events: list[str]
    namespaces: list[str]
    active: bool = True
    description: str = ""


@dataclass(frozen=True)
class WebhookChange:
    """A partial update: ``None`` leaves a field as it is."""

    url: str | None = None
    events: list[str] | None = None
    namespaces: list[str] | None = None
    active: bool | None = None
    description: str | None = None


def webhook_record(row: WebhookRow) -> Webhook:
    return Webhook(
        id=str(row.id),
        url=row.url,
        description=row.description,
        events=list(row.events),
        namespaces=list(row.namespaces),
        active=row.active,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        previous_secret_until=_overlap_until(row),
    )


def _overlap_until(row: WebhookRow) -> datetime | None:
    until = row.previous_secret_until
    return until if row.previous_secret_sealed and until and until > utcnow() else None


def _audit_view(row: WebhookRow) -> dict[str, Any]:
    return {
        "url": rules.parse_target(row.url).origin,
        "events": list(row.events),
        "namespaces": list(row.namespaces),
        "active": row.active,
        "description": row.description,
    }


def _audit_namespace(namespaces: Sequence[str]) -> str | None:
    return namespaces[0] if len(namespaces) == 1 else None


def create_webhook(db: Database, box: SecretBox, actor: str, spec: WebhookSpec) -> CreatedWebhook:
    secret = rules.new_secret()
    row_id = uuid.uuid4()
    sealed = box.seal(secret, str(row_id))
    with db.write() as s:
        row = WebhookRow(
            id=row_id,
            url=spec.url,
            description=spec.description,
            events=spec.events,
            namespaces=spec.namespaces,
            active=spec.active,
            secret_sealed=sealed,
            start_seq=_outbox_head(s),
            created_by=actor,
            updated_by=actor,
        )
        s.add(row)
        s.flush()
        _record(s, actor, "webhook.created", row, None, _audit_view(row))
        return CreatedWebhook(webhook_record(row), secret)


def _outbox_head(s: Session) -> int:
    """The newest outbox seq: a new webhook gets the events committed after it was made."""
    return int(s.scalar(select(func.coalesce(func.max(OutboxEventRow.seq), 0))) or 0)


def _record(
    s: Session,
    actor: str,
    action: str,
    row: WebhookRow,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    # Audit only: a webhook's own management is not sent to webhooks (their URLs are private
    # to their managers).
    namespace = _audit_namespace(row.namespaces)
    target = f"webhook:{row.id}"
    audit.record(
        s, actor, action, target, namespace=namespace, before=before, after=after, event=False
    )


def list_webhooks(db: Database) -> list[Webhook]:
    with db.read() as s:
        rows = s.scalars(select(WebhookRow).order_by(WebhookRow.created_at, WebhookRow.id))
        return [webhook_record(r) for r in rows]


def get_webhook(db: Database, webhook_id: str) -> Webhook:
    with db.read() as s:
        return webhook_record(webhook_row(s, webhook_id))


def webhook_row(s: Session, webhook_id: str, for_update: bool = False) -> WebhookRow:
    """The webhook, or WEBHOOK_NOT_FOUND (also for ids that are not UUIDs)."""
    try:
        key = uuid.UUID(webhook_id)
    except ValueError:
        key = None
    stmt = select(WebhookRow).where(WebhookRow.id == key)
    row = s.scalars(stmt.with_for_update() if for_update else stmt).first() if key else None
    if row is None:
        raise NotFoundError(
            "WEBHOOK_NOT_FOUND", f"no webhook {webhook_id!r}", webhook_id=webhook_id
        )
    return row


def update_webhook(db: Database, actor: str, webhook_id: str, change: WebhookChange) -> Webhook:
    with db.write() as s:
        row = webhook_row(s, webhook_id, for_update=True)
        before = _audit_view(row)
        for name in ("url", "events", "namespaces", "active", "description"):
            value = getattr(change, name)
            if value is not None:
                setattr(row, name, value)
        row.updated_by, row.updated_at = actor, utcnow()
        changed_before, changed_after = audit.changes(before, _audit_view(row))
        _record(s, actor, "webhook.updated", row, changed_before, changed_after)
        return webhook_record(row)


def delete_webhook(db: Database, actor: str, webhook_id: str) -> None:
    """Delete the webhook with its deliveries and their log."""
    with db.write() as s:
        row = webhook_row(s, webhook_id, for_update=True)
        _record(s, actor, "webhook.deleted", row, _audit_view(row), None)
        s.delete(row)


def rotate_secret(
    db: Database, box: SecretBox, actor: str, webhook_id: str, keep_previous_seconds: int = 0
) -> CreatedWebhook:
    """A new signing secret, used from the next attempt on (pending deliveries included).
    With ``keep_previous_seconds``, attempts until then also carry a signature made with the
    secret it replaces, so the receiver can switch to the new one without refusing events.
    A second rotation within that time drops the oldest secret: at most two sign at once."""
    keep = timedelta(seconds=rules.check_overlap(keep_previous_seconds))
    secret, now = rules.new_secret(), utcnow()
    with db.write() as s:
        row = webhook_row(s, webhook_id, for_update=True)
        if keep:
            row.previous_secret_sealed, row.previous_secret_until = row.secret_sealed, now + keep
        else:
            row.previous_secret_sealed, row.previous_secret_until = None, None
        row.secret_sealed = box.seal(secret, str(row.id))
        row.updated_by, row.updated_at = actor, now
        after = {"previous_secret_until": timestamp(now + keep) if keep else None}
        _record(s, actor, "webhook.secret_rotated", row, None, after)
        return CreatedWebhook(webhook_record(row), secret)


def send_test_event(db: Database, actor: str, webhook_id: str) -> Delivery:
    """Queue a ``webhook.test`` event for this webhook alone (even an inactive one, so an
    endpoint can be checked before it is switched on); the worker sends it like any other."""
    event_id, now = uuid.uuid4(), utcnow()
    with db.write() as s:
        row = webhook_row(s, webhook_id)
        payload = {
            "id": str(event_id),
            "type": rules.TEST_EVENT,
            "timestamp": timestamp(now),
            "actor": actor,
            "target": f"webhook:{row.id}",
            "namespace": None,
            "data": {"webhook": str(row.id), "message": "a test event from Modelyard"},
        }
        delivery = WebhookDeliveryRow(
            webhook_id=row.id,
            event_id=event_id,
            event_type=rules.TEST_EVENT,
            seq=None,
            body=json.dumps(payload, separators=(",", ":")),
            next_attempt_at=now,
            created_at=now,
        )
        s.add(delivery)
        s.flush()
        _record(s, actor, "webhook.tested", row, None, {"event_id": str(event_id)})
        return delivery_record(delivery)
