"""What a caller may read, as SQL: the ``WHERE`` clause that keeps lists spanning namespaces
(model and version search, namespace lists) to the rows ``domain.access.Readable`` allows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from modelyard.db.tables import NamespaceRow
from modelyard.domain.access import Readable


def readable_clause(
    readable: Readable, namespace: Any, model: Any | None = None
) -> ColumnElement[bool]:
    """``namespace`` and ``model`` are the columns holding a row's namespace and model name
    (``model`` is ``None`` for namespace rows)."""
    if readable.everything:
        rights: ColumnElement[bool] = true()
    else:
        internal = select(NamespaceRow.name).where(NamespaceRow.visibility == "internal")
        rights = or_(namespace.in_(sorted(readable.members_of)), namespace.in_(internal))
    return and_(rights, _scoped(readable, namespace, model))


def _scoped(readable: Readable, namespace: Any, model: Any | None) -> ColumnElement[bool]:
    if readable.scoped_namespaces is None:
        return true()
    parts = [namespace.in_(sorted(readable.scoped_namespaces))]
    if model is None:  # a model-scoped token sees the namespace that holds its model
        parts.append(namespace.in_(sorted({ns for ns, _ in readable.scoped_models})))
    else:
        parts += [and_(namespace == ns, model == m) for ns, m in sorted(readable.scoped_models)]
    return or_(false(), *parts)
