from __future__ import annotations

import json

from modelyard.client import Client
from tests.cli.conftest import Run, fits


def test_models_create_with_description_and_tags(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team")
    result = run(
        "models", "create", "risk-team/fraud", "--description", "Scores", "--tag", "team=fraud",
        "--tag", "tier=1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == "created model risk-team/fraud\n"
    model = sdk.get_model("risk-team/fraud")
    assert (model.description, model.tags) == ("Scores", {"team": "fraud", "tier": "1"})


def test_models_create_refuses_a_tag_without_equals_as_usage(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team")
    result = run("models", "create", "risk-team/fraud", "--tag", "team")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr


def test_models_create_existing_model_exits_1_with_code(run: Run, fraud: str) -> None:
    result = run("models", "create", fraud)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: MODEL_EXISTS: ")


def test_models_create_malformed_name_exits_1_with_code(run: Run) -> None:
    result = run("models", "create", "no-namespace")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: REFERENCE_INVALID: ")


def test_models_list_table_truncates_to_80_columns(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team")
    sdk.create_model("risk-team/fraud", description="word " * 60)
    sdk.create_model("risk-team/" + "x" * 60, description="Long name")
    result = run("models", "list")
    assert result.exit_code == 0
    assert fits(result.stdout)
    assert result.stdout.splitlines()[0].split() == ["MODEL", "LATEST", "RISK", "DESCRIPTION"]
    assert "…" in result.stdout


def test_models_list_shows_user_text_literally(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team")
    sdk.create_model("risk-team/fraud", description="[bold]x[/bold]")
    assert "[bold]x[/bold]" in run("models", "list").stdout


def test_models_list_of_one_namespace(run: Run, fraud: str, sdk: Client) -> None:
    sdk.create_namespace("growth")
    sdk.create_model("growth/churn")
    result = run("models", "list", "growth", "--json")
    assert [m["full_name"] for m in json.loads(result.stdout)] == ["growth/churn"]


def test_models_list_json_matches_the_api_shape(run: Run, fraud: str) -> None:
    (model,) = json.loads(run("models", "list", "--json").stdout)
    assert model["full_name"] == fraud
    assert model["aliases"] == {"champion": 1}
    assert model["latest_version"] == 2
    assert model["created_at"].endswith("+00:00")


def test_models_show_lists_the_fields(run: Run, fraud: str) -> None:
    result = run("models", "show", fraud)
    assert result.exit_code == 0
    assert "Card fraud scores" in result.stdout
    assert "champion -> 1" in result.stdout
    assert "team=fraud" in result.stdout
    assert fits(result.stdout)


def test_models_update_description_and_risk(run: Run, fraud: str, sdk: Client) -> None:
    result = run(
        "models", "update", fraud, "-d", "new", "--risk", "high", "--reason", "money",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    model = sdk.get_model(fraud)
    assert (model.description, model.risk_level, model.risk_reason) == ("new", "high", "money")


def test_models_update_risk_needs_a_reason(run: Run, fraud: str) -> None:
    assert run("models", "update", fraud, "--risk", "high").exit_code == 2
    assert run("models", "update", fraud).exit_code == 2


def test_models_update_unknown_risk_level_is_the_servers_error(run: Run, fraud: str) -> None:
    result = run("models", "update", fraud, "--risk", "extreme", "--reason", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")


def test_models_archive_then_changes_are_refused(run: Run, fraud: str) -> None:
    assert json.loads(run("models", "archive", fraud, "--json").stdout)["archived"] is True
    result = run("models", "update", fraud, "-d", "x")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: MODEL_ARCHIVED: ")
