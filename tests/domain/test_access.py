from __future__ import annotations

import uuid

import pytest

from modelyard.domain.access import (
    FULL_SCOPES,
    MANAGE,
    OWN,
    READ,
    TOKEN_LENGTH,
    WRITE,
    Decision,
    Principal,
    Role,
    Scope,
    can_approve,
    decide,
    display_parts,
    is_well_formed_token,
    new_token,
    parse_role,
    parse_scopes,
)
from modelyard.domain.errors import InvalidInputError


def principal(
    roles: dict[str, Role] | None = None,
    scopes: list[str] | None = None,
    admin: bool = False,
    kind: str = "user",
    capacities: dict[str, frozenset[str]] | None = None,
) -> Principal:
    return Principal(
        user_id=uuid.uuid4(),
        name="ann",
        kind=kind,
        is_admin=admin,
        roles=roles or {},
        capacities=capacities or {},
        scopes=None if scopes is None else tuple(Scope.parse(s) for s in scopes),
    )


# ----------------------------------------------------------------------------- tokens


def test_new_tokens_have_the_prefix_the_length_and_a_valid_checksum() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert token.startswith("myd_")
        assert len(token) == TOKEN_LENGTH
        assert is_well_formed_token(token)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # checksum off by one character
        lambda t: t[:10] + ("x" if t[10] != "x" else "y") + t[11:],  # secret changed
        lambda t: "ghp_" + t[4:],
        lambda t: t + "0",
        lambda t: t[:-1],
        lambda t: t[:20] + "-" + t[21:],
        lambda t: "",
    ],
)
def test_mangled_tokens_are_not_well_formed(mangle) -> None:  # type: ignore[no-untyped-def]
    assert not is_well_formed_token(mangle(new_token()))


def test_display_parts_are_the_first_eight_and_last_four_characters() -> None:
    token = new_token()
    prefix, last_four = display_parts(token)
    assert (prefix, last_four) == (token[:8], token[-4:])
    assert prefix.startswith("myd_")


# ----------------------------------------------------------------------------- scopes


@pytest.mark.parametrize(
    ("text", "scope"),
    [
        ("read:*", Scope("read")),
        ("write:risk-team", Scope("write", "risk-team")),
        ("admin:risk-team/fraud", Scope("admin", "risk-team", "fraud")),
    ],
)
def test_scopes_parse_and_print_back(text: str, scope: Scope) -> None:
    assert Scope.parse(text) == scope
    assert str(scope) == text


@pytest.mark.parametrize(
    "text", ["read", "fly:*", "read:", "read:Risk", "read:a/b/c", "write:team/", ":*"]
)
def test_malformed_scopes_are_scope_invalid(text: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        Scope.parse(text)
    assert err.value.code == "SCOPE_INVALID"


def test_no_scopes_means_every_action_everywhere() -> None:
    assert parse_scopes(None) == FULL_SCOPES
    assert parse_scopes([]) == FULL_SCOPES
    assert parse_scopes(["read:a", "read:a"]) == (Scope("read", "a"),)


def test_write_implies_read_and_admin_never_implies_approve() -> None:
    assert Scope("write").covers("read", "a", None)
    assert not Scope("read").covers("write", "a", None)
    assert Scope("admin").covers("write", "a", "m")
    assert not Scope("admin").covers("approve", "a", "m")


def test_a_model_scope_covers_that_model_and_reading_its_namespace_only() -> None:
    scope = Scope.parse("write:team/x")
    assert scope.covers("write", "team", "x")
    assert not scope.covers("write", "team", "y")
    assert not scope.covers("read", "team", "y")
    assert scope.covers("read", "team", None)
    assert not scope.covers("write", "team", None)
    assert not scope.covers("read", "other", None)


def test_a_scope_includes_only_narrower_ones() -> None:
    assert Scope("admin").includes(Scope("write", "a", "m"))
    assert Scope("write", "a").includes(Scope("read", "a", "m"))
    assert not Scope("write", "a").includes(Scope("write"))
    assert not Scope("write", "a", "m").includes(Scope("write", "a"))
    assert not Scope("read").includes(Scope("write", "a"))


def test_roles_parse_and_order() -> None:
    assert parse_role("maintainer") is Role.MAINTAINER
    assert Role.VIEWER < Role.CONTRIBUTOR < Role.MAINTAINER < Role.ADMIN
    with pytest.raises(InvalidInputError) as err:
        parse_role("owner")
    assert err.value.code == "ROLE_INVALID"


# -------------------------------------------------------------------------- decisions


def test_private_namespaces_are_hidden_from_non_members() -> None:
    assert decide(principal(), READ, "b", "m", "private") is Decision.HIDE
    assert decide(principal(), WRITE, "b", None, "private") is Decision.HIDE


def test_missing_namespaces_look_like_hidden_ones_except_to_global_admins() -> None:
    assert decide(principal(), READ, "nope", None, None) is Decision.HIDE
    assert decide(principal(admin=True), READ, "nope", None, None) is Decision.ALLOW


def test_internal_namespaces_are_readable_but_not_writable_by_everyone() -> None:
    assert decide(principal(), READ, "b", "m", "internal") is Decision.ALLOW
    assert decide(principal(), WRITE, "b", "m", "internal") is Decision.FORBID


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {"read"}),
        (Role.CONTRIBUTOR, {"read", "write"}),
        (Role.MAINTAINER, {"read", "write", "manage"}),
        (Role.ADMIN, {"read", "write", "manage", "own"}),
    ],
)
def test_each_role_grants_its_permissions(role: Role, allowed: set[str]) -> None:
    who = principal(roles={"a": role})
    granted = {
        p.name
        for p in (READ, WRITE, MANAGE, OWN)
        if decide(who, p, "a", "m", "private").name == "ALLOW"
    }
    assert granted == allowed


def test_token_scopes_narrow_the_users_rights() -> None:
    read_only = principal(roles={"a": Role.ADMIN}, scopes=["read:*"])
    assert decide(read_only, READ, "a", "m", "private") is Decision.ALLOW
    assert decide(read_only, WRITE, "a", "m", "private") is Decision.FORBID


def test_a_token_scoped_to_another_model_cannot_see_this_one() -> None:
    only_x = principal(roles={"a": Role.ADMIN}, scopes=["write:a/x"])
    assert decide(only_x, WRITE, "a", "x", "private") is Decision.ALLOW
    assert decide(only_x, READ, "a", "y", "private") is Decision.HIDE
    assert decide(only_x, WRITE, "a", "y", "internal") is Decision.HIDE


def test_scopes_never_add_rights_the_user_lacks() -> None:
    viewer = principal(roles={"a": Role.VIEWER}, scopes=["admin:*"])
    assert decide(viewer, WRITE, "a", "m", "private") is Decision.FORBID


def test_global_admins_may_do_anything_their_token_allows() -> None:
    assert decide(principal(admin=True), OWN, "a", None, "private") is Decision.ALLOW
    limited = principal(admin=True, scopes=["read:a"])
    assert decide(limited, WRITE, "a", "m", "private") is Decision.FORBID
    assert decide(limited, READ, "b", "m", "private") is Decision.HIDE


def test_approval_needs_the_capacity_and_the_approve_scope() -> None:
    reviewer = principal(roles={"a": Role.VIEWER}, capacities={"a": frozenset({"legal"})})
    assert can_approve(reviewer, "a", "m", "legal")
    assert not can_approve(reviewer, "a", "m", "business")
    assert not can_approve(reviewer, "b", "m", "legal")
    scoped = principal(
        roles={"a": Role.VIEWER}, capacities={"a": frozenset({"legal"})}, scopes=["admin:*"]
    )
    assert not can_approve(scoped, "a", "m", "legal")


def test_service_accounts_never_approve() -> None:
    robot = principal(
        kind="service",
        admin=True,
        roles={"a": Role.ADMIN},
        capacities={"a": frozenset({"technical"})},
        scopes=["approve:*"],
    )
    assert not can_approve(robot, "a", "m", "technical")
