"""First start: a global admin, its token printed once and stored for the local CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from modelyard.cli import app as cli_app
from modelyard.cli.first_start import local_url, sign_in_locally
from modelyard.client import Client
from modelyard.client import _credentials as credentials
from modelyard.db.engine import Database
from modelyard.domain.access import Role
from modelyard.domain.errors import ConflictError
from modelyard.services import bootstrap, namespaces, tokens, users
from modelyard.settings import Settings
from tests.api.test_secrets import _free_port, _wait_until_up
from tests.support import sync_transport


def test_the_first_admin_is_made_once(db: Database) -> None:
    first = bootstrap.first_admin(db)
    assert first is not None
    assert tokens.authenticate(db, first.secret).is_admin
    assert bootstrap.first_admin(db) is None
    assert [u.name for u in users.list_users(db).items] == ["admin"]


def test_admin_token_lets_an_operator_back_in(db: Database) -> None:
    bootstrap.first_admin(db)
    users.create_user(db, "t", "ann")
    users.set_disabled(db, "ann", True)
    issued = bootstrap.admin_token(db, "ann")
    me = tokens.authenticate(db, issued.secret)
    assert (me.name, me.is_admin) == ("ann", True)
    namespaces.create_namespace(db, "t", "team")
    users.create_service_account(db, "t", "ci", "team", Role.VIEWER)
    with pytest.raises(ConflictError):
        bootstrap.admin_token(db, "ci")


def test_first_start_signs_the_local_cli_in(
    settings: Settings, app: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in_locally(settings)
    printed = capsys.readouterr().err
    url = local_url(settings)
    secret = credentials.token_for(url, os.environ)
    assert secret is not None
    assert secret in printed
    assert credentials.default_url(os.environ) == url
    path = credentials.path_from(os.environ)
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sync_transport(app) as transport, Client(url, transport=transport) as cli:
        assert cli.whoami().user.name == "admin"
    sign_in_locally(settings)  # the next start: an admin exists, nothing printed or stored
    assert capsys.readouterr().err == ""
    assert credentials.token_for(url, os.environ) == secret


def test_first_start_leaves_a_remote_default_server_alone(settings: Settings) -> None:
    credentials.save("https://models.example.com", "myd_remote", os.environ)
    sign_in_locally(settings)
    assert credentials.default_url(os.environ) == "https://models.example.com"
    assert credentials.token_for(local_url(settings), os.environ) is not None


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8080"),
        ("0.0.0.0", "http://127.0.0.1:8080"),
        ("::", "http://[::1]:8080"),
        ("models.lan", "http://models.lan:8080"),
    ],
)
def test_the_local_url_reaches_the_server_from_this_machine(host: str, url: str) -> None:
    assert local_url(Settings(host=host, port=8080)) == url


def test_db_admin_token_prints_a_new_admin_token(settings: Settings, db: Database) -> None:
    env = {"MODELYARD_DATABASE_URL": settings.resolved_database_url}
    result = CliRunner().invoke(cli_app, ["db", "admin-token", "rescuer"], env=env)
    assert result.exit_code == 0, result.output
    assert tokens.authenticate(db, result.stdout.strip()).name == "rescuer"
    bad = CliRunner().invoke(cli_app, ["db", "admin-token", "Not A Name"], env=env)
    assert bad.exit_code == 1
    assert "NAME_INVALID" in bad.stderr


@pytest.mark.slow  # a real server process
def test_the_readmes_first_command_gives_a_server_and_a_signed_in_cli(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "MODELYARD_DATA_DIR": str(tmp_path / "data"),
        "MODELYARD_PORT": str(port),
    }
    for name in ("MODELYARD_DATABASE_URL", "MODELYARD_URL", "MODELYARD_TOKEN"):
        env.pop(name, None)
    server = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port, server)
        cli = [sys.executable, "-m", "modelyard"]
        made = subprocess.run(
            [*cli, "namespaces", "create", "risk-team"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        me = subprocess.run(
            [*cli, "whoami", "--json"], env=env, capture_output=True, text=True, check=False
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert made.returncode == 0, made.stderr
    assert '"name": "admin"' in me.stdout
