"""Ingredients through the HTTP API: stored immutably with the version, credentials stripped on
the server, packages queryable, completeness searchable, the recorded diff one of the files."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelyard.domain.digests import digest_of
from tests.transfer_support import put_blob

API = "/api/v1"
MODEL = f"{API}/models/risk-team/scorer"
COMMIT = "4f2a9c1e0b7d4e5f8a9b0c1d2e3f4a5b6c7d8e9f"
ENV = {
    "python_version": "3.11.7",
    "implementation": "CPython",
    "os": "Linux",
    "arch": "x86_64",
    "packages": [{"name": "SciPy", "version": "1.10.1"}, {"name": "numpy", "version": "1.26.4"}],
}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@pytest.fixture
def scorer(http: httpx.Client) -> None:
    ok(http.post(f"{API}/namespaces", json={"name": "risk-team"}), 201)
    ok(http.post(f"{API}/models", json={"namespace": "risk-team", "name": "scorer"}), 201)


def create(http: httpx.Client, **body: Any) -> dict[str, Any]:
    return ok(http.post(f"{MODEL}/versions", json=body), 201)  # type: ignore[no-any-return]


def ingredients(http: httpx.Client, number: int) -> dict[str, Any]:
    return ok(http.get(f"{MODEL}/versions/{number}/ingredients"))  # type: ignore[no-any-return]


def test_remote_url_credentials_are_stripped_by_the_server(
    http: httpx.Client, scorer: None
) -> None:
    code = {"commit": COMMIT, "branch": "main", "remote_url": "https://bob:hunter2@git.acme/r.git"}
    create(http, ingredients={"code": code})
    stored = ingredients(http, 1)["code"]
    assert stored["remote_url"] == "https://git.acme/r.git"
    assert "hunter2" not in str(stored)


def test_everything_recorded_comes_back_with_a_complete_report(
    http: httpx.Client, scorer: None
) -> None:
    data = [{"uri": "s3://lake/train/", "digest": digest_of(b"train"), "role": "trained_on"}]
    config = {"lr": 0.01, "layers": [64, 32]}
    create(
        http,
        ingredients={
            "code": {"commit": COMMIT},
            "environment": ENV,
            "config": config,
            "data": data,
        },
    )
    got = ingredients(http, 1)
    assert got["completeness"] == {
        "complete": True,
        "present": ["code", "environment", "config", "data"],
        "missing": {},
    }
    assert got["environment"]["packages"] == [
        {"name": "numpy", "version": "1.26.4"},
        {"name": "scipy", "version": "1.10.1"},
    ]
    assert got["config"] == {"lr": 0.01, "layers": [64, 32]}
    assert got["data"][0]["uri"] == "s3://lake/train/"


def test_a_version_without_ingredients_misses_all_four(http: httpx.Client, scorer: None) -> None:
    create(http)
    report = ingredients(http, 1)["completeness"]
    assert (report["complete"], sorted(report["missing"])) == (
        False,
        ["code", "config", "data", "environment"],
    )


def test_completeness_is_searchable(http: httpx.Client, scorer: None) -> None:
    data = [{"uri": "s3://lake/train/", "role": "trained_on"}]
    full = {"code": {"commit": COMMIT}, "environment": ENV, "config": {}, "data": data}
    create(http, ingredients=full)
    create(http, ingredients={**full, "data": None})
    create(http)

    def found(filter: str) -> list[int]:
        page = ok(http.get(f"{MODEL}/versions", params={"filter": filter}))
        return sorted(v["version"] for v in page["items"])

    assert found("complete = 'true'") == [1]
    assert found("complete = 'false'") == [2, 3]
    assert found("missing = 'data'") == [2, 3]
    assert found("missing = 'code'") == [3]
    assert found("missing NOT IN ('code', 'data')") == [1]


def test_packages_are_queryable_by_version_range_and_by_filter(
    http: httpx.Client, scorer: None
) -> None:
    create(http, ingredients={"environment": ENV})
    newer = {**ENV, "packages": [{"name": "scipy", "version": "1.11.4"}]}
    create(http, ingredients={"environment": newer})
    users = ok(http.get(f"{API}/packages/SciPy", params={"specifier": "<1.11"}))
    assert [(u["reference"], u["version"]) for u in users] == [("risk-team/scorer@1", "1.10.1")]
    page = ok(http.get(f"{MODEL}/versions", params={"filter": "packages.scipy = '1.11.4'"}))
    assert [v["version"] for v in page["items"]] == [2]
    page = ok(http.get(f"{MODEL}/versions", params={"filter": "package = 'numpy'"}))
    assert [v["version"] for v in page["items"]] == [1]


def test_a_package_range_in_a_filter_is_refused_with_a_pointer(
    http: httpx.Client, scorer: None
) -> None:
    r = http.get(f"{API}/versions", params={"filter": "packages.scipy < '1.11'"})
    assert r.json()["error"]["code"] == "FILTER_INVALID"
    assert "/api/v1/packages/" in r.json()["error"]["message"]


def test_the_recorded_diff_must_be_one_of_the_versions_files(
    http: httpx.Client, scorer: None
) -> None:
    diff = b"diff --git a/train.py b/train.py\n+lr = 0.02\n"
    weights = b"weights"
    put_blob(http, diff)
    put_blob(http, weights)
    code = {"commit": COMMIT, "dirty": True, "diff_digest": digest_of(diff)}
    without = http.post(f"{MODEL}/versions", json={"ingredients": {"code": code}})
    assert without.json()["error"]["code"] == "INGREDIENTS_INVALID"
    artifacts = [
        {"path": "model.bin", "size": len(weights), "digest": digest_of(weights)},
        {"path": ".modelyard/code.diff", "size": len(diff), "digest": digest_of(diff)},
    ]
    create(http, manifest={"artifacts": artifacts}, ingredients={"code": code})
    assert ingredients(http, 1)["code"]["diff_digest"] == digest_of(diff)


def test_ingredients_cannot_be_changed_by_an_update(http: httpx.Client, scorer: None) -> None:
    create(http, ingredients={"code": {"commit": COMMIT}})
    r = http.patch(f"{MODEL}/versions/1", json={"ingredients": {"code": {"commit": "abcdef1"}}})
    assert r.status_code == 422
    assert ingredients(http, 1)["code"]["commit"] == COMMIT


def test_config_with_text_no_database_stores_is_refused(http: httpx.Client, scorer: None) -> None:
    r = http.post(f"{MODEL}/versions", json={"ingredients": {"config": {"note": "a\u0000b"}}})
    assert r.json()["error"]["code"] == "INGREDIENTS_INVALID"


def test_metrics_with_dataset_and_split_compare_across_versions(
    http: httpx.Client, scorer: None
) -> None:
    create(http, metrics={"auc": 0.81})
    create(
        http,
        metrics={"auc": 0.86},
        metric_details=[{"name": "f1", "value": 0.7, "dataset": "risk/holdout@1", "split": "test"}],
    )
    ok(http.patch(f"{MODEL}/versions/1", json={"metric_details": [{"name": "f1", "value": 0.6}]}))
    found = ok(http.get(f"{MODEL}/metrics", params={"names": "auc,f1"}))
    table = {
        v["version"]: {(m["name"], m["dataset"], m["split"]): m["value"] for m in v["metrics"]}
        for v in found["versions"]
    }
    assert table == {
        1: {("auc", "", ""): 0.81, ("f1", "", ""): 0.6},
        2: {("auc", "", ""): 0.86, ("f1", "risk/holdout@1", "test"): 0.7},
    }
    # The dict view keeps the metrics stated without a dataset or split.
    assert ok(http.get(f"{MODEL}/versions/1"))["metrics"] == {"auc": 0.81, "f1": 0.6}


def test_model_card_merges_the_authors_text_with_generated_facts(
    http: httpx.Client, scorer: None
) -> None:
    create(
        http,
        description="Scores card transactions",
        card="## Intended use\n\nFraud triage. <script>alert(1)</script>",
        metrics={"auc": 0.9},
        ingredients={"code": {"commit": COMMIT}, "environment": ENV},
    )
    md = http.get(f"{MODEL}/versions/1/card")
    assert md.headers["content-type"].startswith("text/markdown")
    for expected in ("# risk-team/scorer version 1", "## Intended use", "## Facts", COMMIT, "auc"):
        assert expected in md.text
    page = http.get(f"{MODEL}/versions/1/card", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    assert "<h2>Intended use</h2>" in page.text
    assert "<script>" not in page.text  # the author's raw HTML is shown as text, never run
    ok(http.put(f"{MODEL}/versions/1/card", json={"markdown": "## Limitations\n\nNone known."}))
    assert "## Limitations" in http.get(f"{MODEL}/versions/1/card").text
