"""The callers of API tokens and namespaces' visibility, kept in memory, never stale.

Signing a request in from the database takes four queries (token and user, memberships,
reviewer capacities, last use) and deciding on its target one more (the namespace's
visibility): more than the registry work of most requests. This cache keeps both per process,
and makes them exact across processes with one cheap read per request:

    request ──> generation = SELECT generation FROM cache_generations WHERE name = 'access'
                   │
                   ├─ entry for sha256(token) loaded at this generation, younger than the TTL
                   │      -> its principal (expiry still checked against the clock)
                   └─ otherwise -> load from the database, keep it tagged with ``generation``

Database triggers (migration 0006) bump the generation in the transaction of every change to
tokens, users, memberships, reviewer capacities and namespaces' names or visibility, whichever
process or command makes it. An entry is used only by a request that read the generation the
entry was loaded at, and an entry is loaded *after* that read: a change that commits in
between is newer than the tag, so the next request reads a new generation and reloads. A
revoked token, a new role or a disabled account therefore counts from the next request on.

The TTL (30 s) bounds how long an entry lives even when nothing changes, and the number of
entries is bounded; unknown and refused tokens are never kept. Web sessions are not cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from modelyard.db import queries
from modelyard.db.engine import Database
from modelyard.db.types import utcnow
from modelyard.domain.access import Principal
from modelyard.services import identity, tokens

TTL_SECONDS = 30.0
MAX_ENTRIES = 10_000


class AccessChanged(Exception):
    """A write checked against an assumed access generation found another one in its own
    transaction (``services/versions.py``): it was rolled back, and the request must be signed
    in and authorised again. Never an HTTP error: the fast path catches it."""


V = TypeVar("V")


@dataclass
class Held(Generic[V]):
    """A cached value and the generation it was loaded at."""

    value: V
    generation: int
    loaded_at: float


@dataclass
class _Slots(Generic[V]):
    """Entries by key, each valid only at the generation it was loaded at."""

    ttl: float
    limit: int
    clock: Callable[[], float]
    entries: dict[str, Held[V]] = field(default_factory=dict)

    def get(self, key: str, generation: int) -> Held[V] | None:
        entry = self.entries.get(key)
        if entry is None or entry.generation != generation:
            return None
        if self.clock() - entry.loaded_at >= self.ttl:
            return None
        return entry

    def put(self, key: str, value: V, generation: int) -> Held[V]:
        if len(self.entries) >= self.limit and key not in self.entries:
            self.entries.pop(next(iter(self.entries)), None)  # the oldest insertion
        entry = Held(value, generation, self.clock())
        self.entries[key] = entry
        return entry

    def drop(self, key: str) -> None:
        self.entries.pop(key, None)


class AccessCache:
    """One per app (``create_app``). Safe to share between the threads of a worker: each
    entry carries its generation, so a slow thread's older load is never served as newer."""

    def __init__(
        self,
        ttl_seconds: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._tokens: _Slots[tokens.TokenCaller] = _Slots(ttl_seconds, max_entries, clock)
        self._visibility: _Slots[str | None] = _Slots(ttl_seconds, max_entries, clock)
        self._seen = -1

    def generation(self, db: Database) -> int:
        """The access generation now (0 while no change has been counted)."""
        generation = int(db.peek(queries.ACCESS_GENERATION) or 0)
        if generation != self._seen:  # everything held is stale: free it
            self._seen = generation
            self._tokens.entries.clear()
            self._visibility.entries.clear()
        return generation

    def sign_in(self, db: Database, secret: str) -> tuple[Principal, int]:
        """The principal of a bearer token and the generation it was checked at, or
        UnauthenticatedError (401) as ``tokens.authenticate`` raises it.

        A malformed token is refused before any database work; one held here was well formed
        when it was loaded (the key is its SHA-256), so it is not checked again."""
        key = tokens.digest(secret)
        if key not in self._tokens.entries:
            tokens.check_well_formed(secret)
        now = utcnow()
        generation = self.generation(db)
        entry = self._tokens.get(key, generation)
        if entry is None:
            with db.read() as s:
                entry = self._tokens.put(key, tokens.load_caller(s, secret, now), generation)
        caller = entry.value
        if caller.expires_at is not None and caller.expires_at <= now:
            self._tokens.drop(key)
            tokens.check_not_expired(caller.expires_at, now)  # raises TOKEN_EXPIRED
        if tokens.needs_touch(caller.last_used_at, now):
            tokens.touch(db, caller.principal, now)
            entry.value = tokens.TokenCaller(caller.principal, caller.expires_at, now)
        return caller.principal, generation

    def held_sign_in(self, secret: str) -> tuple[Principal, int] | None:
        """``sign_in`` without reading the generation, when nothing could be decided or done
        differently by a read: the token is held at the generation this process read last,
        unexpired, and its use was recorded recently enough. ``None`` otherwise. No database
        work, no side effect: the caller must make its write check that the generation is
        still this one (``AccessChanged``), or sign in again."""
        seen = self._seen
        if seen < 0:
            return None
        entry = self._tokens.get(tokens.digest(secret), seen)
        if entry is None:
            return None
        caller = entry.value
        now = utcnow()
        if caller.expires_at is not None and caller.expires_at <= now:
            return None
        if tokens.needs_touch(caller.last_used_at, now):
            return None
        return caller.principal, seen

    def held_visibility(self, namespace: str, generation: int) -> Held[str | None] | None:
        """The namespace's visibility if held for ``generation`` (no database work)."""
        return self._visibility.get(namespace, generation)

    def load_visibility(self, db: Database, namespace: str, generation: int) -> str | None:
        """Read the namespace's visibility (``None``: no such namespace) and keep it."""
        value = identity.namespace_visibility(db, namespace)
        self._visibility.put(namespace, value, generation)
        return value
