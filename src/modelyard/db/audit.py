"""Appending queued audit events (and their outbox events) to the chain, inside the transaction.

Services queue events on their write session (``services.audit.record``); ``Database.write()``
calls ``flush`` just before COMMIT. ``flush`` locks the chain head (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the transaction already holds the database's one write lock since
``BEGIN IMMEDIATE``), numbers the events, chains their hashes, inserts them with their outbox
rows and moves the head. The head stays locked until the transaction ends, so events commit in
seq order and a failed transaction leaves neither its change nor its events.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from modelyard.db.prepared import Prepared, Snapshot
from modelyard.db.tables import AuditEventRow, AuditHeadRow, OutboxEventRow
from modelyard.db.types import utcnow, uuid7
from modelyard.domain.audit import GENESIS, canonical_json, jsonable, link, timestamp

PENDING = "modelyard.audit.pending"

# Core statements on the tables, not ORM-enabled ones on the classes (the ORM's bulk paths cost
# two to three times as much CPU), and those of every append ``Prepared`` (db/prepared.py):
# every mutation runs them.
_EVENTS = cast(Table, AuditEventRow.__table__)
_HEADS = cast(Table, AuditHeadRow.__table__)
_OUTBOX = cast(Table, OutboxEventRow.__table__)
_HEAD = select(_HEADS.c.seq, _HEADS.c.hash).where(_HEADS.c.id == 1)
_HEAD_FOR_UPDATE = Prepared(_HEAD.with_for_update())
_INSERT_HEAD = Prepared(insert(_HEADS))
_LAST_EVENT = Prepared(
    select(_EVENTS.c.seq, _EVENTS.c.hash).order_by(_EVENTS.c.seq.desc()).limit(1)
)
_MOVE_HEAD = Prepared(update(_HEADS).where(_HEADS.c.id == 1))
_INSERT_EVENTS = Prepared(insert(_EVENTS))
_INSERT_OUTBOX = Prepared(insert(_OUTBOX))
# Moves the head only from where this process last left it (``Head``).
_MOVE_HEAD_FROM = Prepared(
    update(_HEADS)
    .where(
        _HEADS.c.id == 1,
        _HEADS.c.seq == bindparam("from_seq"),
        _HEADS.c.hash == bindparam("from_hash"),
    )
    .values(seq=bindparam("to_seq"), hash=bindparam("to_hash"))
)
HEAD = "modelyard.audit.head"  # key of a transaction's ``Head`` in its ``info``


@dataclass
class Head:
    """Where the chain's head was after the last flush through this holder (SQLite: one per
    Database, handed to each ``write_prepared`` transaction).

    With it, a flush moves the head with one compare-and-set UPDATE (``seq`` and ``hash`` still
    what this holder last wrote) instead of reading the head first and then moving it. The
    transaction holds SQLite's write lock, so when the UPDATE changes the row nobody else
    appended since; when it changes nothing (another connection or process appended, or the
    transaction that last moved it rolled back), the flush reads the head and moves it as
    without a holder. A holder never makes a wrong link: it only saves a read when it is right.
    """

    seq: int = -1
    hash: str = ""


@dataclass
class Pending:
    actor: str
    action: str
    target: str
    namespace: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    event: bool
    actor_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    request_id: str = ""
    at: datetime = field(default_factory=utcnow)
    event_id: uuid.UUID = field(default_factory=uuid7)  # time-ordered (db/types.py)


def queue(session: Session | Snapshot, pending: Pending) -> None:
    session.info.setdefault(PENDING, []).append(pending)


def flush(session: Session | Snapshot) -> None:
    """Write the events queued on ``session`` (no-op when none are)."""
    queued: list[Pending] = session.info.pop(PENDING, None) or []
    if not queued:
        return
    if isinstance(session, Session):
        session.flush()  # ORM changes first: a constraint failure aborts before the chain moves
    held: Head | None = session.info.get(HEAD)
    if held is not None and held.seq >= 0:
        seq, prev = held.seq, held.hash
        events, outbox, last = _chained(queued, seq, prev)
        moved = {"from_seq": seq, "from_hash": prev, "to_seq": last[0], "to_hash": last[1]}
        if _MOVE_HEAD_FROM.count(session, moved) == 1:
            _append(session, events, outbox, held, last)
            return
    seq, prev = _head(session)
    events, outbox, last = _chained(queued, seq, prev)
    _MOVE_HEAD.run(session, {"seq": last[0], "hash": last[1]})
    _append(session, events, outbox, held, last)


def _head(session: Session | Snapshot) -> tuple[int, str]:
    """The chain's head, locked until the transaction ends (PostgreSQL: ``FOR UPDATE``)."""
    heads = _HEAD_FOR_UPDATE.rows(session, {})
    if heads:
        return int(heads[0][0]), str(heads[0][1])
    # Migration 0005 seeds it; if someone deleted it, continue the chain.
    last = _LAST_EVENT.first(session, {})
    seq, prev = (int(last.seq), str(last.hash)) if last else (0, GENESIS)
    _INSERT_HEAD.run(session, {"id": 1, "seq": seq, "hash": prev})
    return seq, prev


def _append(
    session: Session | Snapshot,
    events: list[dict[str, Any]],
    outbox: list[dict[str, Any]],
    held: Head | None,
    last: tuple[int, str],
) -> None:
    _INSERT_EVENTS.run_many(session, events)
    _INSERT_OUTBOX.run_many(session, outbox)
    if held is not None:  # where this transaction leaves the head, if it commits
        held.seq, held.hash = last


def _chained(
    queued: list[Pending], seq: int, prev: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], tuple[int, str]]:
    """The rows of ``queued`` numbered after ``seq`` and linked after ``prev``: audit events,
    outbox events, and the (seq, hash) of the last."""
    events: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    for p in queued:
        seq += 1
        at = timestamp(p.at)
        # The canonical body, built of JSON types (domain/audit.py hashes what verify reads back).
        body: dict[str, Any] = {
            "seq": seq,
            "event_id": str(p.event_id),
            "at": at,
            "actor": p.actor,
            "actor_id": str(p.actor_id) if p.actor_id is not None else None,
            "token_id": str(p.token_id) if p.token_id is not None else None,
            "action": p.action,
            "target": p.target,
            "namespace": p.namespace,
            "before": jsonable(p.before) if p.before is not None else None,
            "after": jsonable(p.after) if p.after is not None else None,
            "request_id": p.request_id,
        }
        hash_ = link(prev, canonical_json(body))
        row = {
            **body,
            "event_id": p.event_id,
            "at": p.at,
            "actor_id": p.actor_id,
            "token_id": p.token_id,
            "prev_hash": prev,
            "hash": hash_,
        }
        prev = hash_
        events.append(row)
        if p.event:
            outbox.append(
                {
                    "seq": seq,
                    "event_id": p.event_id,
                    "type": p.action,
                    "namespace": p.namespace,
                    "target": p.target,
                    "payload": payload(row, at),
                    "created_at": p.at,
                }
            )
    return events, outbox, (seq, prev)


def payload(row: dict[str, Any], at: str | None = None) -> dict[str, Any]:
    """The body an event is delivered with (webhooks); ``at``: the event time's ``timestamp``
    when the caller has it."""
    return {
        "id": str(row["event_id"]),
        "type": row["action"],
        "timestamp": at if at is not None else timestamp(row["at"]),
        "actor": row["actor"],
        "target": row["target"],
        "namespace": row["namespace"],
        "data": {"before": row["before"], "after": row["after"]},
    }
