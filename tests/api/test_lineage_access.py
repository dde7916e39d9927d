"""Datasets, lineage and the inventory keep to the access rules: a team's private datasets and
models stay out of another team's answers, and a reader cannot write."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from modelyard.db.engine import Database
from modelyard.domain.access import Role
from tests import identity as make

API = "/api/v1"


@pytest.fixture
def teams(db: Database, http: httpx.Client) -> None:
    """Private teams alpha (ann maintains it) and beta (bob); beta's model is derived from
    alpha's, and both train on their own team's data."""
    make.team(db, "alpha", ann=Role.MAINTAINER, vic=Role.VIEWER)
    make.team(db, "beta", bob=Role.MAINTAINER)
    for ns, model in (("alpha", "base"), ("beta", "tuned")):
        dataset = {"namespace": ns, "name": "rows", "version": "1", "uri": f"s3://{ns}/rows",
                   "classifications": ["pii"]}  # fmt: skip
        assert http.post(f"{API}/datasets", json=dataset).status_code == 201
        assert http.post(f"{API}/models", json={"namespace": ns, "name": model}).status_code == 201
    body: dict[str, Any] = {"ingredients": {"data": [{"dataset": "alpha/rows@1"}]}}
    assert http.post(f"{API}/models/alpha/base/versions", json=body).status_code == 201
    body = {"derived_from": ["alpha/base@1"], "ingredients": {"data": [{"dataset": "beta/rows@1"}]}}
    assert http.post(f"{API}/models/beta/tuned/versions", json=body).status_code == 201


def _as(app: Any, db: Database, user: str, scopes: list[str] | None = None) -> Any:
    return make.http_as(app, make.token(db, user, scopes))


@pytest.mark.usefixtures("teams")
def test_another_teams_private_dataset_is_not_found(app: Any, db: Database) -> None:
    with _as(app, db, "ann") as ann:
        theirs = ann.get(f"{API}/datasets/beta/rows/versions/1")
        listed = [d["reference"] for d in ann.get(f"{API}/datasets").json()["items"]]
        affected = ann.get(f"{API}/datasets/beta/rows/versions/1/affected")
    assert (theirs.status_code, theirs.json()["error"]["code"]) == (404, "NAMESPACE_NOT_FOUND")
    assert listed == ["alpha/rows@1"]
    assert affected.status_code == 404


@pytest.mark.usefixtures("teams")
def test_graphs_and_affected_lists_leave_out_what_the_caller_may_not_read(
    app: Any, db: Database
) -> None:
    with _as(app, db, "ann") as ann:
        graph = ann.get(f"{API}/models/alpha/base/versions/1/lineage").json()
        affected = ann.get(f"{API}/datasets/alpha/rows/versions/1/affected").json()
        inventory = ann.get(f"{API}/inventory").json()
    assert {n["id"] for n in graph["nodes"]} == {"version:alpha/base@1", "dataset:alpha/rows@1"}
    assert [v["reference"] for v in affected["versions"]] == ["alpha/base@1"]
    assert [m["full_name"] for m in inventory["models"]] == ["alpha/base"]
    with _as(app, db, "bob") as bob:
        theirs = bob.get(f"{API}/inventory").json()["models"]
    assert [(m["full_name"], m["classifications"]) for m in theirs] == [("beta/tuned", ["pii"])]


@pytest.mark.usefixtures("teams")
def test_a_viewer_cannot_register_revoke_or_declare(app: Any, db: Database) -> None:
    dataset = {"namespace": "alpha", "name": "more", "version": "1", "uri": "s3://x"}
    with _as(app, db, "vic") as vic:
        refused = [
            vic.post(f"{API}/datasets", json=dataset),
            vic.post(f"{API}/datasets/alpha/rows/versions/1/revoke", json={"reason": "x"}),
            vic.put(f"{API}/models/alpha/base/consumers/job", json={"reference": "1"}),
        ]
        allowed = vic.get(f"{API}/models/alpha/base/versions/1/ingredients")
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert allowed.status_code == 200


@pytest.mark.usefixtures("teams")
def test_a_read_only_token_reads_the_inventory_but_cannot_revoke(app: Any, db: Database) -> None:
    with _as(app, db, "ann", ["read:alpha"]) as ann:
        listed = ann.get(f"{API}/inventory", params={"format": "csv"})
        revoke = ann.post(f"{API}/datasets/alpha/rows/versions/1/revoke", json={"reason": "x"})
    assert listed.status_code == 200
    assert listed.text.count("\n") == 2  # header and alpha/base
    assert revoke.status_code == 403
