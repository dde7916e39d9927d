"""Transition requests: ask to move ``ns/name@REF`` to a stage, wait for what the policy needs,
apply. (Votes are in ``services/approvals.py``, the stage move itself in ``services/stages.py``.)

    request ──> requirements = the namespace's policy for (target stage, the model's risk level)
                refused                       ──> 409 TRANSITION_REFUSED, nothing written
                a blocking check fails        ──> 409 CHECKS_FAILED, nothing written
                no approvals needed           ──> applied in the same transaction
                else                          ──> pending until approvals and checks hold,
                                                  a rejection, a cancel, or expiry

Each change reads what it needs (checks, the stage's holders) first, then writes in one
transaction that locks the model row and verifies that nothing it read has moved; whatever has
is 409 TRANSITION_CONFLICT. Requirements are those of the policy and risk level in force when
the request is decided: they are worked out again at each vote, at apply, and when the model's
risk level changes (``reevaluate``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import ModelRow, TransitionRow, VersionRow, VoteRow
from modelyard.db.types import utcnow
from modelyard.domain.errors import ConflictError, InvalidInputError
from modelyard.domain.policy import Policy, Requirement
from modelyard.domain.references import parse_reference
from modelyard.domain.transitions import (
    MAX_REASON,
    CheckOutcome,
    Transition,
    risk_rank,
    tally,
)
from modelyard.services import audit, checks, policies, references, stages
from modelyard.services.lookup import writable_model, writable_version
from modelyard.services.transition_records import (
    record,
    ref_of,
    refuse_closed,
    row_of,
    votes_of,
)


@dataclass(frozen=True)
class Plan:
    """What a change read before its write transaction, to be verified inside it."""

    number: int
    from_stage: str
    risk_level: str
    requirement: Requirement
    checks: list[CheckOutcome]
    seen: stages.Seen | None  # of an exclusive target; None otherwise
    policy: Policy


def check_reason(reason: str, what: str = "a transition") -> str:
    text = reason.strip()
    if not text or len(text) > MAX_REASON or "\x00" in text:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"{what} needs a reason (at most {MAX_REASON} characters)"
        )
    return text


def plan(
    s: Session, policy: Policy, v: Any, risk_level: str, stage: str, asked_at: datetime
) -> Plan:
    """``v``: the version (row or ORM object); its move to ``stage`` under the namespace's
    policy at ``risk_level``; ``asked_at``: when the caller was asked, before any I/O."""
    rules = policies.effective(s, policy, v.namespace)
    check_stage(rules, stage)
    if not rules.allows(v.stage, stage):
        raise not_allowed(rules, f"{v.namespace}/{v.model_name}@{v.number}", v.stage, stage)
    need = rules.requirement(stage, risk_level)
    outcomes = checks.run(s, v.id, v.metrics or {}, need.checks)
    seen = None
    if rules.is_exclusive(stage):
        seen = stages.seen(s, v.model_id, stage, v.id, asked_at)
    return Plan(v.number, v.stage, risk_level, need, outcomes, seen, rules)


def check_stage(policy: Policy, stage: str) -> None:
    if stage not in policy.stages:
        raise InvalidInputError(
            "STAGE_INVALID",
            f"unknown stage {stage!r}; the policy's stages are {', '.join(policy.stages)}",
            stage=stage,
            stages=list(policy.stages),
        )


def not_allowed(policy: Policy, ref: str, source: str, target: str) -> ConflictError:
    allowed = policy.transitions.get(source, ())
    return ConflictError(
        "TRANSITION_NOT_ALLOWED",
        f"{ref} is in {source}; the policy allows {source} -> {', '.join(allowed) or 'nothing'},"
        f" not {target}",
        reference=ref,
        stage=source,
        allowed=list(allowed),
    )


def refuse_blocked(p: Plan, ref: str, stage: str) -> None:
    """Nothing is asked of reviewers that could not ship: refused targets and failing checks
    stop a request (and a rollback) before anything is written."""
    model = ref.partition("@")[0]
    if p.requirement.refused:
        hint = (
            f"; assess its risk first: modelyard risk set {model} LEVEL --reason ..."
            if p.risk_level == "unassessed"
            else ""
        )
        raise ConflictError(
            "TRANSITION_REFUSED",
            f"the policy refuses {stage} for {model} at risk level {p.risk_level}{hint}",
            reference=ref,
            stage=stage,
            risk_level=p.risk_level,
        )
    blocking = [c for c in p.checks if c.blocking]
    if blocking:
        raise ConflictError(
            "CHECKS_FAILED",
            f"{ref} cannot move to {stage}: "
            + "; ".join(f"{c.check}: {c.message}" for c in blocking),
            reference=ref,
            checks=[c.to_dict() for c in blocking],
        )


# ---------------------------------------------------------------------------- request


def request_transition(
    db: Database,
    policy: Policy,
    actor: str,
    actor_id: uuid.UUID | None,
    reference: str,
    stage: str,
    reason: str,
    expires_in: timedelta,
) -> Transition:
    """Ask to move the version ``reference`` names to ``stage``; applied at once when the
    policy needs no approval, else pending."""
    asked_at = utcnow()
    reason = check_reason(reason)
    ref = parse_reference(reference)
    with db.read() as s:
        v = references.resolve_row(s, ref)
        refuse_archived(v)
        p = plan(s, policy, v, v.risk_level, stage, asked_at)
    label = f"{ref.namespace}/{ref.name}@{p.number}"
    refuse_blocked(p, label, stage)
    try:
        with db.write() as s:
            model, version = lock(s, ref.namespace, ref.name, p)
            refuse_open(s, version)
            now = utcnow()
            row = TransitionRow(
                model_id=model.id, version_id=version.id, open_version_id=version.id,
                namespace=model.namespace, model_name=model.name, version_number=p.number,
                kind="promotion", from_stage=p.from_stage, to_stage=stage, status="pending",
                reason=reason, risk_level=p.risk_level, manifest_digest=version.manifest_digest,
                requirement=p.requirement.to_document(), checks=[c.to_dict() for c in p.checks],
                requested_by=actor, requested_by_id=actor_id, created_at=now,
                expires_at=now + expires_in, closed_by="", close_reason="",
            )  # fmt: skip
            s.add(row)
            s.flush()
            audit.record(
                s, actor, "transition.requested", label, namespace=model.namespace,
                before={"stage": p.from_stage},
                after={"id": row.id, "to_stage": stage, "reason": reason,
                       "risk_level": p.risk_level, "requirement": row.requirement},
            )  # fmt: skip
            if not p.requirement.needs_approval:
                apply(s, p.policy, actor, model, version, row, p.seen)
            return record(s, row)
    except IntegrityError as exc:
        raise stages.conflict_from(exc, f"{ref.namespace}/{ref.name}", stage) from None


def refuse_archived(v: Any) -> None:
    if v.archived_at is not None:
        ref = f"{v.namespace}/{v.model_name}@{v.number}"
        raise ConflictError("VERSION_ARCHIVED", f"version {ref} is archived", reference=ref)


def lock(s: Session, namespace: str, name: str, p: Plan) -> tuple[ModelRow, VersionRow]:
    """The model and version, locked; 409 TRANSITION_CONFLICT if either moved since ``p``."""
    model = writable_model(s, namespace, name)
    version = writable_version(s, model, p.number)
    if version.stage != p.from_stage or model.risk_level != p.risk_level:
        raise stages.raced(model, p.requirement.stage)
    return model, version


def refuse_open(s: Session, version: VersionRow) -> None:
    stmt = select(TransitionRow).where(TransitionRow.open_version_id == version.id)
    open_ = s.scalars(stmt).first()
    if open_ is not None:
        ref = f"{version.namespace}/{version.model_name}@{version.number}"
        raise ConflictError(
            "TRANSITION_PENDING",
            f"{ref} has a pending request #{open_.id} (to {open_.to_stage}); cancel it or wait"
            " for its decision",
            reference=ref,
            transition=open_.id,
        )


def apply(
    s: Session,
    policy: Policy,
    actor: str,
    model: ModelRow,
    version: VersionRow,
    row: TransitionRow,
    expected: stages.Seen | None,
) -> None:
    """Move the version (``stages.take``) and close ``row`` as applied, with its event."""
    source = version.stage
    taken = stages.take(s, policy, actor, model, version, row.to_stage, expected)
    stages.close(row, "applied", actor)
    replaced = taken.replaced
    row.basis_id = taken.basis_id
    row.replaced_version_id = replaced.id if replaced else None
    row.replaced_number = replaced.number if replaced else None
    after: dict[str, Any] = {"id": row.id, "stage": row.to_stage}
    if replaced is not None:
        after["replaced"] = {"version": replaced.number, "stage": replaced.stage}
    audit.record(
        s, actor, "transition.applied", f"{model.namespace}/{model.name}@{version.number}",
        namespace=model.namespace, before={"stage": source}, after=after,
    )  # fmt: skip


def settle(
    s: Session,
    policy: Policy,
    actor: str,
    model: ModelRow,
    version: VersionRow,
    row: TransitionRow,
    expected: stages.Seen | None,
) -> bool:
    """Work the requirements out again; apply when every one holds. Whether it applied."""
    rules = policies.effective(s, policy, model.namespace)
    need = rules.requirement(row.to_stage, model.risk_level)
    row.requirement, row.risk_level = need.to_document(), model.risk_level
    if need.refused:
        return False
    gaps = tally(need.approvals, votes_of(s, row.id), version.manifest_digest)
    if any(a.missing for a in gaps):
        return False
    outcomes = checks.run(s, version.id, version.metrics or {}, need.checks)
    row.checks = [c.to_dict() for c in outcomes]
    if any(c.blocking for c in outcomes):
        return False
    apply(s, rules, actor, model, version, row, expected)
    return True


# ---------------------------------------------------------------------------- decisions


def cancel_transition(db: Database, actor: str, transition_id: int, reason: str) -> Transition:
    """Withdraw a pending request (its requester, or a maintainer of the namespace)."""
    reason = check_reason(reason, "a cancellation")
    with db.write() as s:
        row = row_of(s, transition_id, for_update=True)
        refuse_closed(row)
        stages.close(row, "cancelled", actor, reason)
        audit.record(
            s, actor, "transition.cancelled", ref_of(row), namespace=row.namespace,
            before={"id": row.id, "status": "pending"},
            after={"id": row.id, "status": "cancelled", "reason": reason},
        )  # fmt: skip
        return record(s, row)


def apply_transition(db: Database, policy: Policy, actor: str, transition_id: int) -> Transition:
    """Apply a pending request whose approvals are all in but which a check held back (fixed
    since: a model card written, a metric corrected). 409 APPROVALS_MISSING or CHECKS_FAILED
    when something still stands in the way."""
    asked_at = utcnow()
    with db.read() as s:
        row = row_of(s, transition_id)
        refuse_closed(row)
        v = s.get_one(VersionRow, row.version_id)
        risk = s.get_one(ModelRow, row.model_id).risk_level
        p = plan(s, policy, v, risk, row.to_stage, asked_at)
        gaps = tally(p.requirement.approvals, votes_of(s, row.id), v.manifest_digest)
    refuse_blocked(p, ref_of(row), row.to_stage)
    missing = [f"{a.missing} {a.capacity}" for a in gaps if a.missing]
    if missing:
        raise ConflictError(
            "APPROVALS_MISSING",
            f"transition #{transition_id} still needs approvals: {', '.join(missing)}",
            transition=transition_id,
            missing={a.capacity: a.missing for a in gaps if a.missing},
        )
    try:
        with db.write() as s:
            model, version = lock(s, row.namespace, row.model_name, p)
            row = row_of(s, transition_id, for_update=True)
            refuse_closed(row)
            if not settle(s, policy, actor, model, version, row, p.seen):
                raise stages.raced(model, row.to_stage)
            return record(s, row)
    except IntegrityError as exc:
        raise stages.conflict_from(exc, f"{row.namespace}/{row.model_name}", row.to_stage) from None


def expire_due(db: Database, now: datetime | None = None) -> int:
    """Close every pending request past its time as expired; how many there were."""
    now = now or utcnow()
    due = select(TransitionRow).where(
        TransitionRow.status == "pending", TransitionRow.expires_at <= now
    )
    with db.read() as s:
        if s.scalars(due.limit(1)).first() is None:
            return 0
    with db.write() as s:
        rows = list(s.scalars(due.with_for_update(skip_locked=True)))
        for row in rows:
            stages.close(row, "expired", "", "no decision before it expired")
            audit.record(
                s, "", "transition.expired", ref_of(row), namespace=row.namespace,
                before={"id": row.id, "status": "pending"},
                after={"id": row.id, "status": "expired", "expires_at": row.expires_at},
            )  # fmt: skip
    return len(rows)


def pending_of(s: Session, model_id: uuid.UUID) -> list[int]:
    stmt = select(TransitionRow.id).where(
        TransitionRow.model_id == model_id, TransitionRow.status == "pending"
    )
    return sorted(s.scalars(stmt))


def open_versions(s: Session, model_id: uuid.UUID) -> list[uuid.UUID]:
    """The versions of the model with a pending request."""
    stmt = select(TransitionRow.version_id).where(
        TransitionRow.model_id == model_id, TransitionRow.status == "pending"
    )
    return list(s.scalars(stmt))


def reevaluate(s: Session, policy: Policy, model: ModelRow, old: str, actor: str) -> None:
    """After the model's risk level changed from ``old`` (in the caller's transaction): a
    raised level supersedes every vote cast before it (reviewers judged a less risky model),
    requirements are worked out again, a target the new level refuses cancels the request,
    and one that now holds is applied."""
    rows = list(
        s.scalars(
            select(TransitionRow)
            .where(TransitionRow.model_id == model.id, TransitionRow.status == "pending")
            .order_by(TransitionRow.id)
            .with_for_update()
        )
    )
    raised = risk_rank(model.risk_level) > risk_rank(old)
    for row in rows:
        if raised:
            _supersede_votes(s, row.id)
        version = s.get_one(VersionRow, row.version_id)
        rules = policies.effective(s, policy, model.namespace)
        if rules.requirement(row.to_stage, model.risk_level).refused:
            _cancel_refused(s, actor, model, row)
        else:
            settle(s, policy, actor, model, version, row, None)


def _supersede_votes(s: Session, transition_id: int) -> None:
    s.execute(
        update(VoteRow)
        .where(VoteRow.transition_id == transition_id, VoteRow.active_voter_id.is_not(None))
        .values(active_voter_id=None, superseded_at=utcnow())
    )


def _cancel_refused(s: Session, actor: str, model: ModelRow, row: TransitionRow) -> None:
    why = f"the policy refuses {row.to_stage} at risk level {model.risk_level}"
    stages.close(row, "cancelled", actor, why)
    audit.record(
        s, actor, "transition.cancelled", ref_of(row), namespace=row.namespace,
        before={"id": row.id, "status": "pending"},
        after={"id": row.id, "status": "cancelled", "reason": why},
    )  # fmt: skip
