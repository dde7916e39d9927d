from __future__ import annotations

import json

from modelyard.client import Client
from tests.cli.conftest import Run


def test_alias_set_moves_the_alias(run: Run, fraud: str, sdk: Client) -> None:
    result = run("alias", "set", fraud, "champion", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout == "risk-team/fraud@champion -> version 2\n"
    assert sdk.resolve("risk-team/fraud@champion").version == 2


def test_alias_set_json_prints_the_model(run: Run, fraud: str) -> None:
    model = json.loads(run("alias", "set", fraud, "challenger", "2", "--json").stdout)
    assert model["aliases"] == {"champion": 1, "challenger": 2}


def test_alias_set_reserved_name_exits_1(run: Run, fraud: str) -> None:
    result = run("alias", "set", fraud, "latest", "1")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ALIAS_RESERVED: ")


def test_alias_set_needs_a_version_number(run: Run, fraud: str) -> None:
    assert run("alias", "set", fraud, "champion", "two").exit_code == 2


def test_alias_rm_removes_and_then_reports_not_found(run: Run, fraud: str) -> None:
    assert (
        run("alias", "rm", fraud, "champion").stdout == "removed alias risk-team/fraud@champion\n"
    )
    again = run("alias", "rm", fraud, "champion")
    assert again.exit_code == 1
    assert again.stderr.startswith("error: ALIAS_NOT_FOUND: ")
