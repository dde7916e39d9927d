from __future__ import annotations

from modelyard.client import Client
from tests.cli.conftest import Run


def test_tag_set_on_a_model(run: Run, fraud: str, sdk: Client) -> None:
    result = run("tag", "set", fraud, "owner", "ana")
    assert result.exit_code == 0, result.output
    assert result.stdout == "tagged risk-team/fraud: owner=ana\n"
    assert sdk.get_model(fraud).tags == {"team": "fraud", "owner": "ana"}


def test_tag_set_on_a_version_by_number_or_alias(run: Run, fraud: str, sdk: Client) -> None:
    assert run("tag", "set", "risk-team/fraud@2", "data", "q2").exit_code == 0
    assert run("tag", "set", "risk-team/fraud@champion", "data", "q1").exit_code == 0
    assert sdk.get_version("risk-team/fraud@2").tags == {"data": "q2"}
    assert sdk.get_version("risk-team/fraud@1").tags == {"data": "q1"}
    assert sdk.get_model(fraud).tags == {"team": "fraud"}


def test_tag_rm_on_model_and_version(run: Run, fraud: str, sdk: Client) -> None:
    sdk.set_version_tag("risk-team/fraud@1", "data", "q1")
    assert run("tag", "rm", fraud, "team").stdout == "removed tag team from risk-team/fraud\n"
    assert run("tag", "rm", "risk-team/fraud@1", "data").exit_code == 0
    assert sdk.get_model(fraud).tags == {}
    assert sdk.get_version("risk-team/fraud@1").tags == {}


def test_tag_rm_missing_tag_exits_1(run: Run, fraud: str) -> None:
    result = run("tag", "rm", fraud, "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: TAG_NOT_FOUND: ")
