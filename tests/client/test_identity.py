"""The SDK's identity methods and credentials, against the real app in process."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from modelyard.client import (
    Client,
    ConflictError,
    ForbiddenError,
    UnauthenticatedError,
    sign_in,
)
from modelyard.client import _credentials as credentials
from modelyard.db.engine import Database
from modelyard.services import users
from tests.support import sync_transport

URL = "http://modelyard.test"


def test_users_tokens_and_teams_round_trip(client: Client, app: Any) -> None:
    client.create_namespace("risk", visibility="internal")
    ann = client.create_user("ann", display_name="Ann")
    assert (ann.name, ann.kind, ann.admin) == ("ann", "user", False)
    assert [u.name for u in client.iter_users(page_size=1)] == ["admin", "ann"]
    member = client.set_member("risk", "ann", "maintainer")
    assert (member.role, member.capacities) == ("maintainer", [])
    assert client.grant_capacity("risk", "ann", "legal").capacities == ["legal"]
    assert client.capacities() == ["technical", "business", "legal"]
    robot = client.create_service_account("risk-ci", "risk", "contributor")
    issued = client.create_token("ci", ["write:risk"], expires_in_days=7, service_account="risk-ci")
    assert issued.secret.startswith("myd_")
    assert issued.token.hint == f"{issued.secret[:8]}…{issued.secret[-4:]}"
    assert robot.owner_namespace == "risk"
    with sync_transport(app) as transport, Client(URL, issued.secret, transport) as ci:
        me = ci.whoami()
    assert (me.user.name, me.via, me.token and me.token.scopes) == (
        "risk-ci",
        "token",
        ["write:risk"],
    )
    assert client.revoke_token(issued.token.id).revoked_at is not None
    client.remove_member("risk", "ann")
    assert "ann" not in [m.user for m in client.list_members("risk")]
    assert client.set_visibility("risk", "private").visibility == "private"


def test_errors_come_back_as_their_classes(client: Client, app: Any) -> None:
    with pytest.raises(ConflictError) as exists:
        client.create_user("admin")
    assert exists.value.code == "USER_EXISTS"
    read_only = client.create_token("ro", ["read:*"]).secret
    with (
        sync_transport(app) as transport,
        Client(URL, read_only, transport) as reader,
        pytest.raises(ForbiddenError),
    ):
        reader.create_user("bob")
    with (
        sync_transport(app) as transport,
        Client(URL, "myd_bad", transport) as stranger,
        pytest.raises(UnauthenticatedError) as bad,
    ):
        stranger.whoami()
    assert bad.value.code == "TOKEN_INVALID"


def test_sign_in_trades_a_password_for_a_token(app: Any, db: Database) -> None:
    users.create_user(db, "t", "ann", password="correct horse")
    with sync_transport(app) as transport:
        issued = sign_in(URL, "ann", "correct horse", "laptop", transport=transport)
        with Client(URL, issued.secret, transport) as ann:
            assert ann.whoami().user.name == "ann"
        with pytest.raises(UnauthenticatedError) as wrong:
            sign_in(URL, "ann", "wrong", "laptop", transport=transport)
    assert wrong.value.code == "LOGIN_FAILED"
    assert issued.token.name == "laptop"


def test_a_client_takes_the_token_stored_for_its_url(app: Any, admin_token: str) -> None:
    credentials.save(URL, admin_token, os.environ)
    with sync_transport(app) as transport:
        with Client(URL, transport=transport) as stored:
            assert stored.whoami().user.name == "admin"
        with Client(URL + "/", transport=transport) as same:
            assert same.whoami().user.name == "admin"
        # Never another server's token; "" sends none.
        for url, token in [("http://other.test", None), (URL, "")]:
            with (
                Client(url, token=token, transport=transport) as other,
                pytest.raises(UnauthenticatedError),
            ):
                other.whoami()


def test_from_env_takes_the_default_server_and_lets_the_variable_win(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path)}
    credentials.save("http://a.test", "myd_a", env)
    credentials.save("http://b.test", "myd_b", env, make_default=False)
    with Client.from_env(env) as client:
        assert client.url == "http://a.test"
    assert credentials.token_for("http://a.test", env) == "myd_a"
    assert credentials.token_for("http://b.test", {**env, "MODELYARD_TOKEN": "x"}) == "myd_b"
    with Client.from_env({**env, "MODELYARD_URL": "http://b.test"}) as client:
        assert client.url == "http://b.test"


def test_the_credentials_file_is_private(tmp_path: Path) -> None:
    env = {"MODELYARD_CREDENTIALS": str(tmp_path / "dir" / "creds")}
    path = credentials.save("http://a.test", "myd_a", env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert credentials.forget("http://a.test", env)
    assert credentials.token_for("http://a.test", env) is None
    assert credentials.default_url(env) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_unreadable_credentials_file_counts_as_none(tmp_path: Path) -> None:
    (tmp_path / "creds").write_text("not json")
    env = {"MODELYARD_CREDENTIALS": str(tmp_path / "creds")}
    assert credentials.token_for("http://a.test", env) is None
    assert credentials.path_from({}) is None
