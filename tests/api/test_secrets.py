"""No secret at rest, no secret in logs.

- Every table, dumped after users, passwords, tokens and sessions were made, holds no
  password, token, session cookie or CSRF token in plain text.
- A real ``modelyard serve`` (uvicorn, access log on, debug level) goes through a session of
  requests, failing ones and a token in a query string included; its output holds none of them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from modelyard.db import migrate
from modelyard.db.engine import Database
from modelyard.domain.access import Role, new_token
from modelyard.services import namespaces, teams, users
from modelyard.settings import Settings
from tests import identity as make

API = "/api/v1"
PASSWORD = "correct horse battery staple"


def _secrets_of_a_session(http: httpx.Client, db: Database) -> list[str]:
    """Make users, tokens and sessions through the API; returns every secret involved."""
    users.create_user(db, "t", "ann", password=PASSWORD)
    made = http.post(f"{API}/tokens", json={"name": "n", "scopes": ["read:*"]}).json()["token"]
    ann_token = make.token(db, "ann")
    signed = http.post(f"{API}/login", json={"name": "ann", "password": PASSWORD})
    cookie = signed.cookies["modelyard_session"]
    http.post(f"{API}/login", json={"name": "ann", "password": PASSWORD + "!"})  # fails
    http.get(f"{API}/models", params={"token": ann_token})
    http.put(f"{API}/users/ann/password", json={"password": PASSWORD + " 2"})
    return [
        PASSWORD,
        PASSWORD + "!",
        PASSWORD + " 2",
        made,
        ann_token,
        cookie,
        signed.json()["csrf_token"],
    ]


def _dump(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
            rows = [
                repr(tuple(row))
                for name in names
                for row in conn.execute(text(f'SELECT * FROM "{name}"'))
            ]
    finally:
        engine.dispose()
    assert {"users", "api_tokens", "web_sessions"} <= set(names)
    return "\n".join(rows)


def test_no_table_holds_a_password_or_token_in_plain_text(
    http: httpx.Client, db: Database, settings: Settings
) -> None:
    secrets = _secrets_of_a_session(http, db)
    dump = _dump(settings.resolved_database_url)
    assert "argon2id" in dump  # the password hashes are there, and they are hashes
    assert [s for s in secrets if s in dump] == []


# ------------------------------------------------------------------------ server logs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _serve(data_dir: Path, port: int, log: Path) -> Iterator[None]:
    env = {**os.environ, "MODELYARD_DATA_DIR": str(data_dir), "MODELYARD_PORT": str(port)}
    env.pop("MODELYARD_DATABASE_URL", None)
    command = [sys.executable, "-m", "modelyard", "serve", "--access-log", "--log-level", "debug"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(port, proc)
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _wait_until_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "modelyard serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("modelyard serve did not come up")


@pytest.fixture
def registry(tmp_path: Path) -> dict[str, Any]:
    """A migrated SQLite registry with an admin, a member and their tokens."""
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    engine = create_engine(settings.resolved_database_url)
    migrate.upgrade(engine)
    engine.dispose()
    db = Database.from_url(settings.resolved_database_url)
    admin = make.admin_token(db)
    users.create_user(db, "t", "ann", password=PASSWORD)
    namespaces.create_namespace(db, "t", "risk")
    teams.set_member(db, "t", "risk", "ann", Role.VIEWER)
    reader = make.token(db, "ann", ["read:*"])
    db.dispose()
    return {"data_dir": settings.data_dir, "admin": admin, "reader": reader}


def _session_of_requests(base: str, admin: str, reader: str) -> list[str]:
    """Good and bad requests; returns the secrets they carried."""
    unknown = new_token()
    with httpx.Client(base_url=base, timeout=60) as http:
        http.get(f"{API}/whoami", headers={"Authorization": f"Bearer {admin}"})
        http.get(f"{API}/models", params={"token": reader, "access_token": admin})
        http.get(f"{API}/models?token={reader}", headers={"Authorization": f"Bearer {reader}"})
        http.get(f"{API}/whoami", headers={"Authorization": f"Bearer {unknown}"})
        http.get(f"{API}/whoami", headers={"Authorization": f"token {admin}"})
        http.post(
            f"{API}/models/risk/x/versions", json={}, headers={"Authorization": f"Bearer {reader}"}
        )
        http.post(f"{API}/login", json={"name": "ann", "password": "wrong " + PASSWORD})
        http.post(f"{API}/login?password={PASSWORD}", json={"name": "nobody", "password": PASSWORD})
        signed = http.post(f"{API}/login", json={"name": "ann", "password": PASSWORD})
        csrf = signed.json()["csrf_token"]
        made = http.post(f"{API}/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
        http.get(f"{API}/nowhere?secret={admin}")
    cookie = signed.cookies["modelyard_session"]
    return [admin, reader, unknown, PASSWORD, cookie, csrf, made.json()["token"]]


@pytest.mark.slow  # a real server process: seconds to start
def test_server_logs_hold_no_token_or_password(registry: dict[str, Any], tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "server.log"
    with _serve(registry["data_dir"], port, log):
        secrets = _session_of_requests(
            f"http://127.0.0.1:{port}", registry["admin"], registry["reader"]
        )
    output = log.read_text(errors="replace")
    assert '"GET /api/v1/models?token=[redacted]&access_token=[redacted] HTTP/1.1" 401' in output
    assert '"POST /api/v1/login HTTP/1.1" 401' in output
    assert [s for s in secrets if s in output] == []
    assert "myd_" not in output.replace("myd_[redacted]", "")
