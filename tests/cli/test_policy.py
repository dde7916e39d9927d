from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelyard.cli import app as cli_app
from modelyard.domain.policy_document import default_policy, load_yaml, parse_policy
from tests.cli.conftest import Run

GOOD = """
stages: {dev: {}, prod: {exclusive: true, previous_holder_to: dev}}
initial_stage: dev
transitions: {dev: [prod], prod: [dev]}
requirements:
  prod:
    risk:
      low: {approvals: {technical: 1}}
      medium: {approvals: {technical: 1}}
      high: {approvals: {technical: 1, legal: 1}}
"""


def test_policy_show_prints_the_server_policy_as_yaml(run: Run) -> None:
    result = run("policy", "show")
    assert result.exit_code == 0, result.output
    first, _, rest = result.stdout.partition("\n")
    assert first == "# source: built-in"
    assert parse_policy(load_yaml(rest)) == default_policy()


def test_policy_show_json(run: Run) -> None:
    result = run("policy", "show", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["source"] == "built-in"
    assert body["policy"]["stages"]["production"] == {
        "exclusive": True,
        "previous_holder_to": "archived",
    }


def test_policy_validate_accepts_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD)
    result = CliRunner().invoke(cli_app, ["policy", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{path}: valid policy; stages dev, prod (exclusive)\n"


def test_policy_validate_lists_every_mistake_by_key(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("[prod], prod", "[live], prod").replace("legal: 1", "legal: -1"))
    result = CliRunner().invoke(cli_app, ["policy", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}: invalid policy",
        "  transitions.dev: 'live' is not a stage (dev, prod)",
        "  requirements.prod.risk.high.approvals.legal: must be a whole number from 0 to 100",
    ]


def test_policy_validate_checks_capacities_the_server_defines(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD)
    result = CliRunner().invoke(
        cli_app, ["policy", "validate", str(path), "--capacities", "technical,business"]
    )
    assert result.exit_code == 1
    assert "approvals as legal, which no one can give" in result.stderr


def test_policy_validate_missing_file_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli_app, ["policy", "validate", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "cannot read" in result.stderr


def test_serve_refuses_to_start_on_an_invalid_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(GOOD.replace("stages:", "stagez:"))
    monkeypatch.setenv("MODELYARD_POLICY_FILE", str(path))
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(cli_app, ["serve"])
    assert result.exit_code == 1
    assert "error: POLICY_INVALID:" in result.stderr
    assert "stagez: unknown key" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching the database
