from __future__ import annotations

import httpx


def test_create_model_and_version_round_trip(http: httpx.Client) -> None:
    assert http.post("/api/v1/namespaces", json={"name": "risk-team"}).status_code == 201
    r = http.post("/api/v1/models", json={"namespace": "risk-team", "name": "fraud"})
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/models/risk-team/fraud/versions", json={"description": "first"})
    assert r.status_code == 201
    assert r.json()["version"] == 1
    assert r.json()["stage"] == "development"


def test_tag_keys_with_a_slash_can_be_set_and_removed(http: httpx.Client) -> None:
    http.post("/api/v1/namespaces", json={"name": "ns"})
    http.post("/api/v1/models", json={"namespace": "ns", "name": "m"})
    http.post("/api/v1/models/ns/m/versions", json={})
    r = http.put("/api/v1/models/ns/m/tags/team/owner", json={"value": "fraud"})
    assert r.status_code == 200, r.text
    assert r.json()["tags"] == {"team/owner": "fraud"}
    r = http.put("/api/v1/models/ns/m/versions/1/tags/k8s.io/app", json={"value": "scorer"})
    assert r.json()["tags"] == {"k8s.io/app": "scorer"}
    assert http.delete("/api/v1/models/ns/m/versions/1/tags/k8s.io/app").json()["tags"] == {}
    assert http.delete("/api/v1/models/ns/m/tags/team/owner").json()["tags"] == {}
