"""The hot routes' fast path (api/fastpath.py) answers exactly as the FastAPI routes do.

Each request is sent twice: through an app with the fast path to namespace ``fastns``, and
through one without it to ``plainns`` (same database, same callers, same set-up). Status,
headers, body, the rows written (versions, tags, search documents), the audit events, the
outbox events and the recorded refusals must be the same once the namespace, ids and clocks
are masked. Other tests check that the fast path is really taken, and that the middleware
duties (request id, metrics, audit context) hold for it. SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from modelyard.api.app import create_app
from modelyard.api.fastpath import CREATE_VERSION, RESOLVE, _version_body
from modelyard.api.schemas import VersionCreate
from modelyard.db.engine import Database
from modelyard.settings import Settings
from tests import identity as make
from tests.support import sync_transport

API = "/api/v1"
FAST, PLAIN = "fastns", "plainns"  # one word each: search documents split names
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?")


def _masked(value: Any, namespace: str) -> str:
    raw = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    raw = raw.replace(namespace, "NS")
    return _TIME.sub("<time>", _UUID.sub("<id>", raw))


@dataclass
class Callers:
    admin: str
    viewer: str  # viewer of both namespaces: may read, may not write
    stranger: str  # member of neither (both private): both are hidden from them


@pytest.fixture
def callers(http: httpx.Client, db: Database, admin_token: str) -> Callers:
    """Both namespaces private, each with model ``m`` (versions 1 and 2, alias ``champion`` on
    1) and an archived model ``old``; ``vic`` views both, ``sam`` is in neither."""
    make.user(db, "vic")
    make.user(db, "sam")
    for ns in (FAST, PLAIN):
        assert http.post(f"{API}/namespaces", json={"name": ns}).status_code == 201
        for model in ("m", "old"):
            r = http.post(f"{API}/models", json={"namespace": ns, "name": model})
            assert r.status_code == 201, r.text
        for _ in range(2):
            assert http.post(f"{API}/models/{ns}/m/versions", json={}).status_code == 201
        r = http.put(f"{API}/models/{ns}/m/aliases/champion", json={"version": 1})
        assert r.status_code == 200, r.text
        assert http.post(f"{API}/models/{ns}/old/archive").status_code == 200
        r = http.put(f"{API}/namespaces/{ns}/members/vic", json={"role": "viewer"})
        assert r.is_success, r.text
    return Callers(admin_token, make.token(db, "vic"), make.token(db, "sam"))


@pytest.fixture
def plain_app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db, fast_paths=False)


@dataclass
class Step:
    method: str
    path: str  # "{ns}" is the namespace
    caller: str = "admin"  # a Callers field, or "" for none
    body: bytes | None = None
    content_type: str | None = "application/json"
    params: str = ""  # the raw query string, "{ns}" replaced

    def send(self, c: httpx.Client, ns: str, callers: Callers, number: int) -> httpx.Response:
        headers = {"X-Request-ID": f"step{number}"}
        if self.caller:
            headers["Authorization"] = f"Bearer {getattr(callers, self.caller)}"
        if self.content_type is not None and self.body is not None:
            headers["Content-Type"] = self.content_type
        url = self.path.replace("{ns}", ns)
        if self.params:
            url += "?" + self.params.replace("{ns}", ns)
        return c.request(self.method, url, content=self.body, headers=headers)


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


CREATE = f"{API}/models/{{ns}}/m/versions"
STEPS = [
    Step("POST", CREATE, body=_json({"description": "d", "tags": {"team": "t1"}})),
    Step("POST", CREATE, body=_json({"metrics": {"auc": 0.9, "n": 3}, "tags": {"a/b": "é"}})),
    Step("POST", CREATE, body=b"{}"),
    Step("POST", CREATE, body=_json({"description": "x", "card": "# card"})),
    Step("POST", CREATE, body=_json({"metrics": {"auc": float("nan")}})),  # the service refuses
    Step("POST", CREATE, body=_json({"tags": {"bad key!": "v"}})),
    Step("POST", CREATE, body=_json({"derived_from": ["{ns}/m@1"]}).replace(b"{ns}", b"NSX")),
    Step("POST", CREATE, body=_json({"unknown": 1})),  # 422 from FastAPI
    Step("POST", CREATE, body=_json({"description": 5})),
    Step("POST", CREATE, body=_json([1, 2])),
    Step("POST", CREATE, body=b"{not json"),
    Step("POST", CREATE, body=b""),
    Step("POST", CREATE, body=b'{"description": "d"}', content_type="text/plain"),
    Step("POST", CREATE, body=b'{"description": "d"}', content_type=None),
    # Bodies pydantic's JSON parser (the fast path's) might read unlike json.loads (the route's)
    Step("POST", CREATE, body=b'{"description": "a", "description": "b"}'),  # the last wins
    Step("POST", CREATE, body=b'{"description": "a\\ud800b"}'),  # a lone surrogate
    Step("POST", CREATE, body=b'{"metrics": {"a": -0.0, "b": 1e400, "c": 100000000000000000001}}'),
    Step("POST", CREATE, body=b'{"metrics": {"a": 0.1000000000000000055511151231257827}}'),
    Step("POST", CREATE, body=b'{"metrics": {"a": "1.5", "b": true}}'),
    Step("POST", CREATE, body=b'\xef\xbb\xbf{"description": "bom"}'),  # route only: accepted
    Step("POST", CREATE, body=b'{"description": "\xff"}'),  # not UTF-8
    Step("POST", CREATE, body=b'{"derived_from": ' + b"[" * 300 + b"]" * 300 + b"}"),  # deep
    Step("POST", CREATE, caller="", body=b"{}"),  # 401
    Step("POST", CREATE, caller="viewer", body=b"{}"),  # 403, recorded
    Step("POST", CREATE, caller="stranger", body=b"{}"),  # hidden: 404, recorded
    Step("POST", f"{API}/models/{{ns}}/nope/versions", body=b"{}"),
    Step("POST", f"{API}/models/{{ns}}/old/versions", body=b"{}"),  # archived
    Step("POST", f"{API}/models/{{ns}}/m/versions", body=b"{}", params="x=1"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m%40champion"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@1"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@latest"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@development"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@nobody"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@99"),
    Step("GET", f"{API}/resolve", params="ref={ns}/nope@1"),
    Step("GET", f"{API}/resolve", params="ref=not a reference"),
    Step("GET", f"{API}/resolve", params="ref="),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@" + "a" * 300),
    Step("GET", f"{API}/resolve", params=""),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@1&ref={ns}/m@2"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@1", caller="viewer"),
    Step("GET", f"{API}/resolve", params="ref={ns}/m@1", caller="stranger"),  # hidden
    Step("GET", f"{API}/resolve", params="ref={ns}/m@1", caller=""),
    Step("HEAD", f"{API}/resolve", params="ref={ns}/m@1"),
]


@contextmanager
def _client(app: FastAPI) -> Iterator[httpx.Client]:
    with (
        sync_transport(app) as transport,
        httpx.Client(transport=transport, base_url="http://modelyard.test") as client,
    ):
        yield client


def _response(r: httpx.Response, ns: str) -> tuple[Any, ...]:
    headers = {k: r.headers.get(k) for k in ("content-type", "www-authenticate", "x-request-id")}
    return r.status_code, headers, _masked(r.text, ns)


def _rows(db: Database, ns: str) -> dict[str, str]:
    """What the steps wrote for namespace ``ns``, masked."""
    like = f"%{ns}%"
    queries = {
        "versions": "SELECT m.name, v.number, v.description, v.stage, v.status, v.metrics,"
        " v.created_by, v.manifest_digest, v.archived_at IS NULL FROM versions v"
        " JOIN models m ON m.id = v.model_id WHERE v.namespace = :ns ORDER BY m.name, v.number",
        "tags": "SELECT v.number, t.key, t.value FROM version_tags t JOIN versions v"
        " ON v.id = t.version_id WHERE v.namespace = :ns ORDER BY v.number, t.key",
        "documents": "SELECT d.body FROM search_documents d JOIN versions v ON v.id = d.entity_id"
        " WHERE v.namespace = :ns ORDER BY v.number",
        "cards": "SELECT v.number FROM version_cards c JOIN versions v ON v.id = c.version_id"
        " WHERE v.namespace = :ns ORDER BY v.number",
        "counters": "SELECT name, version_counter FROM models WHERE namespace = :ns ORDER BY name",
        "audit": "SELECT actor, actor_id, token_id, action, target, before, after, request_id"
        " FROM audit_events WHERE namespace = :ns ORDER BY seq",
        "outbox": "SELECT type, target, payload FROM outbox_events WHERE namespace = :ns"
        " ORDER BY seq",
        "denied": "SELECT actor, actor_id, token_id, action, target, method, path, status, code,"
        " client, request_id FROM denied_requests WHERE path LIKE :like OR target LIKE :like"
        " ORDER BY request_id",
    }
    with db.read() as s:
        return {
            name: _masked([list(r) for r in s.execute(text(sql), {"ns": ns, "like": like})], ns)
            for name, sql in queries.items()
        }


def test_the_fast_path_answers_and_writes_as_the_routes_do(
    app: FastAPI, plain_app: FastAPI, callers: Callers, db: Database
) -> None:
    before = dict(app.state.fast_paths_taken)
    with _client(app) as fast, _client(plain_app) as plain:
        for number, step in enumerate(STEPS):
            got = _response(step.send(fast, FAST, callers, number), FAST)
            want = _response(step.send(plain, PLAIN, callers, number), PLAIN)
            assert got == want, (number, step)
    assert _rows(db, FAST) == _rows(db, PLAIN)
    assert not plain_app.state.fast_paths_taken
    taken = app.state.fast_paths_taken
    # the well-formed ones (by their shape, whatever the answer): 16 creations, 11 resolves
    assert taken[CREATE_VERSION] - before.get(CREATE_VERSION, 0) == 16
    assert taken[RESOLVE] - before.get(RESOLVE, 0) == 11


def test_the_middleware_duties_hold_on_the_fast_path(
    app: FastAPI, http: httpx.Client, callers: Callers, db: Database
) -> None:
    """Request id (kept from the client, sent back, in the audit event), metrics by route
    template, the body size limit and the NUL refusal all hold for requests served fast."""
    taken = app.state.fast_paths_taken
    before = taken[CREATE_VERSION], taken[RESOLVE]
    r = http.post(f"{API}/models/{FAST}/m/versions", json={}, headers={"X-Request-ID": "abc123"})
    assert r.status_code == 201
    assert r.headers["x-request-id"] == "abc123"
    r = http.get(f"{API}/resolve", params={"ref": f"{FAST}/m@champion"})
    assert r.status_code == 200
    assert r.json()["version"] == 1
    assert len(r.headers["x-request-id"]) == 32
    assert (taken[CREATE_VERSION], taken[RESOLVE]) == (before[0] + 1, before[1] + 1)
    with db.read() as s:
        request_id = s.execute(
            text("SELECT request_id FROM audit_events WHERE namespace = :ns ORDER BY seq DESC"),
            {"ns": FAST},
        ).scalar()
    assert request_id == "abc123"
    metrics = http.get("/metrics").text
    assert (
        'modelyard_http_requests_total{method="POST",route="/api/v1/models/{namespace}/{name}/'
        'versions",status="201"}' in metrics
    )
    assert 'route="/api/v1/resolve",status="200"}' in metrics
    limit = app.state.settings.max_request_body_bytes
    big = _json({"description": "x" * limit})
    r = http.post(f"{API}/models/{FAST}/m/versions", content=big, headers=_JSON_HEADERS)
    assert (r.status_code, r.json()["error"]["code"]) == (413, "PAYLOAD_TOO_LARGE")
    r = http.post(f"{API}/models/{FAST}/m%00/versions", content=b"{}", headers=_JSON_HEADERS)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "BAD_REQUEST")
    assert (taken[CREATE_VERSION], taken[RESOLVE]) == (before[0] + 1, before[1] + 1)


_JSON_HEADERS = {"Content-Type": "application/json"}


def test_a_version_created_fast_is_one_transaction_with_its_audit_entry(
    app: FastAPI, http: httpx.Client, callers: Callers, db: Database
) -> None:
    """Each creation served fast writes its version with one audit event and one outbox
    event; a refused one (a NaN metric, which Python's JSON reads) writes none of them and
    leaves no gap in the numbers."""
    r = http.post(
        f"{API}/models/{FAST}/m/versions",
        content=b'{"metrics": {"auc": NaN}}',
        headers=_JSON_HEADERS,
    )
    assert r.status_code == 422, r.text
    r = http.post(f"{API}/models/{FAST}/m/versions", json={"description": "third"})
    assert r.json()["version"] == 3
    rows = _rows(db, FAST)
    assert rows["versions"].count('"m", ') == 3
    assert rows["audit"].count("version.created") == 3
    assert rows["outbox"].count('["version.created"') == 3


BODIES = [
    b'{"description": "d", "tags": {"team": "t1"}}',
    b'{"description": "a", "description": "b"}',
    b'{"description": "a\\ud800b"}',
    b'{"description": "\\u00e9\\ud83d\\ude00", "tags": {"k": "\xc3\xa9"}}',
    b'{"metrics": {"a": NaN, "b": Infinity, "c": -Infinity}}',
    b'{"metrics": {"a": -0.0, "b": 1e400, "c": 5e-324, "d": 1.7976931348623157e308}}',
    b'{"metrics": {"a": 100000000000000000001, "b": 123456789012345678901234567890.5}}',
    b'{"metrics": {"a": 0.1000000000000000055511151231257827, "b": 2.5e-8}}',
    b'{"metrics": {"a": "1.5", "b": true, "c": 3}}',
    b'{"tags": {"k": 1}}',
    b'{"metric_details": [{"name": "auc", "value": 0.5, "dataset": "d", "split": "test"}]}',
    b'{"derived_from": ["a/b@1"], "depends_on": ["c/d@latest"], "card": "# c"}',
    b' \n{"description": "x"}\t ',
    b'\xef\xbb\xbf{"description": "bom"}',
    b'{"description": "\xff"}',
    b'{"derived_from": ' + b"[" * 300 + b"]" * 300 + b"}",
    b"[]",
    b"null",
    b'"text"',
]


@pytest.mark.parametrize("raw", BODIES)
def test_the_fast_path_reads_a_body_as_the_route_does(raw: bytes) -> None:
    """Pydantic's JSON parser (the fast path) and ``json.loads`` then validation (the route)
    agree on every body the fast path accepts; the fast path may only refuse more (it then
    hands the body to the route), and does so only for a byte order mark."""
    try:
        route: VersionCreate | None = VersionCreate.model_validate(json.loads(raw))
    except (ValueError, RecursionError):  # JSONDecodeError, UnicodeDecodeError, ValidationError
        route = None
    fast = _version_body(raw)
    if fast is not None:
        assert route is not None
        assert repr(fast.model_dump()) == repr(route.model_dump())  # NaN != NaN: compare text
    elif route is not None:
        assert raw.startswith(b"\xef\xbb\xbf")
