"""Build the caller of a request as the access rules see it (``domain.access.Principal``).

The user's memberships and capacities are read in one query each; the API's access layer does
this once per request, after checking the token or session.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.db.tables import CapacityRow, MembershipRow, NamespaceRow, UserRow
from modelyard.domain.access import Principal, Role, Scope


def load_principal(
    s: Session, user: UserRow, scopes: tuple[Scope, ...] | None, token_id: uuid.UUID | None
) -> Principal:
    roles: dict[str, Role] = {}
    for name, role in s.execute(
        select(NamespaceRow.name, MembershipRow.role)
        .join(NamespaceRow, NamespaceRow.id == MembershipRow.namespace_id)
        .where(MembershipRow.user_id == user.id)
    ):
        roles[name] = Role[role.upper()]
    capacities: dict[str, set[str]] = defaultdict(set)
    for name, capacity in s.execute(
        select(NamespaceRow.name, CapacityRow.capacity)
        .join(NamespaceRow, NamespaceRow.id == CapacityRow.namespace_id)
        .where(CapacityRow.user_id == user.id)
    ):
        capacities[name].add(capacity)
    return Principal(
        user_id=user.id,
        name=user.name,
        kind=user.kind,
        is_admin=user.is_admin,
        roles=roles,
        capacities={ns: frozenset(c) for ns, c in capacities.items()},
        scopes=scopes,
        token_id=token_id,
    )
