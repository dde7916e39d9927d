"""Namespaces' tightenings of the server's policy (which ``services/policy_file.py`` reads).

A namespace's override is stored as its document and merged in (``Policy.tightened``) wherever
the namespace's rules are needed; one that would loosen the server's policy is refused when it
is set (POLICY_LOOSENS). Should the server's policy change so
that a stored override no longer fits (it names a stage that is gone), transitions in that
namespace are refused (POLICY_INVALID) until a maintainer sets it again: fail closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import NamespacePolicyRow, NamespaceRow
from modelyard.db.types import utcnow
from modelyard.domain.policy import (
    NamespacePolicy,
    Policy,
    PolicyError,
    PolicyLoosensError,
    loosenings,
)
from modelyard.domain.policy_document import (
    check_merged,
    parse_override,
)
from modelyard.services import audit
from modelyard.services.lookup import namespace_row

# ---------------------------------------------------------------------------- namespaces


def _source(namespace: str) -> str:
    return f"namespace {namespace}"


def _stored(s: Session, namespace: str) -> NamespacePolicyRow | None:
    stmt = (
        select(NamespacePolicyRow)
        .join(NamespaceRow, NamespaceRow.id == NamespacePolicyRow.namespace_id)
        .where(NamespaceRow.name == namespace)
    )
    return s.scalars(stmt).first()


def effective(s: Session, policy: Policy, namespace: str) -> Policy:
    """The rules in force in ``namespace``: the server's, tightened by its override."""
    row = _stored(s, namespace)
    if row is None:
        return policy
    try:
        merged = policy.tightened(parse_override(row.document, policy, _source(namespace)))
        check_merged(merged, _source(namespace))
    except PolicyError as exc:
        raise PolicyError(
            [
                (
                    "",
                    f"{exc.message}; the server's policy changed since it was set: a maintainer"
                    " must set the namespace's policy again",
                )
            ],
            _source(namespace),
        ) from None
    return merged


def get_namespace_policy(db: Database, policy: Policy, namespace: str) -> NamespacePolicy:
    with db.read() as s:
        namespace_row(s, namespace)  # NAMESPACE_NOT_FOUND
        return _record(s, policy, namespace)


def _record(s: Session, policy: Policy, namespace: str) -> NamespacePolicy:
    row = _stored(s, namespace)
    if row is None:
        return NamespacePolicy(namespace, None, policy)
    override = parse_override(row.document, policy, _source(namespace))
    return NamespacePolicy(
        namespace, override, effective(s, policy, namespace), row.updated_by, row.updated_at
    )


def set_namespace_policy(
    db: Database, actor: str, policy: Policy, namespace: str, document: str | Mapping[str, Any]
) -> NamespacePolicy:
    """Store ``document`` (YAML text or a mapping) as the namespace's override. POLICY_INVALID
    when it does not validate, POLICY_LOOSENS when it would loosen the server's policy."""
    override = parse_override(document, policy, _source(namespace))
    found = loosenings(policy, override)
    if found:
        raise PolicyLoosensError(namespace, found)
    check_merged(policy.tightened(override), _source(namespace))
    doc = override.to_document()
    with db.write() as s:
        ns = namespace_row(s, namespace, for_update=True)
        row = s.get(NamespacePolicyRow, ns.id)
        before = row.document if row is not None else None
        if row is None:
            row = NamespacePolicyRow(namespace_id=ns.id, document=doc, updated_by=actor)
            s.add(row)
        row.document, row.updated_by, row.updated_at = doc, actor, utcnow()
        s.flush()
        audit.record(
            s, actor, "policy.updated", namespace, namespace=namespace,
            before={"override": before}, after={"override": doc},
        )  # fmt: skip
        return _record(s, policy, namespace)


def remove_namespace_policy(
    db: Database, actor: str, policy: Policy, namespace: str
) -> NamespacePolicy:
    """Go back to the server's policy in ``namespace`` (nothing happens if it has no override)."""
    with db.write() as s:
        ns = namespace_row(s, namespace, for_update=True)
        row = s.get(NamespacePolicyRow, ns.id)
        if row is not None:
            audit.record(
                s, actor, "policy.removed", namespace, namespace=namespace,
                before={"override": row.document}, after={"override": None},
            )  # fmt: skip
            s.delete(row)
        return NamespacePolicy(namespace, None, policy)
