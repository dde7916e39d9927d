"""Questions about the caller that the API and other capabilities ask: who am I, may this
principal approve, how visible is a namespace. (The principal itself is built by
``services/principals.py``.)"""

from __future__ import annotations

from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import ApiTokenRow, ArtifactRow, NamespaceRow, UserRow, VersionRow
from modelyard.domain import access
from modelyard.domain.access import Principal
from modelyard.domain.accounts import Identity
from modelyard.services.teams import memberships_of
from modelyard.services.tokens import token_record
from modelyard.services.users import user_record


def namespace_visibility(db: Database, namespace: str) -> str | None:
    """The namespace's visibility, or ``None`` when there is no such namespace."""
    with db.read() as s:
        return s.scalar(select(NamespaceRow.visibility).where(NamespaceRow.name == namespace))


def blob_holders(db: Database, digest: str) -> list[tuple[str, str, str]]:
    """(namespace, model, namespace visibility) of every model with a version holding
    ``digest``: who may read one of them may read the blob."""
    stmt = (
        select(VersionRow.namespace, VersionRow.model_name, NamespaceRow.visibility)
        .join(ArtifactRow, ArtifactRow.version_id == VersionRow.id)
        .join(NamespaceRow, NamespaceRow.name == VersionRow.namespace)
        .where(ArtifactRow.digest == digest)
        .distinct()
    )
    with db.read() as s:
        return [(ns, model, visibility) for ns, model, visibility in s.execute(stmt)]


def blob_holders_of(db: Database, digests: list[str]) -> dict[str, list[tuple[str, str, str]]]:
    """``blob_holders`` of many digests at once (a digest no version holds is left out)."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    with db.read() as s:
        for i in range(0, len(digests), 500):
            stmt = (
                select(
                    ArtifactRow.digest,
                    VersionRow.namespace,
                    VersionRow.model_name,
                    NamespaceRow.visibility,
                )
                .join(ArtifactRow, ArtifactRow.version_id == VersionRow.id)
                .join(NamespaceRow, NamespaceRow.name == VersionRow.namespace)
                .where(ArtifactRow.digest.in_(digests[i : i + 500]))
                .distinct()
            )
            for digest, ns, model, visibility in s.execute(stmt):
                found.setdefault(digest, []).append((ns, model, visibility))
    return found


def can_approve(principal: Principal, namespace: str, model: str | None, capacity: str) -> bool:
    """May ``principal`` vote on a transition in ``namespace`` acting as ``capacity``? Service
    accounts never may (see ``domain.access.can_approve``); the governance capability calls this
    before it records a vote."""
    return access.can_approve(principal, namespace, model, capacity)


def whoami(db: Database, principal: Principal) -> Identity:
    with db.read() as s:
        user = s.get_one(UserRow, principal.user_id)
        token = s.get(ApiTokenRow, principal.token_id) if principal.token_id else None
        return Identity(
            user=user_record(s, user),
            via=principal.via,
            token=token_record(token, user.name) if token is not None else None,
            memberships=memberships_of(s, user),
        )
