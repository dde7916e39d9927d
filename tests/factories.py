"""Small factories for service-level tests: they build real rows through the services.

Each factory fills in what a test does not care about (a namespace that does not exist yet is
created, names are derived from a counter) and returns the domain record, so a test states
only what matters to it.
"""

from __future__ import annotations

import contextlib
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from modelyard.db.engine import Database
from modelyard.domain.errors import ConflictError
from modelyard.domain.records import Model, Namespace, Version
from modelyard.services import aliases, models, namespaces, versions

ACTOR = "tester"
_counter = itertools.count(1)


def unique_name(prefix: str = "m") -> str:
    return f"{prefix}-{next(_counter)}"


def namespace(db: Database, name: str | None = None, description: str = "") -> Namespace:
    return namespaces.create_namespace(db, ACTOR, name or unique_name("ns"), description)


def ensure_namespace(db: Database, name: str) -> None:
    with contextlib.suppress(ConflictError):
        namespaces.create_namespace(db, ACTOR, name)


def model(
    db: Database,
    full_name: str | None = None,
    description: str = "",
    tags: dict[str, str] | None = None,
    risk: str | None = None,
) -> Model:
    """``full_name`` is ``namespace/name``; the namespace is created when missing."""
    ns, _, name = (full_name or f"team/{unique_name()}").partition("/")
    ensure_namespace(db, ns)
    created = models.create_model(db, ACTOR, ns, name, description, tags)
    if risk is not None:
        created = models.set_risk(db, ACTOR, ns, name, risk, f"assessed as {risk}")
    return created


def version(
    db: Database,
    of: Model,
    description: str = "",
    tags: dict[str, str] | None = None,
    metrics: dict[str, Any] | None = None,
    manifest_digest: str | None = None,
) -> Version:
    return versions.create_version(
        db, ACTOR, of.namespace, of.name, description, tags, metrics, manifest_digest
    )


def versions_of(db: Database, of: Model, count: int) -> list[Version]:
    return [version(db, of) for _ in range(count)]


def alias(db: Database, of: Model, name: str, number: int) -> Model:
    return aliases.set_alias(db, ACTOR, of.namespace, of.name, name, number)


ROW_TIME = datetime(2026, 11, 27, 8, 30, 0, 123456, tzinfo=UTC)


def namespace_row(name: str, at: datetime = ROW_TIME) -> dict[str, Any]:
    """A ``namespaces`` row for tests that insert with prepared statements, not the service."""
    return {
        "id": uuid.uuid4(),
        "name": name,
        "description": "",
        "visibility": "private",
        "archived_at": None,
        "created_by": "t",
        "created_at": at,
        "updated_at": at,
    }
