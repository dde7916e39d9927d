"""/api/v1/transitions: requests to move versions between stages, votes, cancel, apply;
/api/v1/models/{ns}/{name}/rollback.

    POST /api/v1/transitions                    request (maintainers: the promote right)
    GET  /api/v1/transitions?status=pending     list what the caller may read, newest first
    GET  /api/v1/transitions/{id}               one, with its approvals, checks and votes
    POST /api/v1/transitions/{id}/approvals     vote: approve or reject, in a capacity
    POST /api/v1/transitions/{id}/cancel        the requester, or a maintainer
    POST /api/v1/transitions/{id}/apply         apply one held back by a check since fixed
    POST /api/v1/models/{ns}/{name}/rollback    production back to the previous version

A transition of a model the caller may not read does not exist for them (404
TRANSITION_NOT_FOUND, like a missing one).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from modelyard.api.access import Caller, CanPromote, SignedIn, authorize
from modelyard.api.deps import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.governance_schemas import (
    CancelIn,
    RollbackIn,
    TransitionCreate,
    TransitionOut,
    VoteCreate,
)
from modelyard.api.routes.models import TokenQ
from modelyard.api.routes.policy import ServerPolicy
from modelyard.api.schemas import PageOut
from modelyard.db.engine import Database
from modelyard.domain import access
from modelyard.domain.access import Permission, Principal
from modelyard.domain.errors import NotFoundError
from modelyard.domain.references import parse_reference
from modelyard.services import approvals, rollback, transition_records, transitions

router = APIRouter(prefix="/api/v1", tags=["governance"], responses=ERROR_RESPONSES)

Id = Annotated[int, Path(ge=1, le=2**31 - 1, description="Transition id")]


async def _may(
    request: Request, db: Database, who: Principal, transition_id: int, permission: Permission
) -> None:
    """``permission`` on the transition's model; a hidden one is as missing as it can be."""
    namespace, name = await run(db, transition_records.locate, db, transition_id)
    try:
        await authorize(request, db, who, permission, namespace, name)
    except NotFoundError:
        raise NotFoundError(
            "TRANSITION_NOT_FOUND", f"no transition #{transition_id}", transition=transition_id
        ) from None


@router.post("/transitions", status_code=201)
async def request_transition(
    body: TransitionCreate, request: Request, db: Db, who: Caller, policy: ServerPolicy
) -> TransitionOut:
    """Ask to move a version to a stage. Applied at once (status ``applied``) when the policy
    needs no approval at the model's risk level; else ``pending``."""
    ref = parse_reference(body.reference)  # REFERENCE_INVALID before any look-up
    await authorize(request, db, who, access.PROMOTE, ref.namespace, ref.name)
    await run(db, transitions.expire_due, db)
    expiry = timedelta(seconds=request.app.state.settings.transition_expiry_seconds)
    t = await run(
        db, transitions.request_transition, db, policy, who.name, who.user_id,
        body.reference, body.stage, body.reason, expiry,
    )  # fmt: skip
    return TransitionOut.of(t)


@router.get("/transitions", dependencies=[SignedIn])
async def list_transitions(
    db: Db,
    who: Caller,
    status: Annotated[str | None, Query(max_length=16, examples=["pending"])] = None,
    namespace: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=130, description="namespace/name")] = None,
    page_size: int | None = None,
    page_token: TokenQ = None,
) -> PageOut[TransitionOut]:
    await run(db, transitions.expire_due, db)
    page = await run(
        db, transition_records.list_transitions, db, access.readable(who), namespace, model,
        status, page_size, page_token,
    )  # fmt: skip
    items = [TransitionOut.of(t) for t in page.items]
    return PageOut(items=items, next_page_token=page.next_page_token)


@router.get("/transitions/{transition_id}")
async def get_transition(transition_id: Id, request: Request, db: Db, who: Caller) -> TransitionOut:
    await _may(request, db, who, transition_id, access.READ)
    await run(db, transitions.expire_due, db)
    return TransitionOut.of(await run(db, transition_records.get_transition, db, transition_id))


@router.post("/transitions/{transition_id}/approvals", status_code=201)
async def vote(
    transition_id: Id,
    body: VoteCreate,
    request: Request,
    db: Db,
    who: Caller,
    policy: ServerPolicy,
) -> TransitionOut:
    """Approve or reject, in one of your reviewer capacities. The requester cannot vote (403
    SELF_APPROVAL); one vote per person (the same vote again counts once; another is 409
    ALREADY_VOTED); service accounts never vote. A rejection closes the request; the approval
    that completes it applies it."""
    await _may(request, db, who, transition_id, access.APPROVE)
    t = await run(
        db, approvals.vote, db, policy, who, transition_id, body.decision, body.comment,
        body.capacity,
    )  # fmt: skip
    return TransitionOut.of(t)


@router.post("/transitions/{transition_id}/cancel")
async def cancel(
    transition_id: Id, body: CancelIn, request: Request, db: Db, who: Caller
) -> TransitionOut:
    """Withdraw a pending request: its requester, or a maintainer of the namespace."""
    own = (await run(db, transition_records.get_transition, db, transition_id)).requested_by
    permission = access.READ if own == who.name else access.PROMOTE
    await _may(request, db, who, transition_id, permission)
    t = await run(db, transitions.cancel_transition, db, who.name, transition_id, body.reason)
    return TransitionOut.of(t)


@router.post("/transitions/{transition_id}/apply")
async def apply(
    transition_id: Id, request: Request, db: Db, who: Caller, policy: ServerPolicy
) -> TransitionOut:
    """Apply a pending request whose approvals are in but which a check held back."""
    await _may(request, db, who, transition_id, access.PROMOTE)
    t = await run(db, transitions.apply_transition, db, policy, who.name, transition_id)
    return TransitionOut.of(t)


@router.post("/models/{namespace}/{name}/rollback", dependencies=[CanPromote])
async def rollback_model(
    namespace: str, name: str, body: RollbackIn, db: Db, who: Caller, policy: ServerPolicy
) -> TransitionOut:
    """Return an exclusive stage (production) to the version that held it before the current
    one. No approvals are asked again (it was approved for the stage); the checks are."""
    t = await run(
        db, rollback.rollback, db, policy, who.name, who.user_id, f"{namespace}/{name}",
        body.reason, body.stage,
    )  # fmt: skip
    return TransitionOut.of(t)
