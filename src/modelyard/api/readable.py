"""What a caller may read, as a namespace predicate, for answers that span namespaces and are
built in Python (dataset lists, lineage graphs, affected versions, package users).

The rule is the access layer's (``domain.access.Readable``, compiled to SQL for searches by
``db/visibility.py``): a global admin reads everything; others the namespaces they belong to
and the internal ones, narrowed by their token's scopes (a model-scoped token counts for the
namespace that holds its model, as in namespace lists).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from modelyard.api.calls import run
from modelyard.db.engine import Database
from modelyard.domain import access
from modelyard.domain.access import Principal
from modelyard.services.inventory import namespace_visibilities

NamespacePredicate = Callable[[str], bool]


async def readable_by(db: Database, who: Principal) -> NamespacePredicate:
    rights = access.readable(who)
    if rights.everything and rights.scoped_namespaces is None:
        return _everything
    visibility = await run(db, namespace_visibilities, db)
    scoped = rights.scoped_namespaces
    if scoped is not None:
        scoped = scoped | {namespace for namespace, _ in rights.scoped_models}

    @cache
    def may_read(namespace: str) -> bool:
        member = (
            rights.everything
            or namespace in rights.members_of
            or visibility.get(namespace) == "internal"
        )
        return member and (scoped is None or namespace in scoped)

    return may_read


def _everything(namespace: str) -> bool:
    return True
