"""The server's policy: read at start (a bad file stops it with the key at fault), shown by the
API."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.domain.policy import PolicyError
from modelyard.domain.policy_document import default_policy, parse_policy
from modelyard.settings import Settings
from tests.identity import http_as

STRICT = """
format: 1
stages:
  draft: {}
  live: {exclusive: true, previous_holder_to: retired}
  retired: {}
initial_stage: draft
transitions: {draft: [live], live: [retired], retired: [live]}
requirements:
  live:
    checks: ["metrics.auc >= 0.85"]
    risk: {low: {approvals: {technical: 2}}, medium: {approvals: {technical: 2}},
           high: refuse}
"""


def test_get_policy_shows_the_built_in_policy(http: httpx.Client) -> None:
    r = http.get("/api/v1/policy")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["source"] == "built-in"
    assert parse_policy(body["policy"]) == default_policy()


def test_get_policy_shows_the_policy_file(
    settings: Settings, db: Database, admin_token: str, tmp_path: Path
) -> None:
    path = _strict_file(tmp_path)
    app = create_app(settings.with_(policy_file=str(path)), db)
    with http_as(app, admin_token) as client:
        body = client.get("/api/v1/policy").json()
    assert body["source"] == str(path)
    assert body["policy"] == parse_policy(STRICT).to_document()
    assert body["policy"]["requirements"]["live"]["risk"]["high"] == "refuse"


def test_get_policy_needs_a_signed_in_caller(app) -> None:  # type: ignore[no-untyped-def]
    with http_as(app) as anonymous:
        assert anonymous.get("/api/v1/policy").status_code == 401


def test_create_app_refuses_an_invalid_policy_naming_the_key(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(STRICT.replace("technical: 2}}, medium", "technical: two}}, medium"))
    with pytest.raises(PolicyError) as caught:
        create_app(settings.with_(policy_file=str(path)))
    assert "requirements.live.risk.low.approvals.technical" in caught.value.message
    assert str(path) in caught.value.message


def test_create_app_refuses_a_missing_policy_file(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        create_app(settings.with_(policy_file=str(tmp_path / "nowhere.yaml")))


def test_create_app_refuses_approvals_in_a_capacity_the_server_lacks(
    settings: Settings, tmp_path: Path
) -> None:
    path = _strict_file(tmp_path)
    with pytest.raises(PolicyError, match="approvals as technical, which no one can give"):
        create_app(settings.with_(policy_file=str(path), reviewer_capacities="legal"))


def test_the_policys_own_stages_resolve_and_are_reserved_as_aliases(
    settings: Settings, db: Database, admin_token: str, tmp_path: Path
) -> None:
    path = _strict_file(tmp_path)
    app = create_app(settings.with_(policy_file=str(path)), db)
    with http_as(app, admin_token) as client:
        assert client.post("/api/v1/namespaces", json={"name": "team"}).status_code == 201
        made = client.post("/api/v1/models", json={"namespace": "team", "name": "m"})
        assert made.status_code == 201
        for _ in range(2):
            created = client.post("/api/v1/models/team/m/versions", json={"description": "d"})
            assert created.json()["stage"] == "draft"  # the policy's initial stage
        resolved = client.get("/api/v1/resolve", params={"ref": "team/m@draft"})
        assert (resolved.status_code, resolved.json()["version"]) == (200, 2)
        nothing = client.get("/api/v1/resolve", params={"ref": "team/m@live"})
        assert (nothing.status_code, nothing.json()["error"]["code"]) == (404, "ALIAS_NOT_FOUND")
        refused = client.put("/api/v1/models/team/m/aliases/live", json={"version": 1})
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "ALIAS_RESERVED")
        assert client.put("/api/v1/models/team/m/aliases/best", json={"version": 1}).is_success


def _strict_file(tmp_path: Path) -> Path:
    """A policy file holding STRICT."""
    path = tmp_path / "policy.yaml"
    path.write_text(STRICT)
    return path
