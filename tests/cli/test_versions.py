from __future__ import annotations

import json

from modelyard.client import Client
from tests.cli.conftest import Run, fits


def test_versions_create_with_tags_and_metrics(run: Run, fraud: str) -> None:
    result = run(
        "versions", "create", fraud, "-d", "third", "--tag", "data=q3", "--metric", "auc=0.95",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    version = json.loads(result.stdout)
    assert (version["version"], version["tags"], version["metrics"]) == (
        3,
        {"data": "q3"},
        {"auc": 0.95},
    )


def test_versions_create_refuses_a_metric_that_is_not_a_number(run: Run, fraud: str) -> None:
    result = run("versions", "create", fraud, "--metric", "auc=high")
    assert result.exit_code == 2


def test_versions_list_is_newest_first(run: Run, fraud: str) -> None:
    result = run("versions", "list", fraud)
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["MODEL", "VERSION", "STAGE", "ALIASES", "CREATED", "DESCRIPTION"]
    assert [row.split()[1] for row in rows] == ["2", "1"]
    assert "champion" in rows[1]
    assert fits(result.stdout)


def test_versions_list_json_and_limit(run: Run, fraud: str) -> None:
    result = run("versions", "list", fraud, "--limit", "1", "--json")
    assert [v["reference"] for v in json.loads(result.stdout)] == ["risk-team/fraud@2"]
    assert result.stderr == ""


def test_versions_list_of_missing_model_exits_1(run: Run, fraud: str) -> None:
    result = run("versions", "list", "risk-team/absent")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: MODEL_NOT_FOUND: ")


def test_versions_show_resolves_an_alias(run: Run, fraud: str) -> None:
    result = run("versions", "show", "risk-team/fraud@champion")
    assert result.exit_code == 0
    assert "risk-team/fraud@1" in result.stdout
    assert "auc=0.91" in result.stdout


def test_versions_show_json_is_the_version(run: Run, fraud: str) -> None:
    version = json.loads(run("versions", "show", "risk-team/fraud", "--json").stdout)
    assert (version["reference"], version["stage"]) == ("risk-team/fraud@2", "development")


def test_versions_show_missing_version_and_bad_reference(run: Run, fraud: str) -> None:
    missing = run("versions", "show", "risk-team/fraud@7")
    assert (missing.exit_code, missing.stderr.split(":")[:2]) == (
        1,
        ["error", " VERSION_NOT_FOUND"],
    )
    bad = run("versions", "show", "risk-team/fraud@0")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: REFERENCE_INVALID: ")


def test_archived_version_is_marked_in_the_table(run: Run, fraud: str, sdk: Client) -> None:
    sdk.archive_version("risk-team/fraud@2")
    assert "2 (archived)" in run("versions", "list", fraud, "--archived").stdout
