"""Start-up cost: ``modelyard serve`` loads what serving needs and nothing else (neither the
other commands nor the SDK and httpx), and skips Alembic when the schema is current. Each
check runs in a fresh interpreter, where ``sys.modules`` shows what an import pulled in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine

from modelyard.cli import app as cli_app
from modelyard.db import migrate

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _loaded(code: str, *modules: str) -> dict[str, bool]:
    """Run ``code`` in a new interpreter; which of ``modules`` it imported."""
    probe = (
        f"{code}\nimport json, sys\nprint(json.dumps({{m: m in sys.modules for m in {modules!r}}}))"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_serve_command_loads_neither_other_commands_nor_the_sdk() -> None:
    loaded = _loaded(
        "import modelyard.cli.server",
        "httpx",
        "modelyard.client._client",
        "modelyard.cli.models",
        "modelyard.cli.transfer",
    )
    assert loaded == dict.fromkeys(loaded, False)


def test_push_pull_and_ls_load_no_other_command_and_no_database_layer() -> None:
    loaded = _loaded(
        "import sys; sys.argv = ['modelyard', 'push']\n"
        "from modelyard.cli import _transfer_only; _transfer_only()",
        "modelyard.cli.transfer",
        "modelyard.cli.audit",
        "modelyard.cli.models",
        "sqlalchemy",
    )
    assert loaded == {
        "modelyard.cli.transfer": True,
        "modelyard.cli.audit": False,
        "modelyard.cli.models": False,
        "sqlalchemy": False,
    }


def test_push_on_the_command_line_has_its_options_and_help() -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    run = subprocess.run(
        [sys.executable, "-m", "modelyard", "push", "--help"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0
    for option in ("--no-code", "--no-environment", "--json", "--tag"):
        assert option in run.stdout
    assert "Usage: python -m modelyard push" in run.stdout


def test_serve_on_the_command_line_has_its_options_and_help() -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    run = subprocess.run(
        [sys.executable, "-m", "modelyard", "serve", "--help"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0
    for option in ("--data-dir", "--database-url", "--host", "--port", "--workers"):
        assert option in run.stdout
    assert "Usage: python -m modelyard serve" in run.stdout


def test_the_whole_command_line_is_still_there() -> None:
    names = {c.name for c in cli_app.registered_commands} | {
        g.name for g in cli_app.registered_groups
    }
    assert {"serve", "db", "models", "versions", "push", "pull", "search"} <= names


def test_the_credentials_file_module_does_not_load_the_sdk() -> None:
    """A first start stores the admin's token; that must not load httpx and the SDK."""
    loaded = _loaded("import modelyard.client._credentials", "httpx", "modelyard.client._client")
    assert loaded == {"httpx": False, "modelyard.client._client": False}


def test_the_sdk_names_load_on_first_use() -> None:
    loaded = _loaded(
        "from modelyard.client import Client, NotFoundError, sign_in\n"
        "import modelyard.client as c\n"
        "assert all(getattr(c, name) is not None for name in c.__all__)",
        "httpx",
    )
    assert loaded == {"httpx": True}


def test_starting_on_a_current_schema_does_not_load_alembic(database_url: str) -> None:
    engine = create_engine(database_url)
    migrate.upgrade(engine)  # the shared test database is migrated already; a no-op
    engine.dispose()
    code = (
        "from modelyard.db import migrate\n"
        "from modelyard.db.engine import make_engine\n"
        f"engine = make_engine({database_url!r})\n"
        "migrate.upgrade(engine)\n"
        "assert migrate.current_revision(engine) == migrate.newest_file_revision()\n"
    )
    assert _loaded(code, "alembic") == {"alembic": False}


def test_the_app_loads_no_http_client_until_a_webhook_is_sent() -> None:
    """The webhook worker's sender (httpx and its HTTP stack) loads with the first delivery."""
    loaded = _loaded("import modelyard.api.app", "httpx", "httpcore")
    assert loaded == {"httpx": False, "httpcore": False}
