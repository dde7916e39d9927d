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
