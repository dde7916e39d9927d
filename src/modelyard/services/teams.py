"""Namespaces as teams: members and their roles, reviewer capacities, visibility.

Invariants kept here:
- a namespace with members keeps at least one ``admin`` member (``LAST_ADMIN``); global admins
  can always manage any namespace;
- reviewer capacities are held by members only (removing the member removes them) and never by
  service accounts (``SERVICE_ACCOUNT_NOT_ALLOWED``).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import CapacityRow, MembershipRow, NamespaceRow, UserRow
from modelyard.db.types import utcnow
from modelyard.domain.access import Role, check_capacity, check_visibility
from modelyard.domain.accounts import Member
from modelyard.domain.errors import ConflictError, NotFoundError
from modelyard.domain.records import Namespace
from modelyard.services import audit
from modelyard.services.lookup import namespace_row
from modelyard.services.records import namespace_record
from modelyard.services.users import user_row


def list_members(db: Database, namespace: str) -> list[Member]:
    with db.read() as s:
        ns = namespace_row(s, namespace)
        rows = s.execute(
            select(MembershipRow, UserRow)
            .join(UserRow, UserRow.id == MembershipRow.user_id)
            .where(MembershipRow.namespace_id == ns.id)
            .order_by(UserRow.name)
        ).all()
        held = _capacities(s, MembershipRow.namespace_id == ns.id)
        return [
            Member(ns.name, u.name, u.kind, m.role, sorted(held[(ns.id, u.id)])) for m, u in rows
        ]


def memberships_of(s: Session, user: UserRow) -> list[Member]:
    """Every namespace ``user`` belongs to, with role and capacities."""
    rows = s.execute(
        select(MembershipRow, NamespaceRow.name)
        .join(NamespaceRow, NamespaceRow.id == MembershipRow.namespace_id)
        .where(MembershipRow.user_id == user.id)
        .order_by(NamespaceRow.name)
    ).all()
    held = _capacities(s, MembershipRow.user_id == user.id)
    return [
        Member(ns, user.name, user.kind, m.role, sorted(held[(m.namespace_id, user.id)]))
        for m, ns in rows
    ]


def _capacities(s: Session, where: object) -> dict[tuple[object, object], set[str]]:
    held: dict[tuple[object, object], set[str]] = defaultdict(set)
    stmt = select(CapacityRow).join(
        MembershipRow,
        (MembershipRow.namespace_id == CapacityRow.namespace_id)
        & (MembershipRow.user_id == CapacityRow.user_id),
    )
    for row in s.scalars(stmt.where(where)):  # type: ignore[arg-type]
        held[(row.namespace_id, row.user_id)].add(row.capacity)
    return held


def get_member(db: Database, namespace: str, user: str) -> Member | None:
    with db.read() as s:
        return _member(s, namespace_row(s, namespace), user_row(s, user))


def _member(s: Session, ns: NamespaceRow, user: UserRow) -> Member | None:
    row = s.get(MembershipRow, (ns.id, user.id))
    if row is None:
        return None
    held = _capacities(
        s, (MembershipRow.namespace_id == ns.id) & (MembershipRow.user_id == user.id)
    )
    return Member(ns.name, user.name, user.kind, row.role, sorted(held[(ns.id, user.id)]))


def set_member(db: Database, actor: str, namespace: str, user: str, role: Role) -> Member:
    """Add ``user`` to the namespace, or change their role."""
    with db.write() as s:
        ns = namespace_row(s, namespace, for_update=True)
        who = user_row(s, user)
        row = s.get(MembershipRow, (ns.id, who.id))
        if row is None or row.role != role.label:
            audit.record(
                s,
                actor,
                "member.set",
                f"{namespace}:{user}",
                namespace=namespace,
                before={"user": user, "role": row.role} if row is not None else None,
                after={"user": user, "role": role.label},
            )
        if row is None:
            row = MembershipRow(namespace_id=ns.id, user_id=who.id, created_by=actor)
            s.add(row)
        elif row.role == Role.ADMIN.label and role is not Role.ADMIN:
            _keep_an_admin(s, ns, who)
        row.role, row.updated_at = role.label, utcnow()
        s.flush()
        member = _member(s, ns, who)
        assert member is not None
        return member


def remove_member(db: Database, namespace: str, user: str) -> None:
    with db.write() as s:
        ns = namespace_row(s, namespace, for_update=True)
        who = user_row(s, user)
        row = _membership(s, ns, who)
        if row.role == Role.ADMIN.label:
            _keep_an_admin(s, ns, who)
        audit.record(
            s,
            audit.acting(),
            "member.removed",
            f"{namespace}:{user}",
            namespace=namespace,
            before={"user": user, "role": row.role},
        )
        s.delete(row)


def _membership(s: Session, ns: NamespaceRow, who: UserRow) -> MembershipRow:
    row = s.get(MembershipRow, (ns.id, who.id))
    if row is None:
        raise NotFoundError(
            "MEMBER_NOT_FOUND",
            f"{who.name!r} is not a member of namespace {ns.name!r}",
            namespace=ns.name,
            user=who.name,
        )
    return row


def _keep_an_admin(s: Session, ns: NamespaceRow, leaving: UserRow) -> None:
    # The namespace row is locked by the caller, so concurrent changes to its members queue.
    admins = s.scalars(
        select(MembershipRow.user_id).where(
            MembershipRow.namespace_id == ns.id, MembershipRow.role == Role.ADMIN.label
        )
    ).all()
    if not set(admins) - {leaving.id}:
        raise ConflictError(
            "LAST_ADMIN",
            f"{leaving.name!r} is the last admin of namespace {ns.name!r}; make another first",
            namespace=ns.name,
        )


def grant_capacity(
    db: Database,
    actor: str,
    namespace: str,
    user: str,
    capacity: str,
    configured: tuple[str, ...],
) -> Member:
    check_capacity(capacity, configured)
    with db.write() as s:
        ns = namespace_row(s, namespace)
        who = user_row(s, user)
        if who.kind == "service":
            raise ConflictError(
                "SERVICE_ACCOUNT_NOT_ALLOWED",
                "service accounts cannot hold reviewer capacities",
                user=who.name,
            )
        _membership(s, ns, who)
        if s.get(CapacityRow, (ns.id, who.id, capacity)) is None:
            audit.record(
                s,
                actor,
                "capacity.granted",
                f"{namespace}:{user}",
                namespace=namespace,
                after={"user": user, "capacity": capacity},
            )
            s.add(
                CapacityRow(namespace_id=ns.id, user_id=who.id, capacity=capacity, granted_by=actor)
            )
            s.flush()
        member = _member(s, ns, who)
        assert member is not None
        return member


def revoke_capacity(db: Database, namespace: str, user: str, capacity: str) -> Member:
    with db.write() as s:
        ns = namespace_row(s, namespace)
        who = user_row(s, user)
        _membership(s, ns, who)
        gone = s.execute(
            delete(CapacityRow).where(
                CapacityRow.namespace_id == ns.id,
                CapacityRow.user_id == who.id,
                CapacityRow.capacity == capacity,
            )
        )
        if gone.rowcount:  # type: ignore[attr-defined]
            audit.record(
                s,
                audit.acting(),
                "capacity.revoked",
                f"{namespace}:{user}",
                namespace=namespace,
                before={"user": user, "capacity": capacity},
            )
        member = _member(s, ns, who)
        assert member is not None
        return member


def set_visibility(db: Database, namespace: str, visibility: str) -> Namespace:
    check_visibility(visibility)
    with db.write() as s:
        row = namespace_row(s, namespace, for_update=True)
        if row.visibility != visibility:
            audit.record(
                s,
                audit.acting(),
                "namespace.updated",
                namespace,
                namespace=namespace,
                before={"visibility": row.visibility},
                after={"visibility": visibility},
            )
            row.visibility, row.updated_at = visibility, utcnow()
        return namespace_record(row)
