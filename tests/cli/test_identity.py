"""``modelyard login|logout|whoami|users|teams|tokens`` through CliRunner on the app in process."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from modelyard.cli import app as cli_app
from modelyard.client import Client
from modelyard.client import _credentials as credentials
from modelyard.db.engine import Database
from modelyard.services import users
from tests.cli.conftest import fits
from tests.support import sync_transport

URL = "http://modelyard.test"
Run = Callable[..., Result]


@pytest.fixture
def as_user(app: Any) -> Iterator[Callable[[str | None], Run]]:
    """``as_user(token)("whoami")``: the CLI signed in with ``token`` (``None``: the token the
    credentials file holds for the test server)."""
    runner = CliRunner()
    with sync_transport(app) as transport:

        def signed_in(token: str | None) -> Run:
            def factory() -> Client:
                return Client(URL, token=token, transport=transport)

            factory.transport = transport  # type: ignore[attr-defined]  # for login and logout

            def invoke(*args: str, input: str | None = None) -> Result:
                return runner.invoke(cli_app, list(args), obj=factory, input=input)

            return invoke

        yield signed_in


@pytest.fixture
def run(as_user: Callable[[str | None], Run], admin_token: str) -> Run:
    return as_user(admin_token)


def test_users_create_list_show_and_disable(run: Run) -> None:
    assert run("users", "create", "ann", "--name", "Ann Lee").stdout == "created user ann\n"
    listed = run("users", "list")
    assert "ann" in listed.stdout
    assert "Ann Lee" in listed.stdout
    shown = json.loads(run("users", "show", "ann", "--json").stdout)
    assert (shown["name"], shown["admin"]) == ("ann", False)
    assert run("users", "disable", "ann").stdout == "disabled ann\n"
    assert run("users", "admin", "admin", "--revoke").stderr.startswith("error: LAST_ADMIN:")


def test_teams_and_service_account_tokens(run: Run, as_user: Callable[[str | None], Run]) -> None:
    run("namespaces", "create", "risk")
    run("users", "create", "rita")
    assert (
        run("teams", "add", "risk", "rita", "--role", "viewer").stdout == "rita is viewer in risk\n"
    )
    assert "rita reviews as legal" in run("teams", "grant", "risk", "rita", "legal").stdout
    made = run("users", "service-account", "risk-ci", "--team", "risk")
    assert made.stdout == "created service account risk-ci (contributor in risk)\n"
    members = json.loads(run("teams", "members", "risk", "--json").stdout)
    assert {(m["user"], m["role"]) for m in members} >= {
        ("rita", "viewer"),
        ("risk-ci", "contributor"),
    }
    secret = run(
        "tokens", "create", "--for", "risk-ci", "--scope", "write:risk", "-q"
    ).stdout.strip()
    assert secret.startswith("myd_")
    me = json.loads(as_user(secret)("whoami", "--json").stdout)
    assert (me["user"]["name"], me["token"]["scopes"]) == ("risk-ci", ["write:risk"])
    assert run("teams", "visibility", "risk", "internal").stdout == "risk is internal\n"
    assert run("teams", "capacities").stdout == "technical\nbusiness\nlegal\n"


def test_tokens_list_shows_hints_and_revoke_ends_a_token(
    run: Run, as_user: Callable[[str | None], Run]
) -> None:
    created = json.loads(
        run("tokens", "create", "--name", "nb", "--scope", "read:*", "--json").stdout
    )
    listed = run("tokens", "list").stdout
    assert created["hint"] in listed
    assert created["token"] not in listed
    assert fits(listed)
    revoked = run("tokens", "revoke", created["id"][:8])
    assert revoked.stdout.startswith(f"revoked token {created['id']}")
    refused = as_user(created["token"])("whoami")
    assert (refused.exit_code, refused.stderr) == (
        1,
        "error: TOKEN_REVOKED: the API token was revoked\n",
    )


def test_login_with_a_password_stores_a_token_that_later_commands_use(
    as_user: Callable[[str | None], Run], db: Database
) -> None:
    users.create_user(db, "t", "ann", password="correct horse")
    anonymous = as_user(None)
    signed = anonymous("login", URL, "--user", "ann", input="correct horse\n")
    assert signed.exit_code == 0, signed.output
    assert f"signed in to {URL} as ann" in signed.stdout
    assert credentials.default_url(os.environ) == URL
    assert "ann" in as_user(None)("whoami").stdout
    assert as_user(None)("logout").stdout == f"signed out of {URL}\n"
    assert credentials.token_for(URL, os.environ) is None


def test_login_with_a_wrong_password_stores_nothing(
    as_user: Callable[[str | None], Run], db: Database
) -> None:
    users.create_user(db, "t", "ann", password="correct horse")
    failed = as_user(None)("login", URL, "--user", "ann", input="wrong horse\n")
    assert failed.exit_code == 1
    assert "LOGIN_FAILED" in failed.stderr
    assert credentials.default_url(os.environ) is None


def test_login_with_a_token_checks_it_first(
    as_user: Callable[[str | None], Run], admin_token: str
) -> None:
    bad = as_user(None)("login", URL, "--token", "myd_nope")
    assert "TOKEN_INVALID" in bad.stderr
    good = as_user(None)("login", URL, "--token", "-", input=admin_token + "\n")
    assert "as admin" in good.stdout
    assert credentials.token_for(URL, os.environ) == admin_token
