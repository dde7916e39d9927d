"""Moving versions between stages: the one place a version's ``stage`` changes.

    take(version, stage)
      every other version in an exclusive target ──> the stage's previous_holder_to
                                                     (exclusive_stage := NULL; its own pending
                                                      request is withdrawn)
      -- flush: the slot is free before it is taken --
      the version ──> stage                          (exclusive_stage := stage if exclusive)

Invariant 6: an exclusive stage holds at most one version per model. The database holds it:
``uq_versions_model_id_exclusive_stage`` (NULLs never collide, on SQLite and PostgreSQL alike)
and ``ck_versions_exclusive_is_stage`` (the column is the stage or NULL). Two transitions racing
for one exclusive stage cannot both win; the loser gets 409 TRANSITION_CONFLICT:

- the caller notes when it was asked (before any I/O) and reads the stage's holders before its
  write transaction (``Seen``); inside the transaction, another set of holders, or any
  transition into or out of the stage applied since it was asked, means another transition
  committed in between: the caller decided on a state that is gone. SQLite serialises writers,
  so this is how the later ones learn of the race there; the time makes "asked at the same
  moment" mean the same on both databases, whatever the thread scheduling;
- on PostgreSQL the model row lock queues writers the same way, and should two ever both see an
  empty stage, the unique constraint refuses the second (``conflict_from``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.tables import ModelRow, TransitionRow, VersionRow
from modelyard.db.types import utcnow
from modelyard.domain.errors import ConflictError
from modelyard.domain.policy import Policy
from modelyard.services import audit


@dataclass(frozen=True)
class Seen:
    """What a change saw of an exclusive stage before its write transaction: the holders, and
    when it was asked."""

    holders: frozenset[uuid.UUID]
    asked_at: datetime


@dataclass(frozen=True)
class Taken:
    """What taking a stage did: the holder it moved out (the rollback target) and the applied
    transition that had brought that holder in."""

    replaced: VersionRow | None
    basis_id: int | None


def seen(s: Session, model_id: uuid.UUID, stage: str, but: uuid.UUID, asked_at: datetime) -> Seen:
    """The versions of the model in ``stage`` other than ``but``, as of now."""
    stmt = select(VersionRow.id).where(
        VersionRow.model_id == model_id, VersionRow.stage == stage, VersionRow.id != but
    )
    return Seen(frozenset(s.scalars(stmt)), asked_at)


def _moved_since(s: Session, model_id: uuid.UUID, stage: str, since: datetime) -> bool:
    stmt = (
        select(TransitionRow.id)
        .where(TransitionRow.model_id == model_id, TransitionRow.status == "applied")
        .where(TransitionRow.closed_at > since)
        .where(or_(TransitionRow.to_stage == stage, TransitionRow.from_stage == stage))
        .limit(1)
    )
    return s.scalar(stmt) is not None


def take(
    s: Session,
    policy: Policy,
    actor: str,
    model: ModelRow,
    version: VersionRow,
    stage: str,
    expected: Seen | None,
) -> Taken:
    """Move ``version`` into ``stage`` (the caller holds the model row lock). ``expected``: what
    the caller saw before its transaction (``None``: take it from whoever holds it now)."""
    now = utcnow()
    replaced: VersionRow | None = None
    if policy.is_exclusive(stage):
        stmt = (
            select(VersionRow)
            .where(VersionRow.model_id == model.id, VersionRow.stage == stage)
            .where(VersionRow.id != version.id)
            .order_by(VersionRow.number)
            .with_for_update()
        )
        others = list(s.scalars(stmt))
        if expected is not None and (
            frozenset(o.id for o in others) != expected.holders
            or _moved_since(s, model.id, stage, expected.asked_at)
        ):
            raise raced(model, stage)
        for other in others:
            _leave(s, actor, other, policy.exclusive[stage], now, f"{_ref(version)} took {stage}")
        s.flush()  # free the exclusive slot before taking it
        replaced = others[-1] if others else None
    version.stage = stage
    version.exclusive_stage = stage if policy.is_exclusive(stage) else None
    version.updated_at = now
    s.flush()
    return Taken(replaced, _entered_by(s, replaced.id, stage) if replaced else None)


def _leave(s: Session, actor: str, v: VersionRow, to: str, now: datetime, why: str) -> None:
    v.stage, v.exclusive_stage, v.updated_at = to, None, now
    withdraw(s, actor, v.id, f"{_ref(v)} moved to {to}: {why}")


def withdraw(s: Session, actor: str, version_id: uuid.UUID, why: str) -> None:
    """Close the version's pending request (if any): the stage it was asked from is gone."""
    row = s.scalars(
        select(TransitionRow).where(TransitionRow.open_version_id == version_id).with_for_update()
    ).first()
    if row is None:
        return
    close(row, "cancelled", actor, why)
    audit.record(
        s, actor, "transition.cancelled", _row_ref(row), namespace=row.namespace,
        before={"id": row.id, "status": "pending"},
        after={"id": row.id, "status": "cancelled", "reason": why},
    )  # fmt: skip


def close(row: TransitionRow, status: str, actor: str, why: str = "") -> None:
    row.status, row.open_version_id = status, None
    row.closed_at, row.closed_by, row.close_reason = utcnow(), actor, why


def _entered_by(s: Session, version_id: uuid.UUID, stage: str) -> int | None:
    """The applied transition that last brought ``version_id`` into ``stage``."""
    stmt = (
        select(TransitionRow.id)
        .where(TransitionRow.version_id == version_id, TransitionRow.to_stage == stage)
        .where(TransitionRow.status == "applied")
        .order_by(TransitionRow.id.desc())
        .limit(1)
    )
    return s.scalar(stmt)


def entered_by(s: Session, version_id: uuid.UUID, stage: str) -> TransitionRow | None:
    found = _entered_by(s, version_id, stage)
    return s.get(TransitionRow, found) if found is not None else None


def raced(model: ModelRow, stage: str) -> ConflictError:
    return ConflictError(
        "TRANSITION_CONFLICT",
        f"another transition changed {stage} of {model.namespace}/{model.name} at the same time;"
        " look again and retry",
        model=f"{model.namespace}/{model.name}",
        stage=stage,
    )


def conflict_from(exc: IntegrityError, model: str, stage: str) -> ConflictError:
    """The unique constraint a racing writer hit, as the 409 the caller deserves."""
    text = str(exc.orig)
    if "open_version_id" in text:
        return ConflictError(
            "TRANSITION_PENDING",
            f"a request for this version of {model} was made at the same time; look again",
            model=model,
        )
    if "active_voter_id" in text:
        return ConflictError(
            "ALREADY_VOTED", f"a vote of yours on this request of {model} is in", model=model
        )
    if "exclusive_stage" in text:
        return ConflictError(
            "TRANSITION_CONFLICT",
            f"another transition took {stage} of {model} at the same time; look again and retry",
            model=model,
            stage=stage,
        )
    raise exc


def _ref(v: VersionRow) -> str:
    return f"{v.namespace}/{v.model_name}@{v.number}"


def _row_ref(row: TransitionRow) -> str:
    return f"{row.namespace}/{row.model_name}@{row.version_number}"
