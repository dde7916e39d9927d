"""The access generation (migration 0006's triggers) moves with every change to who may do
what, on SQLite and PostgreSQL, and stays put for changes that do not matter to access."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modelyard.db import queries
from modelyard.db.engine import Database
from modelyard.domain.access import Role
from modelyard.services import namespaces, teams, tokens, users
from tests import identity as make

Change = Callable[[Database], object]


def _generation(db: Database) -> int:
    return int(db.peek(queries.ACCESS_GENERATION) or 0)


def _token_id(db: Database, owner: str) -> str:
    return tokens.list_tokens(db, owner)[0].id


@pytest.fixture
def world(db: Database) -> Database:
    """Team ``alpha`` (private) where ``ann`` is a contributor holding one token; ``root`` is a
    second global admin (so ``admin`` may be demoted)."""
    make.admin_token(db)
    make.user(db, "root", admin=True)
    make.team(db, "alpha", ann=Role.CONTRIBUTOR)
    make.token(db, "ann")
    return db


BUMPS: dict[str, Change] = {
    "revoke a token": lambda db: tokens.revoke_token(db, _token_id(db, "ann")),
    "change a role": lambda db: teams.set_member(db, "t", "alpha", "ann", Role.VIEWER),
    "add a member": lambda db: teams.set_member(db, "t", "alpha", "root", Role.VIEWER),
    "remove a member": lambda db: teams.remove_member(db, "alpha", "ann"),
    "grant a capacity": lambda db: teams.grant_capacity(
        db, "t", "alpha", "ann", "legal", ("legal",)
    ),
    "make an admin": lambda db: users.set_admin(db, "ann", True),
    "demote an admin": lambda db: users.set_admin(db, "admin", False),
    "disable a user": lambda db: users.set_disabled(db, "ann", True),
    "change visibility": lambda db: teams.set_visibility(db, "alpha", "internal"),
    "create a namespace": lambda db: namespaces.create_namespace(db, "root", "beta"),
}


@pytest.mark.parametrize("what", list(BUMPS))
def test_every_change_to_access_moves_the_generation(world: Database, what: str) -> None:
    before = _generation(world)
    BUMPS[what](world)
    assert _generation(world) > before


def test_a_capacity_revoked_moves_the_generation(world: Database) -> None:
    teams.grant_capacity(world, "t", "alpha", "ann", "legal", ("legal",))
    before = _generation(world)
    teams.revoke_capacity(world, "alpha", "ann", "legal")
    assert _generation(world) > before


STAYS: dict[str, Change] = {
    # Issuing a token inserts a row (nobody can hold it in a cache yet); its first use
    # writes last_used_at, as every use a minute after the last one does.
    "a token is issued and used": lambda db: tokens.authenticate(db, make.token(db, "ann")),
    "a profile is edited": lambda db: users.update_user(db, "ann", display_name="Ann", email="a@x"),
    "a namespace description is edited": lambda db: namespaces.update_namespace(
        db, "t", "alpha", "new words"
    ),
}


@pytest.mark.parametrize("what", list(STAYS))
def test_changes_that_do_not_touch_access_leave_the_generation(world: Database, what: str) -> None:
    before = _generation(world)
    STAYS[what](world)
    assert _generation(world) == before
