"""Webhook deliveries: fan-out from the outbox, claiming due work, recording attempts, the log.

    outbox_events ──fan_out──> webhook_deliveries ──claim──> worker ──HTTP──> finish
     (seq order)   cursor      one row per (webhook, event)   lease        attempt log,
                                                                            next attempt / dead

- ``fan_out`` reads the outbox after the cursor, inserts a delivery row for each matching active
  webhook and moves the cursor, in one transaction: a crash leaves both or neither. The
  (webhook, event) unique key makes a second fan-out of the same event a no-op.
- ``claim`` leases due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never wait
  for each other; SQLite has one writer anyway) and counts the attempt at once: a delivery that
  kills its worker still runs out of attempts.
- ``finish`` records the attempt and decides: delivered, retry later, or dead.
Every state is in the database, so any worker can pick up where another stopped.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import (
    OutboxEventRow,
    WebhookAttemptRow,
    WebhookCursorRow,
    WebhookDeliveryRow,
    WebhookRow,
)
from modelyard.db.types import utcnow
from modelyard.domain import webhooks as rules
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    fingerprint,
)
from modelyard.domain.webhooks import Attempt, Delivery
from modelyard.services import audit

CURSOR_ID = 1
log = logging.getLogger("modelyard.webhooks")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_seconds: float
    cap_seconds: float
    disable_after_dead: int = 0  # dead letters in a row that switch a webhook off; 0: never


@dataclass(frozen=True)
class Claimed:
    """A leased delivery: everything a worker needs to make the attempt."""

    id: uuid.UUID
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    url: str
    secret_sealed: str
    body: str
    attempt: int
    previous_secret_sealed: str | None = None  # also signs: a rotation's overlap is running


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str  # "" for success
    duration_ms: int

    @property
    def ok(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


# ---------------------------------------------------------------------------------- records


def delivery_record(
    row: WebhookDeliveryRow, attempts: list[WebhookAttemptRow] | None = None
) -> Delivery:
    return Delivery(
        id=str(row.id),
        webhook_id=str(row.webhook_id),
        event_id=str(row.event_id),
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == rules.PENDING else None,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        attempt_log=[_attempt(a) for a in attempts or []],
    )


def _attempt(row: WebhookAttemptRow) -> Attempt:
    return Attempt(row.number, row.at, row.status_code, row.error, row.duration_ms)


# ---------------------------------------------------------------------------------- fan-out


def has_new_events(db: Database) -> bool:
    """A cheap read first, so an idle worker never takes SQLite's write lock."""
    with db.read() as s:
        newest = s.scalar(select(func.max(OutboxEventRow.seq))) or 0
        cursor = s.scalar(select(WebhookCursorRow.seq).where(WebhookCursorRow.id == CURSOR_ID))
        return int(newest) > int(cursor or 0)


FAN_OUT_BATCH = 500  # events one fan-out reads at most


def fan_out(db: Database, batch: int = FAN_OUT_BATCH) -> int:
    """Turn the next ``batch`` outbox events into delivery rows; returns how many events were
    read (0: nothing to do, or another worker is fanning out right now)."""
    with db.write() as s:
        _ensure_cursor(s)
        cursor = s.scalars(
            select(WebhookCursorRow)
            .where(WebhookCursorRow.id == CURSOR_ID)
            .with_for_update(skip_locked=True)
        ).first()
        if cursor is None:
            return 0
        # The batch's numbers first, then the webhooks: a webhook made after this read starts
        # after these events (its start_seq is the outbox head then). With no webhook at all,
        # the events themselves need not be loaded: the cursor just moves past them.
        seqs = list(
            s.scalars(
                select(OutboxEventRow.seq)
                .where(OutboxEventRow.seq > cursor.seq)
                .order_by(OutboxEventRow.seq)
                .limit(batch)
            )
        )
        if not seqs:
            return 0
        hooks = list(s.scalars(select(WebhookRow).where(WebhookRow.active.is_(True))))
        if hooks:
            events = s.scalars(
                select(OutboxEventRow)
                .where(OutboxEventRow.seq.between(seqs[0], seqs[-1]))
                .order_by(OutboxEventRow.seq)
            )
            rows = [_delivery_row(h, e) for e in events for h in hooks if _wants(h, e)]
            if rows:
                s.execute(_insert_ignoring_duplicates(s), rows)
        cursor.seq = seqs[-1]
        return len(seqs)


def _ensure_cursor(s: Session) -> None:
    s.execute(_insert_ignoring_duplicates(s, WebhookCursorRow), [{"id": CURSOR_ID, "seq": 0}])


def _insert_ignoring_duplicates(s: Session, table: type[Any] = WebhookDeliveryRow) -> Any:
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing()


def _wants(hook: WebhookRow, event: OutboxEventRow) -> bool:
    return (
        event.seq > hook.start_seq
        and rules.event_matches(hook.events, event.type)
        and rules.namespace_matches(hook.namespaces, event.namespace)
    )


def _delivery_row(hook: WebhookRow, event: OutboxEventRow) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": uuid.uuid4(),
        "webhook_id": hook.id,
        "event_id": event.event_id,
        "event_type": event.type,
        "seq": event.seq,
        "body": json.dumps(event.payload, separators=(",", ":")),
        "status": rules.PENDING,
        "attempts": 0,
        "round_start": 0,
        "next_attempt_at": now,
        "last_error": "",
        "created_at": now,
    }


# ---------------------------------------------------------------------------------- claiming


def _due(now: datetime) -> Any:
    return (
        select(WebhookDeliveryRow, WebhookRow)
        .join(WebhookRow, WebhookRow.id == WebhookDeliveryRow.webhook_id)
        .where(
            WebhookDeliveryRow.status == rules.PENDING,
            WebhookDeliveryRow.next_attempt_at <= now,
            or_(
                WebhookDeliveryRow.lease_expires_at.is_(None),
                WebhookDeliveryRow.lease_expires_at <= now,
            ),
            # Test events go out even to an inactive webhook; the rest wait for it.
            or_(WebhookRow.active.is_(True), WebhookDeliveryRow.event_type == rules.TEST_EVENT),
        )
    )


def has_due(db: Database) -> bool:
    with db.read() as s:
        return s.execute(_due(utcnow()).limit(1)).first() is not None


def claim(db: Database, worker: str, limit: int, lease: timedelta) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries for ``worker`` (oldest due first)."""
    if limit <= 0:
        return []
    now = utcnow()
    stmt = (
        _due(now)
        .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=WebhookDeliveryRow)
    )
    with db.write() as s:
        claimed = []
        for row, hook in s.execute(stmt):
            row.attempts += 1
            row.leased_by, row.lease_expires_at = worker, now + lease
            claimed.append(
                Claimed(
                    row.id,
                    hook.id,
                    row.event_id,
                    hook.url,
                    hook.secret_sealed,
                    row.body,
                    row.attempts,
                    _previous_secret(hook, now),
                )
            )
        return claimed


def _previous_secret(hook: WebhookRow, now: datetime) -> str | None:
    until = hook.previous_secret_until
    return hook.previous_secret_sealed if until is not None and until > now else None


def finish(
    db: Database, worker: str, job: Claimed, outcome: Outcome, policy: RetryPolicy
) -> str | None:
    """Record the attempt; then delivered, retry after the backoff, or dead-lettered. If the
    lease ran out and another worker took the delivery over, only the attempt is recorded.
    Returns the delivery's status after it (None: no longer this worker's to settle)."""
    now = utcnow()
    with db.write() as s:
        row = s.get(WebhookDeliveryRow, job.id, with_for_update=True)
        if row is None:  # the webhook was deleted meanwhile
            return None
        s.add(
            WebhookAttemptRow(
                delivery_id=row.id,
                number=job.attempt,
                at=now,
                status_code=outcome.status_code,
                error=outcome.error[:2000],
                duration_ms=outcome.duration_ms,
                worker=worker[:64],
            )
        )
        if row.leased_by != worker or row.attempts != job.attempt:
            return None
        _settle(row, outcome, policy, now)
        if row.status == rules.DEAD and policy.disable_after_dead > 0:
            _switch_off_if_failing(s, row.webhook_id, policy.disable_after_dead, now)
        return row.status


def _switch_off_if_failing(s: Session, webhook_id: uuid.UUID, limit: int, now: datetime) -> None:
    """Switch a webhook off once ``limit`` of its deliveries made since its last success are
    dead letters: its receiver is gone, and every new event would only add another. Its pending
    deliveries wait (so do new events' deliveries: none are made while it is off); switching it
    back on (``webhooks update --active``) resumes them. Recorded in the audit trail."""
    last_success = s.scalar(
        select(func.max(WebhookDeliveryRow.delivered_at)).where(
            WebhookDeliveryRow.webhook_id == webhook_id
        )
    )
    dead = select(func.count()).where(
        WebhookDeliveryRow.webhook_id == webhook_id, WebhookDeliveryRow.status == rules.DEAD
    )
    if last_success is not None:
        dead = dead.where(WebhookDeliveryRow.created_at > last_success)
    failing = int(s.scalar(dead.select_from(WebhookDeliveryRow)) or 0)
    hook = s.get(WebhookRow, webhook_id, with_for_update=True)
    if failing < limit or hook is None or not hook.active:
        return
    hook.active, hook.updated_by, hook.updated_at = False, audit.SYSTEM, now
    reason = f"{failing} dead letters in a row"
    audit.record(
        s,
        audit.SYSTEM,
        "webhook.disabled",
        f"webhook:{hook.id}",
        namespace=hook.namespaces[0] if len(hook.namespaces) == 1 else None,
        before={"active": True},
        after={"active": False, "reason": reason},
        event=False,
    )
    log.warning("webhook %s switched off: %s", hook.id, reason)


def _settle(row: WebhookDeliveryRow, outcome: Outcome, policy: RetryPolicy, now: datetime) -> None:
    row.leased_by, row.lease_expires_at = None, None
    row.last_status_code, row.last_error = outcome.status_code, outcome.error[:2000]
    if outcome.ok:
        row.status, row.delivered_at = rules.DELIVERED, now
        return
    failures = row.attempts - row.round_start
    if failures >= policy.max_attempts:
        row.status = rules.DEAD
        return
    delay = rules.retry_delay(failures, policy.base_seconds, policy.cap_seconds)
    row.next_attempt_at = now + timedelta(seconds=delay)


# ---------------------------------------------------------------------------------- the log


def list_deliveries(
    db: Database,
    webhook_id: uuid.UUID,
    status: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> tuple[list[Delivery], str | None]:
    """A webhook's deliveries, newest first (keyset on created_at, id)."""
    if status is not None and status not in rules.DELIVERY_STATES:
        raise InvalidInputError(
            "VALIDATION_FAILED",
            f"status is one of {', '.join(rules.DELIVERY_STATES)}",
            status=status,
        )
    size = clamp_page_size(page_size)
    query_id = fingerprint("deliveries", str(webhook_id), status)
    stmt = select(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_id == webhook_id)
    if status is not None:
        stmt = stmt.where(WebhookDeliveryRow.status == status)
    if page_token:
        stmt = stmt.where(_before(page_token, query_id))
    order = (WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id.desc())
    with db.read() as s:
        rows = list(s.scalars(stmt.order_by(*order).limit(size + 1)))
    more, rows = len(rows) > size, rows[:size]
    token = encode_page_token((rows[-1].created_at, str(rows[-1].id)), query_id) if more else None
    return [delivery_record(r) for r in rows], token


def _before(page_token: str, query_id: str) -> Any:
    created_at, last_id = decode_page_token(page_token, query_id, 2)
    try:
        if not isinstance(created_at, datetime):
            raise ValueError("not a time")
        key = uuid.UUID(str(last_id))
    except ValueError:
        raise InvalidInputError(
            "PAGE_TOKEN_INVALID", "page_token does not belong to this query; start from page one"
        ) from None
    return or_(
        WebhookDeliveryRow.created_at < created_at,
        (WebhookDeliveryRow.created_at == created_at) & (WebhookDeliveryRow.id < key),
    )


def get_delivery(db: Database, webhook_id: uuid.UUID, delivery_id: str) -> Delivery:
    """One delivery with its attempt log."""
    with db.read() as s:
        row = _delivery_row_of(s, webhook_id, delivery_id)
        attempts = s.scalars(
            select(WebhookAttemptRow)
            .where(WebhookAttemptRow.delivery_id == row.id)
            .order_by(WebhookAttemptRow.number)
        )
        return delivery_record(row, list(attempts))


def _delivery_row_of(
    s: Session, webhook_id: uuid.UUID, delivery_id: str, for_update: bool = False
) -> WebhookDeliveryRow:
    try:
        key = uuid.UUID(delivery_id)
    except ValueError:
        key = None
    stmt = select(WebhookDeliveryRow).where(
        WebhookDeliveryRow.id == key, WebhookDeliveryRow.webhook_id == webhook_id
    )
    row = s.scalars(stmt.with_for_update() if for_update else stmt).first() if key else None
    if row is None:
        raise NotFoundError(
            "DELIVERY_NOT_FOUND",
            f"webhook {webhook_id} has no delivery {delivery_id!r}",
            delivery_id=delivery_id,
        )
    return row


def redeliver(db: Database, actor: str, webhook_id: uuid.UUID, delivery_id: str) -> Delivery:
    """Send a dead-lettered (or delivered) delivery again, with the same ``webhook-id`` and
    body, and a fresh round of attempts. A pending one is already on its way: 409."""
    with db.write() as s:
        row = _delivery_row_of(s, webhook_id, delivery_id, for_update=True)
        if row.status == rules.PENDING:
            raise ConflictError(
                "DELIVERY_PENDING",
                f"delivery {delivery_id} is still pending (attempt {row.attempts}); it is"
                " retried on its own",
                delivery_id=delivery_id,
            )
        row.status, row.round_start = rules.PENDING, row.attempts
        row.next_attempt_at = utcnow()
        row.leased_by, row.lease_expires_at = None, None
        audit.record(
            s,
            actor,
            "webhook.redelivered",
            f"webhook:{webhook_id}",
            after={"delivery_id": str(row.id), "event_id": str(row.event_id)},
            event=False,
        )
        return delivery_record(row)


# ---------------------------------------------------------------------------------- retention

PRUNE_BATCH = 2000  # rows deleted per transaction: the write lock is never held for long


@dataclass(frozen=True)
class Pruned:
    """Webhook history removed (or, in a dry run, that would be)."""

    deliveries: int = 0  # delivered or dead, with their attempt logs
    outbox_events: int = 0


def prune_history(db: Database, cutoff: datetime, dry_run: bool = False) -> Pruned:
    """Forget webhook history older than ``cutoff``: deliveries in a final state (delivered or
    dead) made before it, with their attempt logs, and outbox events made before it that the
    fan-out has already read. Pending deliveries, events still to fan out and the newest outbox
    event (which new webhooks start after) are never touched. Deleted in batches, each its
    own transaction, so serving goes on meanwhile."""
    final = WebhookDeliveryRow.status.in_((rules.DELIVERED, rules.DEAD)) & (
        WebhookDeliveryRow.created_at < cutoff
    )
    with db.read() as s:
        fanned_out = _fanned_out(s, cutoff)
        if dry_run:
            n_deliveries = (
                s.scalar(select(func.count()).select_from(WebhookDeliveryRow).where(final)) or 0
            )
            n_events = (
                s.scalar(select(func.count()).select_from(OutboxEventRow).where(fanned_out)) or 0
            )
            return Pruned(int(n_deliveries), int(n_events))
    deliveries = events = 0
    while True:
        with db.write() as s:
            ids = list(s.scalars(select(WebhookDeliveryRow.id).where(final).limit(PRUNE_BATCH)))
            if not ids:
                break
            s.execute(delete(WebhookAttemptRow).where(WebhookAttemptRow.delivery_id.in_(ids)))
            s.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.id.in_(ids)))
            deliveries += len(ids)
    while True:
        with db.write() as s:
            seqs = list(
                s.scalars(
                    select(OutboxEventRow.seq).where(_fanned_out(s, cutoff)).limit(PRUNE_BATCH)
                )
            )
            if not seqs:
                break
            s.execute(delete(OutboxEventRow).where(OutboxEventRow.seq.in_(seqs)))
            events += len(seqs)
    return Pruned(deliveries, events)


def _fanned_out(s: Session, cutoff: datetime) -> Any:
    """Outbox events older than ``cutoff`` at or below the fan-out cursor, but the newest."""
    cursor = s.scalar(select(WebhookCursorRow.seq).where(WebhookCursorRow.id == CURSOR_ID)) or 0
    newest = s.scalar(select(func.max(OutboxEventRow.seq))) or 0
    return (
        (OutboxEventRow.seq <= int(cursor))
        & (OutboxEventRow.seq < int(newest))
        & (OutboxEventRow.created_at < cutoff)
    )
