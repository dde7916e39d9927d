"""API tokens: issue (shown once), list, revoke, and authenticate a request's bearer token.

Stored per token: the SHA-256 digest of the whole token (the look-up key), its first 8 and
last 4 characters, scopes, expiry, revocation and last use. Revocation and expiry are checked
on every request, so they take effect on the next one. ``last_used_at`` is written at most once
a minute per token: a write per request would serialise every reader behind SQLite's one writer.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import ApiTokenRow, UserRow
from modelyard.db.types import utcnow
from modelyard.domain.access import (
    Principal,
    Scope,
    display_parts,
    is_well_formed_token,
    new_token,
)
from modelyard.domain.accounts import ApiToken, IssuedToken
from modelyard.domain.errors import InvalidInputError, NotFoundError, UnauthenticatedError
from modelyard.services import audit
from modelyard.services.principals import load_principal
from modelyard.services.users import user_row

LAST_USED_PRECISION = timedelta(seconds=60)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_record(row: ApiTokenRow, user: str) -> ApiToken:
    return ApiToken(
        id=str(row.id),
        name=row.name,
        user=user,
        prefix=row.prefix,
        last_four=row.last_four,
        scopes=list(row.scopes),
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def issue_token(
    db: Database,
    actor: str,
    user: str,
    name: str,
    scopes: tuple[Scope, ...],
    expires_at: datetime | None = None,
) -> IssuedToken:
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInputError(
            "VALIDATION_FAILED", "expires_at is in the past", expires_at=expires_at.isoformat()
        )
    with db.write() as s:
        return add_token(s, actor, user_row(s, user), name, scopes, expires_at)


def add_token(
    s: Session,
    actor: str,
    owner: UserRow,
    name: str,
    scopes: tuple[Scope, ...],
    expires_at: datetime | None = None,
) -> IssuedToken:
    """A new token for ``owner`` in the caller's transaction."""
    secret = new_token()
    prefix, last_four = display_parts(secret)
    row = ApiTokenRow(
        user_id=owner.id,
        name=name,
        digest=digest(secret),
        prefix=prefix,
        last_four=last_four,
        scopes=[str(sc) for sc in scopes],
        expires_at=expires_at,
        created_by=actor,
    )
    s.add(row)
    s.flush()
    audit.record(
        s,
        actor,
        "token.created",
        f"token:{row.id}",
        after={
            "user": owner.name,
            "name": name,
            "scopes": row.scopes,
            "expires_at": expires_at,
            "prefix": prefix,
        },
        event=False,
    )
    return IssuedToken(token_record(row, owner.name), secret)


def list_tokens(db: Database, user: str, include_revoked: bool = False) -> list[ApiToken]:
    with db.read() as s:
        owner = user_row(s, user)
        stmt = select(ApiTokenRow).where(ApiTokenRow.user_id == owner.id)
        if not include_revoked:
            stmt = stmt.where(ApiTokenRow.revoked_at.is_(None))
        rows = s.scalars(stmt.order_by(ApiTokenRow.created_at, ApiTokenRow.id))
        return [token_record(r, owner.name) for r in rows]


def token_owner(db: Database, token_id: str) -> str:
    """The name of the user a token belongs to (TOKEN_NOT_FOUND if there is no such token)."""
    with db.read() as s:
        row = _token_row(s, token_id)
        return s.get_one(UserRow, row.user_id).name


def revoke_token(db: Database, token_id: str) -> ApiToken:
    """Revoke (idempotent); the token is refused from the next request on."""
    with db.write() as s:
        row = _token_row(s, token_id, for_update=True)
        owner = s.get_one(UserRow, row.user_id).name
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            audit.record(
                s,
                audit.acting(),
                "token.revoked",
                f"token:{row.id}",
                before={"user": owner, "name": row.name},
                event=False,
            )
        return token_record(row, owner)


def _token_row(s: Session, token_id: str, for_update: bool = False) -> ApiTokenRow:
    try:
        key = uuid.UUID(token_id)
    except ValueError:
        key = None
    stmt = select(ApiTokenRow).where(ApiTokenRow.id == key)
    row = s.scalars(stmt.with_for_update() if for_update else stmt).first() if key else None
    if row is None:
        raise NotFoundError("TOKEN_NOT_FOUND", f"no token {token_id!r}", token_id=token_id)
    return row


def authenticate(db: Database, secret: str) -> Principal:
    """The principal a bearer token stands for, or UnauthenticatedError (401). Uncached: the
    API goes through ``services/access_cache.py``, which calls the parts below."""
    now = utcnow()
    with db.read() as s:
        caller = load_caller(s, secret, now)
    if needs_touch(caller.last_used_at, now):
        touch(db, caller.principal, now)
    return caller.principal


@dataclass(frozen=True)
class TokenCaller:
    """A token's principal with what must still be checked while it is held in a cache."""

    principal: Principal
    expires_at: datetime | None
    last_used_at: datetime | None


def load_caller(s: Session, secret: str, now: datetime) -> TokenCaller:
    """The caller of a usable token (refused: UnauthenticatedError), in the caller's session."""
    check_well_formed(secret)
    found = s.execute(
        select(ApiTokenRow, UserRow)
        .join(UserRow, UserRow.id == ApiTokenRow.user_id)
        .where(ApiTokenRow.digest == digest(secret))
    ).first()
    token, user = _usable(found, now)
    scopes = tuple(Scope.parse(text) for text in token.scopes)
    principal = load_principal(s, user, scopes, token.id)
    return TokenCaller(principal, token.expires_at, token.last_used_at)


def check_well_formed(secret: str) -> None:
    """Refuse a mistyped or made-up token by its checksum, before any database work."""
    if not is_well_formed_token(secret):
        raise _refused("TOKEN_INVALID", "the API token is malformed or unknown")


def check_not_expired(expires_at: datetime | None, now: datetime) -> None:
    if expires_at is not None and expires_at <= now:
        raise _refused("TOKEN_EXPIRED", "the API token has expired")


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USED_PRECISION


def touch(db: Database, principal: Principal, now: datetime) -> None:
    """Record the token's use (``last_used_at``, at most once a minute: see the module doc)."""
    with db.write() as s:
        s.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == principal.token_id).values(last_used_at=now)
        )


def _usable(found: Row[ApiTokenRow, UserRow] | None, now: datetime) -> tuple[ApiTokenRow, UserRow]:
    if found is None:
        raise _refused("TOKEN_INVALID", "the API token is malformed or unknown")
    token, user = found
    if token.revoked_at is not None:
        raise _refused("TOKEN_REVOKED", "the API token was revoked")
    check_not_expired(token.expires_at, now)
    if user.disabled_at is not None:
        raise _refused("TOKEN_INVALID", "the API token's account is disabled")
    return token, user


def _refused(code: str, message: str) -> UnauthenticatedError:
    return UnauthenticatedError(code, message)
