from __future__ import annotations

import json

from modelyard.client import Client
from tests.cli.conftest import Run, fits


def test_search_models_with_a_filter(run: Run, fraud: str, sdk: Client) -> None:
    sdk.create_model("risk-team/churn", tags={"team": "growth"})
    result = run("search", "--filter", "tags.team = 'growth'")
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == ["risk-team/churn"]
    assert fits(result.stdout)


def test_search_versions_by_alias(run: Run, fraud: str) -> None:
    result = run("search", "--versions", "--filter", "alias = 'champion'", "--json")
    assert [v["reference"] for v in json.loads(result.stdout)] == ["risk-team/fraud@1"]


def test_search_free_text(run: Run, fraud: str, sdk: Client) -> None:
    sdk.create_model("risk-team/churn", description="who leaves")
    result = run("search", "--q", "card", "--json")
    assert [m["full_name"] for m in json.loads(result.stdout)] == [fraud]


def test_search_limit_tells_people_there_is_more(run: Run, fraud: str) -> None:
    result = run("search", "--versions", "--order-by", "version", "--limit", "1")
    assert len(result.stdout.splitlines()) == 2
    assert "raise --limit" in result.stderr


def test_search_bad_filter_exits_1_with_the_position(run: Run, fraud: str) -> None:
    result = run("search", "--filter", "name = ")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: FILTER_INVALID: ")
    assert "position 7" in result.stderr


def test_search_without_matches(run: Run, fraud: str) -> None:
    assert run("search", "--filter", "risk = 'high'").stdout == "no models\n"
