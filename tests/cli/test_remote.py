from __future__ import annotations

from typer.testing import CliRunner

from modelyard.cli import app


def test_remote_commands_use_modelyard_url_and_report_an_unreachable_server() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    env = {"MODELYARD_URL": "http://127.0.0.1:1", "MODELYARD_TOKEN": "s3cret"}
    result = CliRunner().invoke(app, ["models", "list"], env=env)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: CONNECTION_FAILED: cannot reach Modelyard at ")
    assert "127.0.0.1:1" in result.stderr
    assert "s3cret" not in result.output


def test_unknown_command_is_a_usage_error() -> None:
    assert CliRunner().invoke(app, ["models", "frobnicate"]).exit_code == 2
