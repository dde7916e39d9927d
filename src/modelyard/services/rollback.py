"""Rollback: return an exclusive stage (production) to the version that held it before.

Every applied transition into an exclusive stage remembers the transition that had brought in
the holder it replaced (``basis_id``); a rollback follows that pointer back one step and keeps
it for the next, so rolling back twice walks two steps back through production's history, not
back and forth between two versions:

    P1: v1 in           P2: v2 in (basis P1)     P3: v3 in (basis P2)
    rollback from P3 -> v2 (basis P1)   rollback again -> v1 (basis none)   again -> 409

The version rolled back to was approved for the stage when it first went there, so approvals
are not asked again; the policy's checks are (facts may have changed since: a revoked
dataset), and a level the policy refuses is refused. The holder moves to the stage's
``previous_holder_to`` like any replaced holder. One audit event: ``version.rolled_back``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import TransitionRow, VersionRow
from modelyard.db.types import utcnow
from modelyard.domain.errors import ConflictError, InvalidInputError
from modelyard.domain.policy import Policy
from modelyard.domain.references import parse_model_name
from modelyard.domain.transitions import Transition
from modelyard.services import audit, policies, stages, transitions
from modelyard.services.lookup import model_row
from modelyard.services.transition_records import record


def rollback(
    db: Database,
    policy: Policy,
    actor: str,
    actor_id: uuid.UUID | None,
    model_name: str,
    reason: str,
    stage: str | None = None,
) -> Transition:
    """Put the previous holder of ``stage`` (the policy's one exclusive stage when ``None``)
    of ``namespace/name`` back in it."""
    asked_at = utcnow()
    reason = transitions.check_reason(reason, "a rollback")
    namespace, name = parse_model_name(model_name)
    with db.read() as s:
        model = model_row(s, namespace, name)
        stage = _stage(policies.effective(s, policy, namespace), stage)
        current, target_id, basis_id = _steps(s, model.id, f"{namespace}/{name}", stage)
        target = s.get_one(VersionRow, target_id)
        transitions.refuse_archived(target)
        p = transitions.plan(s, policy, target, model.risk_level, stage, asked_at)
    label = f"{namespace}/{name}@{target.number}"
    transitions.refuse_blocked(p, label, stage)
    try:
        with db.write() as s:
            model, version = transitions.lock(s, namespace, name, p)
            stages.withdraw(s, actor, version.id, f"{label} was rolled back into {stage}")
            row = _row(model.id, version, actor, actor_id, reason, p)
            s.add(row)
            s.flush()
            taken = stages.take(s, p.policy, actor, model, version, stage, p.seen)
            stages.close(row, "applied", actor)
            replaced = taken.replaced
            row.basis_id = basis_id
            row.replaced_version_id = replaced.id if replaced else None
            row.replaced_number = replaced.number if replaced else None
            audit.record(
                s, actor, "version.rolled_back", label, namespace=namespace,
                before={"stage": stage, "version": current},
                after={"stage": stage, "version": version.number, "transition": row.id,
                       "reason": reason, "replaced_to": replaced.stage if replaced else None},
            )  # fmt: skip
            return record(s, row)
    except IntegrityError as exc:
        raise stages.conflict_from(exc, f"{namespace}/{name}", stage) from None


def _stage(policy: Policy, stage: str | None) -> str:
    if stage is None:
        if len(policy.exclusive) != 1:
            raise InvalidInputError(
                "STAGE_INVALID",
                "say which stage to roll back: "
                + (", ".join(policy.exclusive) or "this policy has no exclusive stage"),
                stages=list(policy.exclusive),
            )
        return next(iter(policy.exclusive))
    transitions.check_stage(policy, stage)
    if not policy.is_exclusive(stage):
        raise InvalidInputError(
            "STAGE_INVALID",
            f"{stage} is not an exclusive stage; only those have a previous holder to return to",
            stage=stage,
        )
    return stage


def _steps(
    s: Session, model_id: uuid.UUID, model: str, stage: str
) -> tuple[int, uuid.UUID, int | None]:
    """(current holder's number, the version to return to, the basis to keep for next time)."""
    current = s.scalars(
        select(VersionRow).where(
            VersionRow.model_id == model_id, VersionRow.exclusive_stage == stage
        )
    ).first()
    if current is None:
        raise _unavailable(model, stage, f"no version of {model} is in {stage}")
    entering = stages.entered_by(s, current.id, stage)
    if entering is not None and entering.basis_id is not None:
        basis = s.get_one(TransitionRow, entering.basis_id)
        return current.number, basis.version_id, basis.basis_id
    if entering is not None and entering.kind == "promotion" and entering.replaced_version_id:
        return current.number, entering.replaced_version_id, None
    raise _unavailable(
        model, stage, f"{model}@{current.number} replaced no earlier version in {stage}"
    )


def _unavailable(model: str, stage: str, why: str) -> ConflictError:
    return ConflictError(
        "ROLLBACK_UNAVAILABLE", f"nothing to roll back to: {why}", model=model, stage=stage
    )


def _row(
    model_id: uuid.UUID,
    version: VersionRow,
    actor: str,
    actor_id: uuid.UUID | None,
    reason: str,
    p: transitions.Plan,
) -> TransitionRow:
    now = utcnow()
    return TransitionRow(
        model_id=model_id, version_id=version.id, open_version_id=None,
        namespace=version.namespace, model_name=version.model_name, version_number=version.number,
        kind="rollback", from_stage=version.stage, to_stage=p.requirement.stage,
        status="pending", reason=reason, risk_level=p.risk_level,
        manifest_digest=version.manifest_digest,
        requirement={**p.requirement.to_document(), "approvals": {}},  # approved when it first went
        checks=[c.to_dict() for c in p.checks], requested_by=actor, requested_by_id=actor_id,
        created_at=now, expires_at=now + timedelta(0), closed_by="", close_reason="",
    )  # fmt: skip
