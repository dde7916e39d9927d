"""The first global admin, and a way back in when every admin token is lost.

``modelyard serve`` calls ``first_admin`` on every start: when the database has no global
admin, it makes one (user ``admin``) with a token, in one transaction, and the CLI stores that
token for the local server. ``admin_token`` is the operator's recovery: whoever can reach the
database directly can make any user a global admin with a new token (``modelyard db
admin-token``); no HTTP route does this.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import UserRow
from modelyard.domain.access import FULL_SCOPES
from modelyard.domain.accounts import IssuedToken
from modelyard.domain.errors import ConflictError
from modelyard.domain.names import check_name
from modelyard.services import audit
from modelyard.services.tokens import add_token

FIRST_ADMIN = "admin"
ACTOR = "modelyard"


def first_admin(db: Database, name: str = FIRST_ADMIN) -> IssuedToken | None:
    """A token for a new global admin when there is none yet; ``None`` when there is one (or
    a concurrent first start made it a moment ago)."""
    try:
        with db.write() as s:
            if s.scalar(select(UserRow.id).where(UserRow.is_admin).limit(1)) is not None:
                return None
            return _admin_with_token(s, name, "first start")
    except IntegrityError:  # another server process made the first admin at the same time
        return None


def admin_token(db: Database, name: str, label: str = "recovery") -> IssuedToken:
    """Make ``name`` a global admin (created when missing, enabled) with a new token."""
    check_name("user", name)
    with db.write() as s:
        return _admin_with_token(s, name, label)


def _admin_with_token(s: Session, name: str, label: str) -> IssuedToken:
    row = s.scalars(select(UserRow).where(UserRow.name == name)).first()
    if row is None:
        row = UserRow(name=name, kind="user", created_by=ACTOR)
        s.add(row)
        audit.record(s, ACTOR, "user.created", f"user:{name}", after={"name": name, "admin": True})
    elif row.kind == "service":
        raise ConflictError(
            "SERVICE_ACCOUNT_NOT_ALLOWED", "service accounts cannot be global admins", user=name
        )
    elif not row.is_admin or row.disabled_at is not None:
        audit.record(
            s,
            ACTOR,
            "user.admin_changed",
            f"user:{name}",
            before={"admin": row.is_admin, "disabled": row.disabled_at is not None},
            after={"admin": True, "disabled": False},
        )
    row.is_admin, row.disabled_at = True, None
    s.flush()
    return add_token(s, ACTOR, row, label, FULL_SCOPES)
