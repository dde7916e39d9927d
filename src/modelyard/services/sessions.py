"""Web sessions: sign in with a password, the session a cookie stands for, sign out.

The cookie holds a random secret; the database holds only its SHA-256, so a copy of the
database signs nobody in. The CSRF token is an HMAC of the secret: the server recomputes it
from the cookie and never stores it, and a page on another site can neither read the cookie
nor compute the token. Sessions end at a fixed time (``session_ttl_seconds``), on sign-out, on
a password change and when the user is disabled.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from modelyard.db.engine import Database
from modelyard.db.tables import UserRow, WebSessionRow
from modelyard.db.types import utcnow
from modelyard.domain.access import Principal
from modelyard.domain.accounts import User
from modelyard.domain.errors import UnauthenticatedError
from modelyard.services import audit, passwords
from modelyard.services.principals import load_principal
from modelyard.services.users import user_record


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode(), b"modelyard csrf", hashlib.sha256).hexdigest()


def check_password(db: Database, name: str, password: str) -> User:
    """The user whose name and password these are, else LOGIN_FAILED (401). The same answer
    and about the same time for an unknown name, a wrong password, a disabled account and a
    service account (which has no password)."""
    with db.read() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
    stored = row.password_hash if row is not None else None
    if not passwords.verify(stored, password) or row is None or row.disabled_at is not None:
        raise UnauthenticatedError("LOGIN_FAILED", "wrong user name or password")
    if stored is not None and passwords.needs_rehash(stored):
        _rehash(db, row.name, password)
    with db.read() as s:
        return user_record(s, s.get_one(UserRow, row.id))


def _rehash(db: Database, name: str, password: str) -> None:
    with db.write() as s:
        row = s.scalars(select(UserRow).where(UserRow.name == name)).one()
        row.password_hash = passwords.hash_password(password)


def start(db: Database, name: str, ttl_seconds: int) -> str:
    """A new session for ``name`` (already authenticated); returns the cookie's secret.
    The user's expired sessions are cleared on the way."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with db.write() as s:
        user_id = s.scalars(select(UserRow.id).where(UserRow.name == name)).one()
        s.execute(
            delete(WebSessionRow).where(
                WebSessionRow.user_id == user_id, WebSessionRow.expires_at <= now
            )
        )
        s.add(
            WebSessionRow(
                digest=_digest(secret),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(seconds=ttl_seconds),
            )
        )
        audit.record(s, name, "session.started", f"user:{name}", event=False)
    return secret


def principal(db: Database, secret: str) -> Principal | None:
    """The signed-in user of a session cookie, or ``None`` (unknown, expired, disabled)."""
    with db.read() as s:
        found = s.execute(
            select(WebSessionRow, UserRow)
            .join(UserRow, UserRow.id == WebSessionRow.user_id)
            .where(WebSessionRow.digest == _digest(secret))
        ).first()
        if found is None:
            return None
        session, user = found
        if session.expires_at <= utcnow() or user.disabled_at is not None:
            return None
        return load_principal(s, user, None, None)


def end(db: Database, secret: str) -> None:
    with db.write() as s:
        row = s.scalars(
            select(WebSessionRow).where(WebSessionRow.digest == _digest(secret))
        ).first()
        if row is not None:
            name = s.get_one(UserRow, row.user_id).name
            audit.record(s, name, "session.ended", f"user:{name}", event=False)
            s.delete(row)
