"""Votes on transition requests: approve or reject, with a comment, in a reviewer capacity.

Separation of duties (invariant 7), checked here and held by the database:

- the requester cannot vote on their own request (403 SELF_APPROVAL);
- service accounts never vote, whatever their token says (409 SERVICE_ACCOUNT_NOT_ALLOWED);
- one vote per person per request: ``uq_transition_votes_transition_id_active_voter_id``. The
  same vote again (same decision, same capacity) is answered as the first was and counts once;
  a different one is 409 ALREADY_VOTED. A raised risk level supersedes the votes cast before
  it, and their voters may vote again.

A vote binds to the version's manifest digest and the model's risk level when it is cast. A
rejection closes the request; the approval that completes the requirements applies it in the
same transaction (``transitions.settle``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import ModelRow, TransitionRow, VersionRow, VoteRow
from modelyard.db.types import utcnow
from modelyard.domain.access import Principal
from modelyard.domain.errors import ConflictError, ForbiddenError, InvalidInputError
from modelyard.domain.policy import Policy
from modelyard.domain.transitions import DECISIONS, MAX_REASON, Transition, tally
from modelyard.services import audit, identity, policies, stages, transitions
from modelyard.services.lookup import writable_model, writable_version
from modelyard.services.transition_records import (
    record,
    ref_of,
    refuse_closed,
    row_of,
    votes_of,
)


def vote(
    db: Database,
    policy: Policy,
    who: Principal,
    transition_id: int,
    decision: str,
    comment: str,
    capacity: str | None = None,
) -> Transition:
    """Cast ``who``'s vote; returns the request as it stands after it."""
    asked_at = utcnow()
    comment = _check(decision, comment)
    if who.is_service:
        raise ConflictError(
            "SERVICE_ACCOUNT_NOT_ALLOWED",
            f"{who.name} is a service account: service accounts never approve or reject",
            user=who.name,
        )
    transitions.expire_due(db)
    with db.read() as s:
        row = row_of(s, transition_id)
        refuse_closed(row)
        _not_own(row, who)
        same = _existing(s, row, who)
        chosen = _capacity(s, policy, who, row, capacity)
        if same is not None:
            return _again(s, row, same, decision, chosen)
        seen = _seen(s, policy, row, asked_at)
    try:
        return _cast(db, policy, who, transition_id, decision, comment, chosen, seen)
    except IntegrityError as exc:  # the same person voted at the same moment, or a race
        with db.read() as s:
            row = row_of(s, transition_id)
            same = _existing(s, row, who)
            if same is None:
                model = f"{row.namespace}/{row.model_name}"
                raise stages.conflict_from(exc, model, row.to_stage) from None
            return _again(s, row, same, decision, chosen)


def _check(decision: str, comment: str) -> str:
    if decision not in DECISIONS:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"decision is one of {', '.join(DECISIONS)}", decision=decision
        )
    text = comment.strip()
    if not text or len(text) > MAX_REASON or "\x00" in text:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"a vote needs a comment (at most {MAX_REASON} characters)"
        )
    return text


def _not_own(row: TransitionRow, who: Principal) -> None:
    if row.requested_by_id == who.user_id or row.requested_by == who.name:
        raise ForbiddenError(
            "SELF_APPROVAL",
            f"{who.name} requested transition #{row.id} and cannot vote on it (separation of"
            " duties): another reviewer must decide",
            transition=row.id,
            target=ref_of(row),
        )


def _existing(s: Session, row: TransitionRow, who: Principal) -> VoteRow | None:
    stmt = select(VoteRow).where(
        VoteRow.transition_id == row.id, VoteRow.active_voter_id == who.user_id
    )
    return s.scalars(stmt).first()


def _again(
    s: Session, row: TransitionRow, same: VoteRow, decision: str, capacity: str
) -> Transition:
    """A second vote by the same person: the same one counts once, another is refused."""
    if (same.decision, same.capacity) != (decision, capacity):
        raise ConflictError(
            "ALREADY_VOTED",
            f"{same.voter} already voted on transition #{row.id}: {same.decision} as"
            f" {same.capacity}; one vote per person per request",
            transition=row.id,
            decision=same.decision,
            capacity=same.capacity,
        )
    return record(s, row)


def _capacity(
    s: Session, policy: Policy, who: Principal, row: TransitionRow, given: str | None
) -> str:
    """The capacity the vote is cast in: ``given``, or the one the voter holds that the
    request still needs (asked for when that is not one)."""
    held = who.capacities.get(row.namespace, frozenset())
    if given is None:
        given = _choose(s, policy, who, row, held)
    if given not in held or not identity.can_approve(who, row.namespace, row.model_name, given):
        raise ForbiddenError(
            "PERMISSION_DENIED",
            f"{who.name} may not vote as {given} in {row.namespace}: it needs that reviewer"
            " capacity there and a token scope for 'approve'",
            permission="approve",
            target=ref_of(row),
            capacity=given,
            held=sorted(held),
        )
    return given


def _choose(
    s: Session, policy: Policy, who: Principal, row: TransitionRow, held: frozenset[str]
) -> str:
    if len(held) == 1:
        return next(iter(held))
    model = s.get_one(ModelRow, row.model_id)
    need = policies.effective(s, policy, row.namespace).requirement(row.to_stage, model.risk_level)
    gaps = tally(need.approvals, votes_of(s, row.id), row.manifest_digest)
    wanted = held & {a.capacity for a in gaps if a.missing}
    if len(wanted) == 1:
        return next(iter(wanted))
    if not held:
        raise ForbiddenError(
            "PERMISSION_DENIED",
            f"{who.name} holds no reviewer capacity in {row.namespace}",
            permission="approve",
            target=ref_of(row),
        )
    options = sorted(wanted or held)
    raise InvalidInputError(
        "CAPACITY_REQUIRED",
        f"say which capacity you vote in: {', '.join(options)} (--as CAPACITY)",
        capacities=options,
    )


def _seen(s: Session, policy: Policy, row: TransitionRow, asked_at: datetime) -> stages.Seen | None:
    rules = policies.effective(s, policy, row.namespace)
    if not rules.is_exclusive(row.to_stage):
        return None
    return stages.seen(s, row.model_id, row.to_stage, row.version_id, asked_at)


def _cast(
    db: Database,
    policy: Policy,
    who: Principal,
    transition_id: int,
    decision: str,
    comment: str,
    capacity: str,
    seen: stages.Seen | None,
) -> Transition:
    with db.write() as s:
        row = row_of(s, transition_id)
        model = writable_model(s, row.namespace, row.model_name)
        version = writable_version(s, model, row.version_number)
        row = row_of(s, transition_id, for_update=True)
        refuse_closed(row)
        _insert(s, who, row, version, model, decision, comment, capacity)
        if decision == "reject":
            stages.close(row, "rejected", who.name, comment)
        else:
            transitions.settle(s, policy, who.name, model, version, row, seen)
        return record(s, row)


def _insert(
    s: Session,
    who: Principal,
    row: TransitionRow,
    version: VersionRow,
    model: ModelRow,
    decision: str,
    comment: str,
    capacity: str,
) -> None:
    s.add(
        VoteRow(
            transition_id=row.id, voter=who.name, voter_id=who.user_id,
            active_voter_id=who.user_id, capacity=capacity, decision=decision, comment=comment,
            risk_level=model.risk_level, manifest_digest=version.manifest_digest, cast_at=utcnow(),
        )
    )  # fmt: skip
    s.flush()  # a second vote of this person fails here, on the unique constraint
    action = "transition.approved" if decision == "approve" else "transition.rejected"
    audit.record(
        s, who.name, action, ref_of(row), namespace=row.namespace,
        before={"id": row.id, "status": "pending"},
        after={"id": row.id, "decision": decision, "capacity": capacity, "comment": comment,
               "risk_level": model.risk_level, "manifest_digest": version.manifest_digest},
    )  # fmt: skip
