"""The audit trail: recording events with each change, reading, exporting and verifying them.

Every mutation calls ``record(s, actor, action, target, ...)`` inside its ``db.write()`` block;
the event (and its outbox event, for webhooks) is written with the change, just before the
commit (``db/audit.py``). Who acted through which token, in which request, comes from the
request context the API binds once it knows the caller (``bind_request``), so services only pass
the actor's name. Nothing updates or deletes an audit row.
"""

from __future__ import annotations

import contextvars
import csv
import io
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from modelyard.db import audit as chain
from modelyard.db.engine import Database
from modelyard.db.prepared import Snapshot
from modelyard.db.tables import AuditEventRow, AuditHeadRow
from modelyard.domain import audit as domain
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    fingerprint,
)


@dataclass(frozen=True)
class RequestContext:
    """Who is behind the current request, as far as the audit log cares."""

    request_id: str = ""
    actor: str = ""
    actor_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None


_NOBODY = RequestContext()
_context: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "modelyard_audit_context", default=_NOBODY
)


def bind_request(
    request_id: str | None = None,
    actor: str | None = None,
    actor_id: uuid.UUID | None = None,
    token_id: uuid.UUID | None = None,
) -> contextvars.Token[RequestContext]:
    """Set the current request's context (fields left ``None`` keep their value); returns the
    token to ``reset`` it with."""
    now = _context.get()
    return _context.set(
        RequestContext(  # (not dataclasses.replace: twice per request, it costs 3 times more)
            request_id=now.request_id if request_id is None else request_id[:64],
            actor=now.actor if actor is None else actor,
            actor_id=actor_id if actor_id is not None else now.actor_id,
            token_id=token_id if token_id is not None else now.token_id,
        )
    )


def reset(token: contextvars.Token[RequestContext]) -> None:
    _context.reset(token)


def current() -> RequestContext:
    return _context.get()


SYSTEM = "system"  # the actor of what the server does by itself (no request, no person)


def acting() -> str:
    """The current request's caller, for services whose signature names no actor ("system"
    outside a request: the CLI's administrative commands, start-up)."""
    return _context.get().actor or SYSTEM


def record(
    s: Session | Snapshot,
    actor: str,
    action: str,
    target: str,
    *,
    namespace: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    event: bool = True,
) -> None:
    """Queue an audit event (and unless ``event`` is false, its outbox event) on the write
    session ``s``; both are written in its transaction, just before the commit."""
    ctx = _context.get()
    chain.queue(
        s,
        chain.Pending(
            actor=actor[:128],
            action=action,
            target=target[:300],
            namespace=namespace,
            before=dict(before) if before is not None else None,
            after=dict(after) if after is not None else None,
            event=event,
            actor_id=ctx.actor_id,
            token_id=ctx.token_id,
            request_id=ctx.request_id,
        ),
    )


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, as (before, after) dicts."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None  # exact, or a prefix ending in '*' ("transition.*")
    actor: str | None = None
    target: str | None = None  # exact, or a prefix ending in '*' ("risk-team/churn*")
    namespace: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    after_seq: int | None = None


def _where(stmt: Select[Any], f: AuditFilter) -> Select[Any]:
    for column, value in ((AuditEventRow.action, f.action), (AuditEventRow.target, f.target)):
        if value is None:
            continue
        if value.endswith("*"):
            prefix = value[:-1].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(column.like(prefix + "%", escape="\\"))
        else:
            stmt = stmt.where(column == value)
    if f.actor is not None:
        stmt = stmt.where(AuditEventRow.actor == f.actor)
    if f.namespace is not None:
        stmt = stmt.where(AuditEventRow.namespace == f.namespace)
    if f.since is not None:
        stmt = stmt.where(AuditEventRow.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEventRow.at < f.until)
    if f.after_seq is not None:
        stmt = stmt.where(AuditEventRow.seq > f.after_seq)
    return stmt


def event_dict(row: AuditEventRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "event_id": str(row.event_id),
        "at": domain.timestamp(row.at),
        "actor": row.actor,
        "actor_id": str(row.actor_id) if row.actor_id else None,
        "token_id": str(row.token_id) if row.token_id else None,
        "action": row.action,
        "target": row.target,
        "namespace": row.namespace,
        "before": row.before,
        "after": row.after,
        "request_id": row.request_id,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def list_events(
    db: Database,
    f: AuditFilter,
    page_size: int | None = None,
    page_token: str | None = None,
    descending: bool = True,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of events, newest first by default (keyset on seq)."""
    size = clamp_page_size(page_size)
    query_id = fingerprint("audit", f, descending)
    stmt = _where(select(AuditEventRow), f)
    if page_token:
        (last,) = decode_page_token(page_token, query_id, 1)
        if not isinstance(last, int):
            raise InvalidInputError(
                "PAGE_TOKEN_INVALID", "page_token does not belong to this query"
            )
        stmt = stmt.where(AuditEventRow.seq < last if descending else AuditEventRow.seq > last)
    order = AuditEventRow.seq.desc() if descending else AuditEventRow.seq.asc()
    with db.read() as s:
        rows = list(s.scalars(stmt.order_by(order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    token = encode_page_token((rows[-1].seq,), query_id) if more and rows else None
    return [event_dict(r) for r in rows], token


def iter_events(db: Database, f: AuditFilter, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching event, oldest first, read in batches (for exports and verification)."""
    after = f.after_seq or 0
    while True:
        stmt = _where(select(AuditEventRow), replace(f, after_seq=after))
        with db.read() as s:
            rows = [event_dict(r) for r in s.scalars(stmt.order_by(AuditEventRow.seq).limit(batch))]
        yield from rows
        if len(rows) < batch:
            return
        after = int(rows[-1]["seq"])


def head(db: Database) -> dict[str, Any]:
    """The chain head, for anchoring elsewhere (print it, sign it, store it out of reach)."""
    with db.read() as s:
        row = s.get(AuditHeadRow, 1)
        seq, hash_ = (row.seq, row.hash) if row is not None else (0, domain.GENESIS)
    return {"seq": seq, "hash": hash_, "algorithm": "sha256", "genesis": domain.GENESIS}


def verify(db: Database) -> domain.Verification:
    """Recompute the whole chain from the database and compare its end with the head."""
    with db.read() as s:
        row = s.get(AuditHeadRow, 1)
        head_ = (row.seq, row.hash) if row is not None else (0, domain.GENESIS)
    # Events appended after the head was read would make the chain look longer than the head:
    # check up to the head read above.
    events = (e for e in iter_events(db, AuditFilter()) if int(e["seq"]) <= head_[0])
    return domain.verify(events, head_)


def verify_lines(lines: Iterable[str], head_: tuple[int, str] | None = None) -> domain.Verification:
    """Verify an exported JSONL file (a whole export, from seq 1) offline."""

    def parse() -> Iterator[dict[str, Any]]:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(
                    "VALIDATION_FAILED", f"line {number} is not JSON: {exc.msg}", line=number
                ) from None
            if not isinstance(value, dict) or "seq" not in value:
                raise InvalidInputError(
                    "VALIDATION_FAILED", f"line {number} is not an audit event", line=number
                )
            yield value

    return domain.verify(parse(), head_)


CSV_FIELDS = (*domain.FIELDS, "prev_hash", "hash")


def export_jsonl(events: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    for event in events:
        yield json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_csv(events: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """CSV with one column per field; ``before``/``after`` as JSON text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_FIELDS)
    for event in events:
        writer.writerow(
            [
                json.dumps(event.get(k), sort_keys=True, ensure_ascii=False)
                if k in ("before", "after")
                else ("" if event.get(k) is None else event.get(k))
                for k in CSV_FIELDS
            ]
        )
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
