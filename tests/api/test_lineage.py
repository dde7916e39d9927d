"""Lineage through the HTTP API: the D -> A -> B chain with C unrelated (issue 6, acceptance 2),
classification inheritance, revocation, graphs, consumers and archiving impact."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.transfer_support import create_version, put_blob

API = "/api/v1"
D = "risk-team/customers@2026-10"


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def version(http: httpx.Client, model: str, **body: Any) -> dict[str, Any]:
    return ok(http.post(f"{API}/models/{model}/versions", json=body), 201)  # type: ignore[no-any-return]


@pytest.fixture
def chain(http: httpx.Client) -> dict[str, str]:
    """Dataset D (pii) -> A trained on D -> B derived from A; C trained on other data."""
    ok(http.post(f"{API}/namespaces", json={"name": "risk-team"}), 201)
    for name in ("scorer", "scorer-small", "churn"):
        ok(http.post(f"{API}/models", json={"namespace": "risk-team", "name": name}), 201)
    dataset = {"namespace": "risk-team", "name": "customers", "version": "2026-10",
               "uri": "s3://lake/customers/2026-10/", "classifications": ["pii"]}  # fmt: skip
    ok(http.post(f"{API}/datasets", json=dataset), 201)
    other = {**dataset, "name": "weather", "classifications": ["public"]}
    ok(http.post(f"{API}/datasets", json=other), 201)
    a = version(http, "risk-team/scorer", ingredients={"data": [{"dataset": D}]})
    b = version(http, "risk-team/scorer-small", derived_from=["risk-team/scorer@1"])
    c = version(http, "risk-team/churn", ingredients={"data": [{"dataset": "risk-team/weather"}]})
    return {"A": a["reference"], "B": b["reference"], "C": c["reference"]}


def get_version(http: httpx.Client, reference: str) -> dict[str, Any]:
    return ok(http.get(f"{API}/resolve", params={"ref": reference}))  # type: ignore[no-any-return]


def search(http: httpx.Client, filter: str) -> list[str]:
    page = ok(http.get(f"{API}/versions", params={"filter": filter, "page_size": 100}))
    return sorted(v["reference"] for v in page["items"])


def test_a_version_derived_from_a_pii_trained_version_inherits_pii(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    assert get_version(http, chain["A"])["classifications"] == ["pii"]
    assert get_version(http, chain["B"])["classifications"] == ["pii"]
    assert get_version(http, chain["C"])["classifications"] == ["public"]


def test_affected_by_the_dataset_is_exactly_a_and_b(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    found = ok(http.get(f"{API}/datasets/risk-team/customers/versions/2026-10/affected"))
    assert [(v["reference"], v["via"], v["depth"]) for v in found["versions"]] == [
        (chain["A"], "trained_on", 0),
        (chain["B"], f"derived_from {chain['A']}", 1),
    ]


def test_revoking_the_dataset_flags_a_and_b_and_not_c(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    revoked = http.post(
        f"{API}/datasets/risk-team/customers/versions/2026-10/revoke",
        json={"reason": "consent withdrawn by a data subject"},
    )
    assert ok(revoked)["status"] == "revoked"
    flags = {k: get_version(http, ref)["revoked_datasets"] for k, ref in chain.items()}
    assert flags == {"A": [D], "B": [D], "C": []}
    assert search(http, "data_revoked = 'true'") == sorted([chain["A"], chain["B"]])


def test_policy_check_datasets_not_revoked_fails_only_for_affected_versions(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    http.post(f"{API}/datasets/risk-team/customers/versions/2026-10/revoke", json={"reason": "x"})

    def passed(ref: str) -> bool:
        model, _, number = ref.partition("@")
        checks = ok(http.get(f"{API}/models/{model}/versions/{number}/checks"))
        return {c["name"]: c["passed"] for c in checks}["datasets_not_revoked"]  # type: ignore[no-any-return]

    assert [passed(chain[k]) for k in "ABC"] == [False, False, True]


def test_classification_is_filterable_in_version_and_model_search(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    assert search(http, "classification = 'pii'") == sorted([chain["A"], chain["B"]])
    assert search(http, "classification != 'pii'") == [chain["C"]]
    models = ok(http.get(f"{API}/models", params={"filter": "classification IN ('pii')"}))
    assert sorted(m["name"] for m in models["items"]) == ["scorer", "scorer-small"]


def test_reclassifying_a_dataset_shows_on_every_heir_at_once(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    http.patch(
        f"{API}/datasets/risk-team/customers/versions/2026-10",
        json={"classifications": ["pii", "special-category"]},
    )
    assert get_version(http, chain["B"])["classifications"] == ["pii", "special-category"]


def test_upstream_graph_of_b_reaches_a_and_the_dataset(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    model, _, number = chain["B"].partition("@")
    g = ok(
        http.get(
            f"{API}/models/{model}/versions/{number}/lineage",
            params={"direction": "upstream", "depth": 5},
        )
    )
    edges = {(e["source"], e["relation"], e["target"]) for e in g["edges"]}
    assert edges == {
        (f"version:{chain['B']}", "derived_from", f"version:{chain['A']}"),
        (f"version:{chain['A']}", "trained_on", f"dataset:{D}"),
    }
    kinds = sorted(n["kind"] for n in g["nodes"])
    assert kinds == ["dataset", "version", "version"]


def test_depth_limits_the_graph(http: httpx.Client, chain: dict[str, str]) -> None:
    model, _, number = chain["B"].partition("@")
    g = ok(http.get(f"{API}/models/{model}/versions/{number}/lineage", params={"depth": 1}))
    assert f"dataset:{D}" not in {n["id"] for n in g["nodes"]}


def test_downstream_graph_of_the_dataset_reaches_b(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    g = ok(http.get(f"{API}/datasets/risk-team/customers/versions/2026-10/lineage"))
    assert {n["id"] for n in g["nodes"]} == {
        f"dataset:{D}",
        f"version:{chain['A']}",
        f"version:{chain['B']}",
    }


def test_consumers_declared_and_seen_by_pulls(http: httpx.Client, chain: dict[str, str]) -> None:
    weights = b"weights"
    put_blob(http, weights)
    ok(create_version(http, "risk-team/scorer", {"model.bin": weights}), 201)
    ok(http.put(f"{API}/models/risk-team/scorer/aliases/champion", json={"version": 2}))
    declared = ok(
        http.put(
            f"{API}/models/risk-team/scorer/consumers/payments-api",
            json={"kind": "service", "reference": "champion"},
        )
    )
    assert (declared["reference"], declared["last_seen_at"]) == ("risk-team/scorer@champion", None)
    for consumer in ("payments-api", "nightly-batch"):
        pulled = http.get(
            f"{API}/manifests", params={"ref": "risk-team/scorer@champion", "consumer": consumer}
        )
        assert pulled.status_code == 200, pulled.text
    listed = ok(http.get(f"{API}/models/risk-team/scorer/consumers"))
    seen = [
        (c["name"], c["kind"], c["last_version"], c["last_seen_at"] is not None) for c in listed
    ]
    assert seen == [("nightly-batch", "other", 2, True), ("payments-api", "service", 2, True)]


def test_impact_of_archiving_names_aliases_consumers_and_derived_versions(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    ok(http.put(f"{API}/models/risk-team/scorer/aliases/champion", json={"version": 1}))
    http.put(
        f"{API}/models/risk-team/scorer/consumers/payments-api",
        json={"kind": "service", "reference": "champion"},
    )
    impact = ok(http.get(f"{API}/models/risk-team/scorer/versions/1/impact"))
    assert impact["aliases"] == ["champion"]
    assert [c["name"] for c in impact["consumers"]] == ["payments-api"]
    assert [d["reference"] for d in impact["downstream"]] == [chain["B"]]
    assert impact["exclusive_stage"] is False


def test_dataset_reference_must_exist(http: httpx.Client, chain: dict[str, str]) -> None:
    r = http.post(
        f"{API}/models/risk-team/churn/versions",
        json={"ingredients": {"data": [{"dataset": "risk-team/nothing@1"}]}},
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "DATASET_NOT_FOUND"
    after = ok(http.get(f"{API}/models/risk-team/churn"))
    assert after["latest_version"] == 1  # nothing half-written


def test_derived_from_must_name_an_existing_version(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    r = http.post(
        f"{API}/models/risk-team/churn/versions", json={"derived_from": ["risk-team/scorer@9"]}
    )
    assert r.json()["error"]["code"] == "VERSION_NOT_FOUND"


def test_dataset_registration_twice_is_dataset_exists(
    http: httpx.Client, chain: dict[str, str]
) -> None:
    again = {"namespace": "risk-team", "name": "customers", "version": "2026-10", "uri": "s3://x"}
    r = http.post(f"{API}/datasets", json=again)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "DATASET_EXISTS")


def test_datasets_list_by_classification(http: httpx.Client, chain: dict[str, str]) -> None:
    page = ok(http.get(f"{API}/datasets", params={"classification": "pii"}))
    assert [d["reference"] for d in page["items"]] == [D]


def test_a_version_cannot_derive_from_itself(http: httpx.Client, chain: dict[str, str]) -> None:
    r = http.post(
        f"{API}/models/risk-team/churn/versions", json={"derived_from": ["risk-team/churn@latest"]}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (400, "REFERENCE_INVALID")
    assert ok(http.get(f"{API}/models/risk-team/churn"))["latest_version"] == 1
