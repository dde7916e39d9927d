from __future__ import annotations

import json

from modelyard.client import Client
from tests.cli.conftest import Run, fits


def test_namespaces_create_confirms_and_stores(run: Run, sdk: Client) -> None:
    result = run("namespaces", "create", "risk-team", "--description", "Risk models")
    assert result.exit_code == 0, result.output
    assert result.stdout == "created namespace risk-team\n"
    assert sdk.get_namespace("risk-team").description == "Risk models"


def test_namespaces_create_json_prints_the_namespace(run: Run) -> None:
    result = run("namespaces", "create", "risk-team", "--json")
    assert json.loads(result.stdout)["name"] == "risk-team"


def test_namespaces_list_shows_a_table(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team", description="Risk models")
    sdk.create_namespace("growth")
    result = run("namespaces", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAMESPACE", "CREATED", "DESCRIPTION"]
    assert [line.split()[0] for line in lines[1:]] == ["growth", "risk-team"]
    assert fits(result.stdout)


def test_namespaces_list_json_is_an_array(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team")
    result = run("namespaces", "list", "--json")
    assert [n["name"] for n in json.loads(result.stdout)] == ["risk-team"]


def test_namespaces_list_says_when_there_are_none(run: Run) -> None:
    assert run("namespaces", "list").stdout == "no namespaces\n"
    assert run("namespaces", "list", "--json").stdout == "[]\n"


def test_namespaces_show_and_archive(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team", description="Risk models")
    shown = run("namespaces", "show", "risk-team")
    assert "Risk models" in shown.stdout
    assert run("namespaces", "archive", "risk-team").stdout == "archived namespace risk-team\n"
    assert json.loads(run("namespaces", "show", "risk-team", "--json").stdout)["archived"] is True


def test_namespaces_update_changes_the_description(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team")
    assert run("namespaces", "update", "risk-team", "-d", "new").exit_code == 0
    assert sdk.get_namespace("risk-team").description == "new"


def test_namespaces_update_without_a_change_is_a_usage_error(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team")
    assert run("namespaces", "update", "risk-team").exit_code == 2


def test_missing_namespace_prints_the_error_code_and_exits_1(run: Run) -> None:
    result = run("namespaces", "show", "nobody")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: NAMESPACE_NOT_FOUND: ")
