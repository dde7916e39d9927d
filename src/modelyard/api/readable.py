"""What a caller may read, as a namespace predicate, for answers that span namespaces
(dataset lists, lineage graphs, the inventory): one look-up of every namespace's visibility,
then the access layer's own rule (``domain.access.decide``) per namespace."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from modelyard.api.calls import run
from modelyard.db.engine import Database
from modelyard.domain import access
from modelyard.domain.access import Decision, Principal
from modelyard.services.inventory import namespace_visibilities

Readable = Callable[[str], bool]


async def readable_by(db: Database, who: Principal) -> Readable:
    visibility = await run(db, namespace_visibilities, db)

    @cache
    def may_read(namespace: str) -> bool:
        decision = access.decide(who, access.READ, namespace, None, visibility.get(namespace))
        return decision is Decision.ALLOW

    return may_read
