"""Namespaces: a team's space that owns models. Archived, never deleted."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from modelyard.db.engine import Database
from modelyard.db.tables import MembershipRow, NamespaceRow
from modelyard.db.types import utcnow
from modelyard.db.visibility import readable_clause
from modelyard.domain.access import Readable, Role, check_visibility
from modelyard.domain.errors import ConflictError, InvalidInputError
from modelyard.domain.names import check_name
from modelyard.domain.pagination import clamp_page_size, decode_page_token, encode_page_token
from modelyard.domain.records import Namespace, Page
from modelyard.services import audit
from modelyard.services.lookup import namespace_row
from modelyard.services.records import namespace_record


def create_namespace(
    db: Database,
    actor: str,
    name: str,
    description: str = "",
    visibility: str = "private",
    owner: uuid.UUID | None = None,
) -> Namespace:
    """``owner`` (a user id) becomes the namespace's first ``admin`` member, in the same
    transaction, so no namespace is ever left without someone to manage it."""
    check_name("namespace", name)
    check_visibility(visibility)
    try:
        with db.write() as s:
            if s.scalar(select(NamespaceRow.id).where(NamespaceRow.name == name)) is not None:
                raise _exists(name)
            row = NamespaceRow(
                name=name, description=description, visibility=visibility, created_by=actor
            )
            s.add(row)
            s.flush()
            if owner is not None:
                s.add(
                    MembershipRow(
                        namespace_id=row.id, user_id=owner, role=Role.ADMIN.label, created_by=actor
                    )
                )
            audit.record(
                s,
                actor,
                "namespace.created",
                name,
                namespace=name,
                after={"name": name, "description": description, "visibility": visibility},
            )
            return namespace_record(row)
    except IntegrityError:  # lost a race with a concurrent create of the same name
        raise _exists(name) from None


def _exists(name: str) -> ConflictError:
    return ConflictError("NAMESPACE_EXISTS", f"namespace {name!r} exists", namespace=name)


def get_namespace(db: Database, name: str) -> Namespace:
    with db.read() as s:
        return namespace_record(namespace_row(s, name))


def update_namespace(db: Database, actor: str, name: str, description: str | None) -> Namespace:
    with db.write() as s:
        row = namespace_row(s, name, for_update=True)
        if description is not None and description != row.description:
            audit.record(
                s,
                actor,
                "namespace.updated",
                name,
                namespace=name,
                before={"description": row.description},
                after={"description": description},
            )
            row.description = description
            row.updated_at = utcnow()
        return namespace_record(row)


def archive_namespace(db: Database, actor: str, name: str) -> Namespace:
    with db.write() as s:
        row = namespace_row(s, name, for_update=True)
        if row.archived_at is None:
            row.archived_at = row.updated_at = utcnow()
            audit.record(s, actor, "namespace.archived", name, namespace=name)
        return namespace_record(row)


def list_namespaces(
    db: Database,
    page_size: int | None = None,
    page_token: str | None = None,
    readable: Readable | None = None,
) -> Page[Namespace]:
    """``readable``: only the namespaces the caller may read (``None``: all)."""
    size = clamp_page_size(page_size)
    stmt = select(NamespaceRow).order_by(NamespaceRow.name).limit(size + 1)
    if readable is not None:
        stmt = stmt.where(readable_clause(readable, NamespaceRow.name))
    if page_token:
        (after,) = decode_page_token(page_token, "namespaces", 1)
        if not isinstance(after, str):
            raise InvalidInputError("PAGE_TOKEN_INVALID", "page_token is not valid")
        stmt = stmt.where(NamespaceRow.name > after)
    with db.read() as s:
        rows = list(s.scalars(stmt))
    more = len(rows) > size
    rows = rows[:size]
    token = encode_page_token((rows[-1].name,), "namespaces") if more else None
    return Page([namespace_record(r) for r in rows], token)
