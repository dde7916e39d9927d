"""Users, tokens, sessions and teams through the services, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import ApiTokenRow
from modelyard.db.types import utcnow
from modelyard.domain.access import Role, Scope
from modelyard.domain.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    UnauthenticatedError,
)
from modelyard.services import identity, namespaces, sessions, teams, tokens, users
from tests import identity as make

CAPACITIES = ("technical", "business", "legal")


def test_a_token_authenticates_as_its_user_with_its_scopes(db: Database) -> None:
    make.team(db, "risk", ann=Role.CONTRIBUTOR)
    secret = make.token(db, "ann", ["read:risk"])
    who = tokens.authenticate(db, secret)
    assert (who.name, who.kind, who.is_admin) == ("ann", "user", False)
    assert who.roles == {"risk": Role.CONTRIBUTOR}
    assert who.scopes == (Scope("read", "risk"),)
    assert who.token_id is not None


@pytest.mark.parametrize("secret", ["", "nope", "myd_" + "a" * 38])
def test_a_malformed_token_is_token_invalid(db: Database, secret: str) -> None:
    with pytest.raises(UnauthenticatedError) as err:
        tokens.authenticate(db, secret)
    assert err.value.code == "TOKEN_INVALID"


def test_a_well_formed_but_unknown_token_is_token_invalid(db: Database) -> None:
    make.user(db, "ann")
    secret = make.token(db, "ann")
    with db.write() as s:
        s.execute(ApiTokenRow.__table__.delete())
    with pytest.raises(UnauthenticatedError) as err:
        tokens.authenticate(db, secret)
    assert err.value.code == "TOKEN_INVALID"


def test_revoked_and_expired_tokens_are_refused(db: Database) -> None:
    make.user(db, "ann")
    revoked = make.token(db, "ann")
    tokens.revoke_token(db, tokens.list_tokens(db, "ann")[0].id)
    expiring = tokens.issue_token(
        db, "t", "ann", "soon", (Scope("read"),), utcnow() + timedelta(seconds=60)
    )
    with db.write() as s:
        row = s.get_one(ApiTokenRow, _uuid(expiring.token.id))
        row.expires_at = utcnow() - timedelta(seconds=1)
    for secret, code in [(revoked, "TOKEN_REVOKED"), (expiring.secret, "TOKEN_EXPIRED")]:
        with pytest.raises(UnauthenticatedError) as err:
            tokens.authenticate(db, secret)
        assert err.value.code == code


def test_a_disabled_users_tokens_stop_working(db: Database) -> None:
    make.user(db, "root", admin=True)
    make.user(db, "ann")
    secret = make.token(db, "ann")
    users.set_disabled(db, "ann", True)
    with pytest.raises(UnauthenticatedError):
        tokens.authenticate(db, secret)
    users.set_disabled(db, "ann", False)
    assert tokens.authenticate(db, secret).name == "ann"


def test_a_token_in_the_past_cannot_be_issued(db: Database) -> None:
    make.user(db, "ann")
    with pytest.raises(InvalidInputError):
        tokens.issue_token(db, "t", "ann", "x", (Scope("read"),), utcnow() - timedelta(days=1))


def test_last_used_is_recorded_on_use(db: Database) -> None:
    make.user(db, "ann")
    secret = make.token(db, "ann")
    assert tokens.list_tokens(db, "ann")[0].last_used_at is None
    tokens.authenticate(db, secret)
    assert tokens.list_tokens(db, "ann")[0].last_used_at is not None


def test_only_a_digest_and_the_ends_of_a_token_are_stored(db: Database) -> None:
    make.user(db, "ann")
    secret = make.token(db, "ann")
    with db.read() as s:
        row = s.scalars(select(ApiTokenRow)).one()
    assert (row.prefix, row.last_four) == (secret[:8], secret[-4:])
    assert row.digest == tokens.digest(secret) != secret


def test_the_last_global_admin_cannot_be_demoted_or_disabled(db: Database) -> None:
    make.user(db, "root", admin=True)
    for change in (
        lambda: users.set_admin(db, "root", False),
        lambda: users.set_disabled(db, "root", True),
    ):
        with pytest.raises(ConflictError) as err:
            change()
        assert err.value.code == "LAST_ADMIN"
    make.user(db, "second", admin=True)
    assert not users.set_admin(db, "root", False).admin


def test_user_names_are_unique_and_checked(db: Database) -> None:
    make.user(db, "ann")
    with pytest.raises(ConflictError) as err:
        make.user(db, "ann")
    assert err.value.code == "USER_EXISTS"
    with pytest.raises(InvalidInputError) as bad:
        make.user(db, "Ann Smith")
    assert bad.value.code == "NAME_INVALID"


def test_login_checks_the_password_and_answers_alike_for_every_failure(db: Database) -> None:
    users.create_user(db, "t", "ann", password="correct horse")
    make.team(db, "risk")
    users.create_service_account(db, "t", "ci", "risk", Role.CONTRIBUTOR)
    assert sessions.check_password(db, "ann", "correct horse").name == "ann"
    for name, password in [("ann", "wrong horse"), ("nobody", "correct horse"), ("ci", "")]:
        with pytest.raises(UnauthenticatedError) as err:
            sessions.check_password(db, name, password)
        assert (err.value.code, err.value.message) == (
            "LOGIN_FAILED",
            "wrong user name or password",
        )


def test_a_session_stands_for_its_user_until_it_ends(db: Database) -> None:
    make.user(db, "ann")
    secret = sessions.start(db, "ann", ttl_seconds=3600)
    who = sessions.principal(db, secret)
    assert who is not None
    assert who.name == "ann"
    assert who.via == "session"
    sessions.end(db, secret)
    assert sessions.principal(db, secret) is None


def test_an_expired_session_is_no_session(db: Database) -> None:
    make.user(db, "ann")
    assert sessions.principal(db, sessions.start(db, "ann", ttl_seconds=0)) is None


def test_a_password_change_ends_every_session(db: Database) -> None:
    users.create_user(db, "t", "ann", password="correct horse")
    secret = sessions.start(db, "ann", ttl_seconds=3600)
    users.set_password(db, "ann", "battery staple", current="correct horse")
    assert sessions.principal(db, secret) is None
    with pytest.raises(InvalidInputError):
        users.set_password(db, "ann", "another one!", current="wrong")


def test_a_namespaces_creator_becomes_its_admin(db: Database) -> None:
    ann = make.user(db, "ann")
    with db.read() as s:
        from modelyard.services.users import user_row

        ann_id = user_row(s, ann.name).id
    namespaces.create_namespace(db, "ann", "risk", owner=ann_id)
    assert [(m.user, m.role) for m in teams.list_members(db, "risk")] == [("ann", "admin")]


def test_members_roles_change_but_the_last_admin_stays(db: Database) -> None:
    make.team(db, "risk", ann=Role.ADMIN, bob=Role.VIEWER)
    assert teams.set_member(db, "t", "risk", "bob", Role.MAINTAINER).role == "maintainer"
    with pytest.raises(ConflictError) as err:
        teams.set_member(db, "t", "risk", "ann", Role.VIEWER)
    assert err.value.code == "LAST_ADMIN"
    with pytest.raises(ConflictError):
        teams.remove_member(db, "risk", "ann")
    teams.remove_member(db, "risk", "bob")
    with pytest.raises(NotFoundError) as gone:
        teams.remove_member(db, "risk", "bob")
    assert gone.value.code == "MEMBER_NOT_FOUND"


def test_capacities_belong_to_members_and_go_with_them(db: Database) -> None:
    make.team(db, "risk", ann=Role.ADMIN, bob=Role.VIEWER)
    make.user(db, "carl")
    member = teams.grant_capacity(db, "t", "risk", "bob", "legal", CAPACITIES)
    assert member.capacities == ["legal"]
    with pytest.raises(NotFoundError):
        teams.grant_capacity(db, "t", "risk", "carl", "legal", CAPACITIES)
    with pytest.raises(InvalidInputError) as bad:
        teams.grant_capacity(db, "t", "risk", "bob", "astrology", CAPACITIES)
    assert bad.value.code == "CAPACITY_INVALID"
    teams.remove_member(db, "risk", "bob")
    teams.set_member(db, "t", "risk", "bob", Role.VIEWER)
    assert teams.list_members(db, "risk")[1].capacities == []


def test_service_accounts_hold_no_capacity_and_cannot_approve(db: Database) -> None:
    make.team(db, "risk", ann=Role.ADMIN)
    users.create_service_account(db, "ann", "ci", "risk", Role.MAINTAINER)
    with pytest.raises(ConflictError) as err:
        teams.grant_capacity(db, "t", "risk", "ci", "technical", CAPACITIES)
    assert err.value.code == "SERVICE_ACCOUNT_NOT_ALLOWED"
    robot = tokens.authenticate(db, make.token(db, "ci"))
    assert robot.is_service
    assert not identity.can_approve(robot, "risk", "fraud", "technical")


def test_a_reviewer_with_the_capacity_can_approve(db: Database) -> None:
    make.team(db, "risk", ann=Role.ADMIN, rita=Role.VIEWER)
    teams.grant_capacity(db, "ann", "risk", "rita", "legal", CAPACITIES)
    rita = tokens.authenticate(db, make.token(db, "rita"))
    assert identity.can_approve(rita, "risk", "fraud", "legal")
    assert not identity.can_approve(rita, "risk", "fraud", "technical")


def test_whoami_tells_user_token_and_memberships(db: Database) -> None:
    make.team(db, "risk", ann=Role.MAINTAINER)
    me = identity.whoami(db, tokens.authenticate(db, make.token(db, "ann", ["read:*"])))
    assert (me.user.name, me.via) == ("ann", "token")
    assert me.token is not None
    assert me.token.scopes == ["read:*"]
    assert [(m.namespace, m.role) for m in me.memberships] == [("risk", "maintainer")]


def _uuid(text: str):  # type: ignore[no-untyped-def]
    import uuid

    return uuid.UUID(text)
