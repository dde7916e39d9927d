"""Users and service accounts: create, read, update, passwords, global admin, disable.

Users are never deleted (their names stay in ``created_by`` columns and the audit trail); a
disabled user cannot sign in and their tokens and sessions stop working at once. The server
always keeps at least one enabled global admin (``LAST_ADMIN``).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import MembershipRow, NamespaceRow, UserRow, WebSessionRow
from modelyard.db.types import utcnow
from modelyard.domain.access import Role
from modelyard.domain.accounts import User
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.names import check_name
from modelyard.domain.pagination import clamp_page_size, decode_page_token, encode_page_token
from modelyard.domain.records import Page
from modelyard.services import audit, passwords
from modelyard.services.lookup import namespace_row


def user_row(s: Session, name: str, for_update: bool = False) -> UserRow:
    stmt = select(UserRow).where(UserRow.name == name)
    row = s.scalars(stmt.with_for_update() if for_update else stmt).first()
    if row is None:
        raise NotFoundError("USER_NOT_FOUND", f"user {name!r} not found", user=name)
    return row


def user_record(s: Session, row: UserRow) -> User:
    owner = None
    if row.owner_namespace_id is not None:
        owner = s.scalar(select(NamespaceRow.name).where(NamespaceRow.id == row.owner_namespace_id))
    return User(
        name=row.name,
        kind=row.kind,
        display_name=row.display_name,
        email=row.email,
        admin=row.is_admin,
        disabled=row.disabled_at is not None,
        owner_namespace=owner,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def create_user(
    db: Database,
    actor: str,
    name: str,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    admin: bool = False,
) -> User:
    """A person. Without a password they sign in with tokens only."""
    check_name("user", name)
    hashed = passwords.hash_password(password) if password is not None else None
    row = UserRow(
        name=name,
        kind="user",
        display_name=display_name,
        email=email,
        is_admin=admin,
        password_hash=hashed,
        created_by=actor,
    )
    return _insert(db, row)


def create_service_account(
    db: Database, actor: str, name: str, namespace: str, role: Role, display_name: str = ""
) -> User:
    """A machine user owned by ``namespace`` (whose admins manage it), member there with
    ``role``. It has no password and can never be a global admin or hold a capacity."""
    check_name("service account", name)
    row = UserRow(name=name, kind="service", display_name=display_name, created_by=actor)
    return _insert(db, row, namespace, role)


def _insert(
    db: Database, row: UserRow, namespace: str | None = None, role: Role | None = None
) -> User:
    try:
        with db.write() as s:
            if s.scalar(select(UserRow.id).where(UserRow.name == row.name)) is not None:
                raise _exists(row.name)
            if namespace is not None and role is not None:
                ns = namespace_row(s, namespace)
                row.owner_namespace_id = ns.id
                s.add(row)
                s.flush()
                s.add(
                    MembershipRow(
                        namespace_id=ns.id,
                        user_id=row.id,
                        role=role.label,
                        created_by=row.created_by,
                    )
                )
            else:
                s.add(row)
            s.flush()
            record = user_record(s, row)
            audit.record(
                s,
                row.created_by,
                "service_account.created" if row.kind == "service" else "user.created",
                f"user:{row.name}",
                namespace=namespace,
                after={
                    "name": row.name,
                    "kind": row.kind,
                    "display_name": row.display_name,
                    "email": row.email,
                    "admin": row.is_admin,
                    "role": role.label if role is not None else None,
                },
            )
            return record
    except IntegrityError:  # lost a race with a concurrent create of the same name
        raise _exists(row.name) from None


def _exists(name: str) -> ConflictError:
    return ConflictError("USER_EXISTS", f"user {name!r} exists", user=name)


def get_user(db: Database, name: str) -> User:
    with db.read() as s:
        return user_record(s, user_row(s, name))


def list_users(
    db: Database,
    kind: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Page[User]:
    size = clamp_page_size(page_size)
    stmt = select(UserRow).order_by(UserRow.name).limit(size + 1)
    if kind is not None:
        stmt = stmt.where(UserRow.kind == kind)
    if page_token:
        (after,) = decode_page_token(page_token, f"users:{kind}", 1)
        if not isinstance(after, str):
            raise InvalidInputError("PAGE_TOKEN_INVALID", "page_token is not valid")
        stmt = stmt.where(UserRow.name > after)
    with db.read() as s:
        rows = list(s.scalars(stmt))
        more = len(rows) > size
        rows = rows[:size]
        token = encode_page_token((rows[-1].name,), f"users:{kind}") if more else None
        return Page([user_record(s, r) for r in rows], token)


def update_user(
    db: Database, name: str, display_name: str | None = None, email: str | None = None
) -> User:
    with db.write() as s:
        row = user_row(s, name, for_update=True)
        before = {"display_name": row.display_name, "email": row.email}
        if display_name is not None:
            row.display_name = display_name
        if email is not None:
            row.email = email
        old, new = audit.changes(before, {"display_name": row.display_name, "email": row.email})
        if old:
            audit.record(s, audit.acting(), "user.updated", f"user:{name}", before=old, after=new)
        row.updated_at = utcnow()
        return user_record(s, row)


def set_password(db: Database, name: str, password: str, current: str | None = None) -> None:
    """Set a person's password. ``current`` is checked when given (people changing their own);
    every web session of the user ends, so a stolen session does not outlive the change."""
    hashed = passwords.hash_password(password)
    with db.write() as s:
        row = user_row(s, name, for_update=True)
        if row.kind == "service":
            raise _service_refused("have a password")
        if current is not None and not passwords.verify(row.password_hash, current):
            raise InvalidInputError(
                "PASSWORD_INVALID", "the current password is wrong", field="current_password"
            )
        row.password_hash = hashed
        row.updated_at = utcnow()
        audit.record(s, audit.acting(), "user.password_changed", f"user:{name}", event=False)
        s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))


def set_admin(db: Database, name: str, admin: bool) -> User:
    with db.write() as s:
        row = user_row(s, name, for_update=True)
        if admin and row.kind == "service":
            raise _service_refused("be global admins")
        if not admin and row.is_admin:
            _keep_an_admin(s, row)
        if row.is_admin != admin:
            audit.record(
                s,
                audit.acting(),
                "user.admin_changed",
                f"user:{name}",
                before={"admin": row.is_admin},
                after={"admin": admin},
            )
        row.is_admin = admin
        row.updated_at = utcnow()
        return user_record(s, row)


def set_disabled(db: Database, name: str, disabled: bool) -> User:
    """Disabling takes effect on the next request: sessions end, tokens are refused."""
    with db.write() as s:
        row = user_row(s, name, for_update=True)
        if disabled != (row.disabled_at is not None):
            audit.record(
                s,
                audit.acting(),
                "user.disabled" if disabled else "user.enabled",
                f"user:{name}",
                before={"disabled": not disabled},
                after={"disabled": disabled},
            )
        if disabled and row.disabled_at is None:
            if row.is_admin:
                _keep_an_admin(s, row)
            row.disabled_at = utcnow()
            s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == row.id))
        elif not disabled:
            row.disabled_at = None
        row.updated_at = utcnow()
        return user_record(s, row)


def _keep_an_admin(s: Session, leaving: UserRow) -> None:
    # Locks every enabled admin row: two admins demoting each other at once on PostgreSQL
    # would otherwise both see the other one still there.
    admins = s.scalars(
        select(UserRow.id).where(UserRow.is_admin, UserRow.disabled_at.is_(None)).with_for_update()
    ).all()
    if not set(admins) - {leaving.id}:
        raise ConflictError(
            "LAST_ADMIN", f"{leaving.name!r} is the last global admin; make another one first"
        )


def _service_refused(what: str) -> ConflictError:
    return ConflictError("SERVICE_ACCOUNT_NOT_ALLOWED", f"service accounts cannot {what}")


def admin_exists(db: Database) -> bool:
    with db.read() as s:
        return s.scalar(select(UserRow.id).where(UserRow.is_admin).limit(1)) is not None
