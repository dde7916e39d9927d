"""Factories for identity tests: users, tokens and memberships, made through the services."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx

from modelyard.db.engine import Database
from modelyard.domain.access import Role, parse_scopes
from modelyard.domain.accounts import User
from modelyard.domain.errors import NotFoundError
from modelyard.services import namespaces, teams, tokens, users
from tests.support import sync_transport

ACTOR = "tester"
_counter = itertools.count(1)


def user(
    db: Database, name: str | None = None, password: str | None = None, admin: bool = False
) -> User:
    return users.create_user(db, ACTOR, name or f"user-{next(_counter)}", password, admin=admin)


def token(
    db: Database,
    owner: str,
    scopes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> str:
    """A new token's secret."""
    return tokens.issue_token(db, ACTOR, owner, "test", parse_scopes(scopes), expires_at).secret


def admin_token(db: Database, name: str = "admin") -> str:
    """A global admin (made when missing) and a new token of theirs with every scope."""
    if not users.admin_exists(db):
        user(db, name, admin=True)
    return token(db, name)


def team(db: Database, name: str, visibility: str = "private", **members: Role) -> None:
    """A namespace with ``members`` (user name -> role); users are made when missing."""
    namespaces.create_namespace(db, ACTOR, name, visibility=visibility)
    for member, role in members.items():
        try:
            users.get_user(db, member)
        except NotFoundError:
            user(db, member)
        teams.set_member(db, ACTOR, name, member, role)


@contextmanager
def http_as(
    app: Any, token: str | None = None, base_url: str = "http://modelyard.test", **kwargs: Any
) -> Iterator[httpx.Client]:
    """An httpx client on the app in process, sending ``token`` (none: anonymous)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with (
        sync_transport(app, **kwargs) as transport,
        httpx.Client(transport=transport, base_url=base_url, headers=headers) as client,
    ):
        yield client
