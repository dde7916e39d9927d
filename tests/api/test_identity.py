"""Users, service accounts, tokens, teams and sign-in over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelyard.db.engine import Database
from modelyard.domain.access import Role
from modelyard.services import users
from tests import identity as make

API = "/api/v1"


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


def test_an_admin_creates_users_and_anyone_signed_in_reads_them(
    http: httpx.Client, app: Any, db: Database
) -> None:
    made = _ok(http.post(f"{API}/users", json={"name": "ann", "display_name": "Ann"}), 201)
    assert (made["name"], made["kind"], made["admin"]) == ("ann", "user", False)
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert _ok(ann.get(f"{API}/users/ann"))["display_name"] == "Ann"
        names = [u["name"] for u in _ok(ann.get(f"{API}/users"))["items"]]
        assert names == ["admin", "ann"]
        assert _code(ann.post(f"{API}/users", json={"name": "bob"})) == (403, "PERMISSION_DENIED")


def test_people_edit_themselves_but_not_others(http: httpx.Client, app: Any, db: Database) -> None:
    make.user(db, "ann")
    make.user(db, "bob")
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert _ok(ann.patch(f"{API}/users/ann", json={"email": "a@x"}))["email"] == "a@x"
        assert _code(ann.patch(f"{API}/users/bob", json={"email": "b@x"}))[0] == 403
        assert _code(ann.post(f"{API}/users/bob/disable"))[0] == 403
        assert _code(ann.put(f"{API}/users/ann/admin", json={"admin": True}))[0] == 403


def test_a_user_body_may_not_set_fields_of_dedicated_endpoints(http: httpx.Client) -> None:
    http.post(f"{API}/users", json={"name": "ann"})
    refused = http.patch(f"{API}/users/ann", json={"admin": True, "kind": "service"})
    assert _code(refused) == (422, "VALIDATION_FAILED")
    assert not _ok(http.get(f"{API}/users/ann"))["admin"]


def test_tokens_are_shown_once_then_only_by_hint(http: httpx.Client) -> None:
    issued = _ok(http.post(f"{API}/tokens", json={"name": "laptop", "scopes": ["read:*"]}), 201)
    secret = issued["token"]
    assert secret.startswith("myd_")
    assert issued["hint"] == f"{secret[:8]}…{secret[-4:]}"
    listed = _ok(http.get(f"{API}/tokens"))
    assert secret not in str(listed)
    assert [t["name"] for t in listed] == ["test", "laptop"]


def test_a_token_cannot_mint_a_broader_one(app: Any, db: Database) -> None:
    make.team(db, "risk", ann=Role.ADMIN)
    with make.http_as(app, make.token(db, "ann", ["write:risk"])) as ann:
        ok = ann.post(f"{API}/tokens", json={"name": "n", "scopes": ["read:risk/fraud"]})
        assert ok.status_code == 201
        broader = ann.post(f"{API}/tokens", json={"name": "n", "scopes": ["write:*"]})
        assert _code(broader) == (403, "PERMISSION_DENIED")
        everything = ann.post(f"{API}/tokens", json={"name": "n"})
        assert _code(everything) == (403, "PERMISSION_DENIED")


def test_revoking_a_token_refuses_it_from_the_next_request(app: Any, db: Database) -> None:
    make.user(db, "ann")
    secret = make.token(db, "ann")
    with make.http_as(app, secret) as ann:
        token_id = _ok(ann.get(f"{API}/whoami"))["token"]["id"]
        _ok(ann.delete(f"{API}/tokens/{token_id}"))
        assert _code(ann.get(f"{API}/whoami")) == (401, "TOKEN_REVOKED")


def test_others_tokens_are_listed_and_revoked_only_by_their_managers(
    http: httpx.Client, app: Any, db: Database
) -> None:
    make.user(db, "ann")
    make.user(db, "bob")
    make.token(db, "bob")
    bob_token = _ok(http.get(f"{API}/tokens", params={"user": "bob"}))[0]["id"]
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert _code(ann.get(f"{API}/tokens", params={"user": "bob"}))[0] == 403
        assert _code(ann.delete(f"{API}/tokens/{bob_token}"))[0] == 403
    assert _ok(http.delete(f"{API}/tokens/{bob_token}"))["revoked_at"] is not None


def test_namespace_admins_run_their_service_accounts(app: Any, db: Database) -> None:
    make.team(db, "risk", ann=Role.ADMIN, bob=Role.MAINTAINER)
    body = {"name": "risk-ci", "namespace": "risk", "role": "contributor"}
    with make.http_as(app, make.token(db, "bob")) as bob:
        assert _code(bob.post(f"{API}/service-accounts", json=body))[0] == 403
    with make.http_as(app, make.token(db, "ann")) as ann:
        made = _ok(ann.post(f"{API}/service-accounts", json=body), 201)
        assert (made["kind"], made["owner_namespace"]) == ("service", "risk")
        issued = _ok(ann.post(f"{API}/service-accounts/risk-ci/tokens", json={"name": "ci"}), 201)
        assert issued["user"] == "risk-ci"
        members = _ok(ann.get(f"{API}/namespaces/risk/members"))
        assert ("risk-ci", "contributor") in [(m["user"], m["role"]) for m in members]
        grant = ann.put(f"{API}/namespaces/risk/members/risk-ci/capacities/technical")
        assert _code(grant) == (409, "SERVICE_ACCOUNT_NOT_ALLOWED")
    with make.http_as(app, issued["token"]) as ci:
        assert _ok(ci.get(f"{API}/whoami"))["user"]["name"] == "risk-ci"


def test_people_cannot_be_given_service_account_tokens(http: httpx.Client, db: Database) -> None:
    make.user(db, "ann")
    refused = http.post(f"{API}/service-accounts/ann/tokens", json={"name": "x"})
    assert _code(refused) == (422, "VALIDATION_FAILED")


def test_maintainers_manage_members_but_only_admins_touch_admins(app: Any, db: Database) -> None:
    make.team(db, "risk", ann=Role.ADMIN, bob=Role.MAINTAINER)
    make.user(db, "carl")
    with make.http_as(app, make.token(db, "bob")) as bob:
        added = bob.put(f"{API}/namespaces/risk/members/carl", json={"role": "contributor"})
        assert _ok(added)["role"] == "contributor"
        promote = bob.put(f"{API}/namespaces/risk/members/carl", json={"role": "admin"})
        assert _code(promote) == (403, "PERMISSION_DENIED")
        assert _code(bob.delete(f"{API}/namespaces/risk/members/ann"))[0] == 403
        grant = bob.put(f"{API}/namespaces/risk/members/carl/capacities/legal")
        assert grant.status_code == 403
    with make.http_as(app, make.token(db, "ann")) as ann:
        carl = _ok(ann.put(f"{API}/namespaces/risk/members/carl/capacities/legal"))
        assert carl["capacities"] == ["legal"]
        unknown = ann.put(f"{API}/namespaces/risk/members/carl/capacities/astrology")
        assert _code(unknown) == (400, "CAPACITY_INVALID")
        last = ann.put(f"{API}/namespaces/risk/members/ann", json={"role": "viewer"})
        assert _code(last) == (409, "LAST_ADMIN")


def test_capacities_are_the_configured_ones(http: httpx.Client) -> None:
    assert _ok(http.get(f"{API}/capacities")) == {"capacities": ["technical", "business", "legal"]}


def test_whoami_tells_the_callers_token_roles_and_capacities(app: Any, db: Database) -> None:
    make.team(db, "risk", ann=Role.MAINTAINER)
    with make.http_as(app, make.token(db, "ann", ["read:risk"])) as ann:
        me = _ok(ann.get(f"{API}/whoami"))
    assert (me["user"]["name"], me["via"], me["token"]["scopes"]) == ("ann", "token", ["read:risk"])
    assert me["memberships"] == [
        {"namespace": "risk", "user": "ann", "kind": "user", "role": "maintainer", "capacities": []}
    ]
    assert me["csrf_token"] is None


@pytest.fixture
def ann(db: Database) -> str:
    """A user ``ann`` with the password ``correct horse``."""
    users.create_user(db, "t", "ann", password="correct horse")
    return "ann"


def test_login_starts_a_session_with_a_secure_http_only_cookie(app: Any, ann: str) -> None:
    with make.http_as(app, base_url="https://modelyard.test") as browser:
        signed = browser.post(f"{API}/login", json={"name": ann, "password": "correct horse"})
        cookie = signed.headers["set-cookie"]
        assert "modelyard_session=" in cookie
        for flag in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
            assert flag.lower() in cookie.lower()
        me = _ok(browser.get(f"{API}/whoami"))
        assert (me["user"]["name"], me["via"]) == ("ann", "session")
        assert me["csrf_token"] == _ok(signed)["csrf_token"]
        assert (
            browser.post(f"{API}/logout", headers={"X-CSRF-Token": me["csrf_token"]}).status_code
            == 204
        )
        assert _code(browser.get(f"{API}/whoami")) == (401, "UNAUTHENTICATED")


def test_a_form_login_works_like_a_json_one(app: Any, ann: str) -> None:
    with make.http_as(app, base_url="https://modelyard.test") as browser:
        signed = browser.post(f"{API}/login", data={"name": ann, "password": "correct horse"})
        assert _ok(signed)["user"]["name"] == "ann"


def test_a_wrong_password_is_login_failed(app: Any, ann: str) -> None:
    with make.http_as(app) as browser:
        failed = browser.post(f"{API}/login", json={"name": ann, "password": "wrong horse"})
    assert _code(failed) == (401, "LOGIN_FAILED")
    assert failed.headers["www-authenticate"].startswith("Bearer")
    assert "set-cookie" not in failed.headers


def test_a_session_cookie_change_needs_the_csrf_token(app: Any, ann: str) -> None:
    with make.http_as(app, base_url="https://modelyard.test") as browser:
        signed = browser.post(f"{API}/login", json={"name": ann, "password": "correct horse"})
        csrf = _ok(signed)["csrf_token"]
        assert _code(browser.post(f"{API}/tokens", json={"name": "x"})) == (403, "CSRF_FAILED")
        wrong = {"X-CSRF-Token": "0" * 64}
        assert _code(browser.post(f"{API}/tokens", json={"name": "x"}, headers=wrong))[0] == 403
        right = {"X-CSRF-Token": csrf}
        assert browser.post(f"{API}/tokens", json={"name": "x"}, headers=right).status_code == 201


def test_a_token_in_a_cookie_is_not_a_credential(app: Any, db: Database) -> None:
    make.user(db, "ann")
    secret = make.token(db, "ann")
    with make.http_as(app) as browser:
        for name in ("modelyard_session", "token", "access_token"):
            browser.cookies.set(name, secret)
        assert _code(browser.get(f"{API}/whoami")) == (401, "UNAUTHENTICATED")


def test_a_token_in_the_query_string_is_not_a_credential(app: Any, db: Database) -> None:
    make.user(db, "ann")
    secret = make.token(db, "ann")
    with make.http_as(app) as anonymous:
        for key in ("token", "access_token", "api_key"):
            refused = anonymous.get(f"{API}/whoami", params={key: secret})
            assert _code(refused) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer   ", "myd_x"])
def test_a_malformed_authorization_header_is_token_invalid(app: Any, header: str) -> None:
    with make.http_as(app) as anonymous:
        refused = anonymous.get(f"{API}/whoami", headers={"Authorization": header})
    assert _code(refused) == (401, "TOKEN_INVALID")
