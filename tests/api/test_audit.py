"""The audit log over HTTP: one event per change with actor, token and request, denied requests
recorded, reading rights, export and verification (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from modelyard.client import Client
from modelyard.db.engine import Database
from modelyard.domain.access import Role
from modelyard.services import audit
from tests import identity as make
from tests.support import sync_transport

API = "/api/v1"


@pytest.fixture
def sdk(app: Any, admin_token: str) -> Iterator[Client]:
    with (
        sync_transport(app) as transport,
        Client("http://modelyard.test", token=admin_token, transport=transport) as c,
    ):
        yield c


def _new_events(db: Database, after: int) -> list[dict[str, Any]]:
    return list(audit.iter_events(db, audit.AuditFilter(after_seq=after)))


def test_a_scripted_session_yields_one_event_per_change(
    sdk: Client, app: Any, db: Database, tmp_path: Path
) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"w" * 1000)
    make.user(db, "ann")
    secret = make.token(db, "ann")
    start = audit.head(db)["seq"]
    steps: list[tuple[Callable[[], object], list[tuple[str, str, Any, Any]]]] = [
        (lambda: sdk.create_namespace("risk"), [("namespace.created", "risk", None, ...)]),
        (
            lambda: sdk.create_model("risk/churn", description="d"),
            [("model.created", "risk/churn", None, {"description": "d", "tags": {}})],
        ),
        (
            lambda: sdk.push(tmp_path / "model", "risk/churn", progress=False),
            [("version.created", "risk/churn@1", None, ...)],
        ),
        (
            lambda: sdk.set_model_tag("risk/churn", "team", "a"),
            [("tag.set", "risk/churn", None, {"key": "team", "value": "a"})],
        ),
        (
            lambda: sdk.set_model_tag("risk/churn", "team", "b"),
            [
                (
                    "tag.set",
                    "risk/churn",
                    {"key": "team", "value": "a"},
                    {"key": "team", "value": "b"},
                )
            ],
        ),
        (
            lambda: sdk.set_alias("risk/churn", "champion", 1),
            [("alias.set", "risk/churn", None, {"alias": "champion", "version": 1})],
        ),
        (
            lambda: sdk.set_model_risk("risk/churn", "high", "scores customers"),
            [
                (
                    "risk.changed",
                    "risk/churn",
                    {"risk_level": "unassessed", "risk_reason": ""},
                    {"risk_level": "high", "risk_reason": "scores customers"},
                )
            ],
        ),
        (
            lambda: sdk.remove_alias("risk/churn", "champion"),
            [("alias.removed", "risk/churn", {"alias": "champion", "version": 1}, None)],
        ),
        (lambda: sdk.get_model("risk/churn"), []),  # reads leave no event
    ]
    seen = start
    for act, expected in steps:
        act()
        events = _new_events(db, seen)
        got = [(e["action"], e["target"], e["before"], e["after"]) for e in events]
        assert len(got) == len(expected), got
        for (action, target, before, after), event in zip(expected, events, strict=True):
            assert (event["action"], event["target"], event["before"]) == (action, target, before)
            if after is not ...:
                assert event["after"] == after
            assert event["actor"] == "admin"
            assert event["token_id"]
            assert event["actor_id"]
            assert event["request_id"]
        seen += len(events)
    # a denied request is recorded too, audit only
    with make.http_as(app, secret) as ann:
        assert ann.put(
            f"{API}/models/risk/churn/risk", json={"level": "low", "reason": "x"}
        ).status_code in (403, 404)
    (denied,) = _new_events(db, seen)
    assert (denied["action"], denied["actor"], denied["target"]) == (
        "access.denied",
        "ann",
        "risk/churn",
    )
    assert secret not in json.dumps(denied)
    assert audit.verify(db).ok


def test_admins_list_filter_and_page_events(http: httpx.Client) -> None:
    for ns in ("one", "two", "three"):
        http.post(f"{API}/namespaces", json={"name": ns})
    page = http.get(f"{API}/audit/events", params={"action": "namespace.*", "page_size": 2}).json()
    assert [e["target"] for e in page["events"]] == ["three", "two"]
    rest = http.get(
        f"{API}/audit/events",
        params={"action": "namespace.*", "page_size": 2, "page_token": page["next_page_token"]},
    ).json()
    assert [e["target"] for e in rest["events"]] == ["one"]
    assert rest["next_page_token"] is None
    oldest = http.get(f"{API}/audit/events", params={"namespace": "two", "order": "oldest"}).json()
    assert [e["action"] for e in oldest["events"]] == ["namespace.created"]


def test_namespace_admins_read_their_namespace_only(
    app: Any, http: httpx.Client, db: Database
) -> None:
    make.team(db, "mine", bea=Role.ADMIN)
    make.team(db, "theirs")
    make.team(db, "watched", bea=Role.MAINTAINER)
    with make.http_as(app, make.token(db, "bea")) as bea:
        own = bea.get(f"{API}/audit/events", params={"namespace": "mine"})
        assert own.status_code == 200
        assert {e["namespace"] for e in own.json()["events"]} == {"mine"}
        assert bea.get(f"{API}/audit/events").status_code == 403
        assert bea.get(f"{API}/audit/events", params={"namespace": "watched"}).status_code == 403
        assert bea.get(f"{API}/audit/events", params={"namespace": "theirs"}).status_code in (
            403,
            404,
        )
        assert bea.get(f"{API}/audit/verify").status_code == 403
        assert bea.get(f"{API}/audit/head").status_code == 403


def test_export_as_jsonl_verifies_offline_and_csv_has_every_field(
    http: httpx.Client, db: Database
) -> None:
    http.post(f"{API}/namespaces", json={"name": "risk"})
    http.post(f"{API}/models", json={"namespace": "risk", "name": "churn"})
    lines = http.get(f"{API}/audit/export").text.splitlines()
    assert [json.loads(line)["action"] for line in lines][-2:] == [
        "namespace.created",
        "model.created",
    ]
    head = http.get(f"{API}/audit/head").json()
    assert audit.verify_lines(lines, (head["seq"], head["hash"])).ok
    response = http.get(f"{API}/audit/export", params={"format": "csv", "action": "model.*"})
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["action"], r["target"], r["actor"]) for r in rows] == [
        ("model.created", "risk/churn", "admin")
    ]
    assert json.loads(rows[0]["after"]) == {"description": "", "tags": {}}


def test_verify_over_http_names_a_tampered_row(http: httpx.Client, db: Database) -> None:
    for ns in ("a", "b", "c"):
        http.post(f"{API}/namespaces", json={"name": ns})
    assert http.get(f"{API}/audit/verify").json()["ok"] is True
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET target = 'z' WHERE target = 'b'"))
    got = http.get(f"{API}/audit/verify").json()
    assert (got["ok"], got["problem"]) == (False, "hash")
    assert got["seq"] == next(
        e["seq"] for e in audit.iter_events(db, audit.AuditFilter()) if e["target"] == "z"
    )


@pytest.mark.parametrize(
    "params",
    [{"since": "yesterday"}, {"order": "sideways"}, {"page_token": "bogus"}, {"format": "xml"}],
)
def test_bad_queries_get_a_4xx_with_a_code(http: httpx.Client, params: dict[str, str]) -> None:
    path = "/audit/export" if "format" in params else "/audit/events"
    response = http.get(API + path, params=params)
    code = response.json()["error"]["code"]
    expected = (400, "PAGE_TOKEN_INVALID") if "page_token" in params else (422, "VALIDATION_FAILED")
    assert (response.status_code, code) == expected
