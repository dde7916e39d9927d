"""/api/v1/tokens: API tokens for yourself and for the service accounts you manage.

A token is shown once, when created. A caller signed in with a token can only mint tokens no
broader than its own; revoking takes effect on the next request.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Query, Request

from modelyard.api.access import Caller
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.identity_schemas import IssuedTokenOut, TokenCreate, TokenOut
from modelyard.api.routes.users import may_manage
from modelyard.db.types import utcnow
from modelyard.domain.access import Principal, Scope, parse_scopes
from modelyard.domain.errors import ForbiddenError, InvalidInputError
from modelyard.services import tokens as svc
from modelyard.services import users

router = APIRouter(prefix="/api/v1", tags=["identity"], responses=ERROR_RESPONSES)


@router.post("/tokens", status_code=201)
async def create_token(body: TokenCreate, request: Request, db: Db, who: Caller) -> IssuedTokenOut:
    """A token for yourself: ``scopes`` narrow it (none: your full rights), ``expires_at`` or
    ``expires_in_days`` end it. The response holds the token, shown this once."""
    return await _issue(request, db, who, who.name, body)


@router.post("/service-accounts/{user}/tokens", status_code=201)
async def create_service_token(
    user: str, body: TokenCreate, request: Request, db: Db, who: Caller
) -> IssuedTokenOut:
    """A token for a service account you manage (an admin of its namespace, or global admin)."""
    target = await run(db, users.get_user, db, user)
    if target.kind != "service":
        raise InvalidInputError(
            "VALIDATION_FAILED", f"{user!r} is a person: people create their own tokens"
        )
    await may_manage(request, db, who, target, own=False)
    return await _issue(request, db, who, user, body)


async def _issue(
    request: Request, db: Db, who: Principal, owner: str, body: TokenCreate
) -> IssuedTokenOut:
    scopes = parse_scopes(body.scopes)
    _within_own_scopes(who, scopes)
    issued = await run(db, svc.issue_token, db, who.name, owner, body.name, scopes, _expiry(body))
    return IssuedTokenOut(token=issued.secret, **TokenOut.of(issued.token).model_dump())


def _expiry(body: TokenCreate) -> datetime | None:
    if body.expires_at is not None and body.expires_in_days is not None:
        raise InvalidInputError("VALIDATION_FAILED", "give expires_at or expires_in_days, not both")
    if body.expires_in_days is not None:
        return utcnow() + timedelta(days=body.expires_in_days)
    return body.expires_at


def _within_own_scopes(who: Principal, scopes: tuple[Scope, ...]) -> None:
    if who.scopes is None:
        return
    broader = [str(s) for s in scopes if not any(mine.includes(s) for mine in who.scopes)]
    if broader:
        raise ForbiddenError(
            "PERMISSION_DENIED",
            "a token cannot create a token broader than itself: " + ", ".join(broader),
            permission="create-token",
            target=", ".join(broader),
            scopes=broader,
        )


@router.get("/tokens")
async def list_tokens(
    request: Request,
    db: Db,
    who: Caller,
    user: str | None = Query(None, max_length=200, description="Another user's (admins)"),
    include_revoked: bool = False,
) -> list[TokenOut]:
    """Your tokens (never the tokens themselves: a hint of 8 + 4 characters), or, for those who
    manage them, another user's or service account's."""
    owner = user or who.name
    if owner != who.name:
        await may_manage(request, db, who, await run(db, users.get_user, db, owner), own=False)
    found = await run(db, svc.list_tokens, db, owner, include_revoked)
    return [TokenOut.of(t) for t in found]


@router.delete("/tokens/{token_id}")
async def revoke_token(token_id: str, request: Request, db: Db, who: Caller) -> TokenOut:
    """Revoke a token: yours, or one of an account you manage. Refused from the next request."""
    owner = await run(db, svc.token_owner, db, token_id)
    if owner != who.name:
        await may_manage(request, db, who, await run(db, users.get_user, db, owner), own=False)
    return TokenOut.of(await run(db, svc.revoke_token, db, token_id))
