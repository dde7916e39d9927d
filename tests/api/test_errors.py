"""Every error path of the API answers with its registry status and the one JSON shape:

    {"error": {"code": "<a code from ERROR_CODES>", "message": "...", "details": {...}}}

``CASES`` holds one or more real HTTP requests per registered code; a guard fails when a code is
added to ``domain/errors.py`` without a case here. INTERNAL, DATABASE_UNAVAILABLE and CONFLICT
cannot be provoked by a client against a healthy server, so each has a test of its own below.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.db.tables import ApiTokenRow, NamespaceRow
from modelyard.db.types import utcnow
from modelyard.domain.access import new_token
from modelyard.domain.errors import ERROR_CODES
from modelyard.settings import Settings
from tests import identity
from tests.support import sync_transport

API = "/api/v1"
FRAUD = f"{API}/models/risk-team/fraud"
# UPLOAD_BUSY and BLOB_STORE_UNAVAILABLE have theirs in tests/api/test_blobs_errors.py.
OWN_TESTS = {
    "INTERNAL",
    "DATABASE_UNAVAILABLE",
    "CONFLICT",
    "UPLOAD_BUSY",
    "BLOB_STORE_UNAVAILABLE",
    "TRANSITION_CONFLICT",
}
NO_BLOB = "sha256:" + "0" * 64


@dataclass(frozen=True)
class Ctx:
    http: httpx.Client
    body_limit: int
    app: FastAPI


@dataclass(frozen=True)
class Case:
    code: str
    what: str
    call: Callable[[Ctx], httpx.Response]


def _token(c: Ctx, path: str, **params: Any) -> str:
    page = c.http.get(path, params={"page_size": 1, **params})
    assert page.status_code == 200, page.text
    token = page.json()["next_page_token"]
    assert token, f"seed data gives {path} {params} a second page"
    return str(token)


def _decode(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    return payload


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _tampered(c: Ctx, path: str, key: Callable[[list[Any]], list[Any]], **params: Any) -> str:
    """A real token for ``path`` whose sort key ``key`` rewrites (the fingerprint stays valid)."""
    payload = _decode(_token(c, path, **params))
    return _encode({**payload, "k": key(payload["k"])})


def _get_with_token(
    path: str, token: Callable[[Ctx], str], **params: Any
) -> Callable[[Ctx], httpx.Response]:
    return lambda c: c.http.get(path, params={"page_size": 1, **params, "page_token": token(c)})


def _raw(method: str, path: str, body: bytes, content_type: str) -> Callable[[Ctx], httpx.Response]:
    return lambda c: c.http.request(
        method, path, content=body, headers={"content-type": content_type}
    )


def _session(c: Ctx, size: int | None = None) -> str:
    r = c.http.post(f"{API}/blobs/uploads", json={"size": size})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _chunk(c: Ctx, upload_id: str, start: int, data: bytes) -> httpx.Response:
    headers = {"content-range": f"bytes {start}-{start + len(data) - 1}/*"}
    return c.http.patch(f"{API}/blobs/uploads/{upload_id}", content=data, headers=headers)


def _manifest(path: str = "a.bin", digest: str = NO_BLOB, **extra: Any) -> dict[str, Any]:
    return {"manifest": {"artifacts": [{"path": path, "size": 1, "digest": digest, **extra}]}}


def _past_the_end(c: Ctx) -> httpx.Response:
    put = c.http.put(
        f"{API}/blobs/sha256:{hashlib.sha256(b'ten bytes!').hexdigest()}", content=b"ten bytes!"
    )
    assert put.status_code in (200, 201), put.text
    return c.http.get(put.headers["location"], headers={"range": "bytes=10-"})


CASES = [
    Case(
        "BAD_REQUEST",
        "malformed JSON",
        _raw("POST", f"{API}/namespaces", b'{"name": "x",', "application/json"),
    ),
    Case(
        "BAD_REQUEST",
        "JSON that is not UTF-8",
        _raw("POST", f"{API}/namespaces", b'{"name": "\xff"}', "application/json"),
    ),
    Case("BAD_REQUEST", "NUL in a path", lambda c: c.http.get(f"{API}/models/risk-team/fr%00aud")),
    Case(
        "VALIDATION_FAILED",
        "unknown body field",
        lambda c: c.http.patch(FRAUD, json={"risk_level": "low"}),
    ),
    Case(
        "VALIDATION_FAILED",
        "wrong body type",
        lambda c: c.http.post(f"{API}/namespaces", json={"name": 7}),
    ),
    Case(
        "VALIDATION_FAILED", "body not an object", lambda c: c.http.post(f"{API}/models", json=[])
    ),
    Case(
        "VALIDATION_FAILED",
        "query parameter type",
        lambda c: c.http.get(f"{API}/models", params={"page_size": "ten"}),
    ),
    Case("VALIDATION_FAILED", "version number 0", lambda c: c.http.get(f"{FRAUD}/versions/0")),
    Case(
        "VALIDATION_FAILED",
        "non-finite metric",
        _raw("POST", f"{FRAUD}/versions", b'{"metrics": {"auc": NaN}}', "application/json"),
    ),
    Case(
        "VALIDATION_FAILED",
        "unknown risk level",
        lambda c: c.http.put(f"{FRAUD}/risk", json={"level": "extreme", "reason": "why"}),
    ),
    Case(
        "NAME_INVALID",
        "namespace name",
        lambda c: c.http.post(f"{API}/namespaces", json={"name": "Risk Team"}),
    ),
    Case(
        "NAME_INVALID",
        "model name",
        lambda c: c.http.post(f"{API}/models", json={"namespace": "risk-team", "name": "-x"}),
    ),
    Case(
        "NAME_INVALID", "alias", lambda c: c.http.put(f"{FRAUD}/aliases/Champ", json={"version": 1})
    ),
    Case(
        "NAME_INVALID", "tag key", lambda c: c.http.put(f"{FRAUD}/tags/a%20b", json={"value": "v"})
    ),
    Case(
        "REFERENCE_INVALID",
        "no model name",
        lambda c: c.http.get(f"{API}/resolve", params={"ref": "fraud"}),
    ),
    Case(
        "REFERENCE_INVALID",
        "bad digest",
        lambda c: c.http.get(f"{API}/resolve", params={"ref": "risk-team/fraud@sha256:xyz"}),
    ),
    Case(
        "FILTER_INVALID",
        "missing value",
        lambda c: c.http.get(f"{API}/models", params={"filter": "name = "}),
    ),
    Case(
        "FILTER_INVALID",
        "unknown field",
        lambda c: c.http.get(f"{API}/versions", params={"filter": "colour = 'red'"}),
    ),
    Case(
        "ORDER_BY_INVALID",
        "unknown field",
        lambda c: c.http.get(f"{API}/models", params={"order_by": "colour"}),
    ),
    Case(
        "ORDER_BY_INVALID",
        "bad direction",
        lambda c: c.http.get(f"{API}/versions", params={"order_by": "version SIDEWAYS"}),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "garbage",
        lambda c: c.http.get(f"{API}/models", params={"page_token": "garbage!"}),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "garbage for namespaces",
        lambda c: c.http.get(f"{API}/namespaces", params={"page_token": "e30"}),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "token from another query",
        _get_with_token(
            f"{API}/models",
            lambda c: _token(c, f"{API}/models", order_by="name"),
            order_by="created_at",
        ),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "token from another resource",
        _get_with_token(f"{API}/versions", lambda c: _token(c, f"{API}/namespaces")),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "tampered: integer beyond any column",
        _get_with_token(
            f"{API}/versions",
            lambda c: _tampered(c, f"{API}/versions", lambda k: [10**30, k[1]], order_by="version"),
            order_by="version",
        ),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "tampered: wrong type",
        _get_with_token(
            f"{API}/models",
            lambda c: _tampered(
                c, f"{API}/models", lambda k: [1, 2, k[2]], order_by="namespace, name"
            ),
            order_by="namespace, name",
        ),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "tampered: NUL in a name",
        _get_with_token(
            f"{API}/namespaces", lambda c: _tampered(c, f"{API}/namespaces", lambda k: ["a\x00"])
        ),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "tampered: time overflowing in UTC",
        _get_with_token(
            f"{API}/models",
            lambda c: _tampered(
                c,
                f"{API}/models",
                lambda k: [{"t": "0001-01-01T00:00:00+05:00"}, k[1]],
                order_by="created_at",
            ),
            order_by="created_at",
        ),
    ),
    Case(
        "PAGE_TOKEN_INVALID",
        "tampered: id not a UUID",
        _get_with_token(
            f"{API}/models",
            lambda c: _tampered(c, f"{API}/models", lambda k: [k[0], k[1], "not-a-uuid"]),
        ),
    ),
    Case(
        "ALIAS_RESERVED",
        "latest",
        lambda c: c.http.put(f"{FRAUD}/aliases/latest", json={"version": 1}),
    ),
    Case(
        "ALIAS_RESERVED",
        "a stage",
        lambda c: c.http.put(f"{FRAUD}/aliases/production", json={"version": 1}),
    ),
    Case("NOT_FOUND", "unknown route", lambda c: c.http.get(f"{API}/nothing-here")),
    Case("NAMESPACE_NOT_FOUND", "get", lambda c: c.http.get(f"{API}/namespaces/nobody")),
    Case(
        "NAMESPACE_NOT_FOUND",
        "model in a missing namespace",
        lambda c: c.http.post(f"{API}/models", json={"namespace": "nobody", "name": "x"}),
    ),
    Case("MODEL_NOT_FOUND", "get", lambda c: c.http.get(f"{API}/models/risk-team/nothing")),
    Case(
        "MODEL_NOT_FOUND",
        "list versions",
        lambda c: c.http.get(f"{API}/models/risk-team/nothing/versions"),
    ),
    Case(
        "MODEL_NOT_FOUND",
        "resolve",
        lambda c: c.http.get(f"{API}/resolve", params={"ref": "risk-team/nothing@1"}),
    ),
    Case("VERSION_NOT_FOUND", "get", lambda c: c.http.get(f"{FRAUD}/versions/99")),
    Case(
        "VERSION_NOT_FOUND",
        "alias to a missing version",
        lambda c: c.http.put(f"{FRAUD}/aliases/next", json={"version": 99}),
    ),
    Case(
        "VERSION_NOT_FOUND",
        "empty stage",
        lambda c: c.http.get(f"{API}/resolve", params={"ref": "risk-team/fraud@production"}),
    ),
    Case("ALIAS_NOT_FOUND", "remove", lambda c: c.http.delete(f"{FRAUD}/aliases/nothing")),
    Case(
        "ALIAS_NOT_FOUND",
        "resolve",
        lambda c: c.http.get(f"{API}/resolve", params={"ref": "risk-team/fraud@nothing"}),
    ),
    Case("TAG_NOT_FOUND", "model tag", lambda c: c.http.delete(f"{FRAUD}/tags/nothing")),
    Case(
        "TAG_NOT_FOUND", "version tag", lambda c: c.http.delete(f"{FRAUD}/versions/1/tags/nothing")
    ),
    Case("METHOD_NOT_ALLOWED", "DELETE a collection", lambda c: c.http.delete(f"{API}/models")),
    Case("METHOD_NOT_ALLOWED", "PUT a model", lambda c: c.http.put(FRAUD, json={})),
    Case(
        "NAMESPACE_EXISTS",
        "create twice",
        lambda c: c.http.post(f"{API}/namespaces", json={"name": "risk-team"}),
    ),
    Case(
        "MODEL_EXISTS",
        "create twice",
        lambda c: c.http.post(f"{API}/models", json={"namespace": "risk-team", "name": "fraud"}),
    ),
    Case(
        "NAMESPACE_ARCHIVED",
        "new model",
        lambda c: c.http.post(f"{API}/models", json={"namespace": "old-team", "name": "x"}),
    ),
    Case(
        "MODEL_ARCHIVED",
        "update",
        lambda c: c.http.patch(f"{API}/models/risk-team/retired", json={"description": "d"}),
    ),
    Case(
        "MODEL_ARCHIVED",
        "new version",
        lambda c: c.http.post(f"{API}/models/risk-team/retired/versions", json={}),
    ),
    Case(
        "VERSION_ARCHIVED",
        "update",
        lambda c: c.http.patch(f"{FRAUD}/versions/3", json={"description": "d"}),
    ),
    Case(
        "VERSION_ARCHIVED",
        "alias to it",
        lambda c: c.http.put(f"{FRAUD}/aliases/old", json={"version": 3}),
    ),
    Case(
        "PAYLOAD_TOO_LARGE",
        "body over the limit",
        lambda c: c.http.post(
            f"{API}/namespaces", json={"name": "big", "description": "x" * c.body_limit}
        ),
    ),
    Case(
        "UNSUPPORTED_MEDIA_TYPE",
        "JSON sent as text/plain",
        _raw("POST", f"{API}/namespaces", b'{"name": "plain"}', "text/plain"),
    ),
    Case(
        "UNSUPPORTED_MEDIA_TYPE",
        "form encoded",
        _raw("PATCH", FRAUD, b"description=d", "application/x-www-form-urlencoded"),
    ),
    Case(
        "DIGEST_INVALID",
        "malformed digest",
        lambda c: c.http.post(f"{API}/blobs/missing", json={"digests": ["sha256:xyz"]}),
    ),
    Case(
        "DIGEST_INVALID",
        "bytes differ from the digest",
        lambda c: c.http.put(f"{API}/blobs/{NO_BLOB}", content=b"not zeros"),
    ),
    Case(
        "BATCH_INVALID",
        "not a tar stream",
        lambda c: c.http.post(f"{API}/blobs/batch", content=b"plain bytes, no tar headers"),
    ),
    Case(
        "SIZE_INVALID", "chunk past declared size", lambda c: _chunk(c, _session(c, 2), 0, b"abc")
    ),
    Case(
        "ARTIFACT_PATH_INVALID",
        "path with ..",
        lambda c: c.http.post(f"{FRAUD}/versions", json=_manifest("../escape")),
    ),
    Case(
        "MANIFEST_INVALID",
        "bad media type",
        lambda c: c.http.post(f"{FRAUD}/versions", json=_manifest(media_type="NOT A TYPE")),
    ),
    Case(
        "MANIFEST_BLOB_UNKNOWN",
        "blob never uploaded",
        lambda c: c.http.post(f"{FRAUD}/versions", json=_manifest()),
    ),
    Case(
        "RANGE_INVALID",
        "chunk without Content-Range",
        lambda c: c.http.patch(f"{API}/blobs/uploads/{_session(c)}", content=b"abc"),
    ),
    Case("BLOB_NOT_FOUND", "download", lambda c: c.http.get(f"{API}/blobs/{NO_BLOB}")),
    Case(
        "UPLOAD_NOT_FOUND",
        "status",
        lambda c: c.http.get(f"{API}/blobs/uploads/00000000-0000-4000-8000-000000000000"),
    ),
    Case("MANIFEST_NOT_FOUND", "no files", lambda c: c.http.get(f"{FRAUD}/versions/1/manifest")),
    Case(
        "BLOB_TOO_LARGE",
        "declared size",
        lambda c: c.http.post(f"{API}/blobs/uploads", json={"size": 2**60}),
    ),
    Case("CHUNK_OUT_OF_ORDER", "gap", lambda c: _chunk(c, _session(c), 5, b"abc")),
    Case("RANGE_NOT_SATISFIABLE", "past the end", _past_the_end),
]


# Identity and access: callers other than the fixture's global admin.


def _send_as(c: Ctx, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    request = c.http.build_request(method, path, **kw)
    del request.headers["authorization"]
    if token is not None:
        request.headers["authorization"] = f"Bearer {token}"
    return c.http.send(request)


def _new_token(c: Ctx, **body: Any) -> dict[str, Any]:
    made = c.http.post(f"{API}/tokens", json={"name": "case", **body})
    assert made.status_code == 201, made.text
    token: dict[str, Any] = made.json()
    return token


def _revoked_token(c: Ctx) -> str:
    token = _new_token(c)
    c.http.delete(f"{API}/tokens/{token['id']}")
    return str(token["token"])


def _expired_token(c: Ctx) -> str:
    token = _new_token(c)
    with c.app.state.db.write() as s:
        row = s.get_one(ApiTokenRow, uuid.UUID(token["id"]))
        row.expires_at = utcnow() - timedelta(seconds=1)
    return str(token["token"])


def _then(*calls: Callable[[Ctx], httpx.Response]) -> Callable[[Ctx], httpx.Response]:
    """Make the requests in turn; the last one's answer is the case's."""
    return lambda c: [call(c) for call in calls][-1]


def _browser_post_without_csrf(c: Ctx) -> httpx.Response:
    c.http.post(f"{API}/users", json={"name": "by-browser", "password": "correct horse"})
    with (
        sync_transport(c.app) as transport,
        httpx.Client(transport=transport, base_url="https://modelyard.test") as browser,
    ):
        browser.post(f"{API}/login", json={"name": "by-browser", "password": "correct horse"})
        return browser.post(f"{API}/tokens", json={"name": "x"})


def _too_many_logins(c: Ctx) -> httpx.Response:
    bad = {"name": "admin", "password": "guess"}
    with (
        sync_transport(c.app, client=("10.0.0.99", 4242)) as transport,
        httpx.Client(transport=transport, base_url="http://modelyard.test") as attacker,
    ):
        for _ in range(c.app.state.settings.auth_max_failures):
            attacker.post(f"{API}/login", json=bad)
        return attacker.post(f"{API}/login", json=bad)


MEMBERS = f"{API}/namespaces/risk-team/members"
CASES += [
    Case(
        "SCOPE_INVALID",
        "token scope",
        lambda c: c.http.post(f"{API}/tokens", json={"name": "x", "scopes": ["fly:*"]}),
    ),
    Case(
        "ROLE_INVALID",
        "member role",
        lambda c: c.http.put(f"{MEMBERS}/admin", json={"role": "owner"}),
    ),
    Case(
        "CAPACITY_INVALID",
        "unknown capacity",
        lambda c: c.http.put(f"{MEMBERS}/admin/capacities/astrology"),
    ),
    Case(
        "PASSWORD_INVALID",
        "too short",
        lambda c: c.http.post(f"{API}/users", json={"name": "shorty", "password": "short"}),
    ),
    Case("UNAUTHENTICATED", "no credentials", lambda c: _send_as(c, None, "GET", f"{API}/whoami")),
    Case(
        "TOKEN_INVALID", "made-up token", lambda c: _send_as(c, "myd_nope", "GET", f"{API}/whoami")
    ),
    Case(
        "TOKEN_EXPIRED", "expired", lambda c: _send_as(c, _expired_token(c), "GET", f"{API}/whoami")
    ),
    Case(
        "TOKEN_REVOKED", "revoked", lambda c: _send_as(c, _revoked_token(c), "GET", f"{API}/whoami")
    ),
    Case(
        "LOGIN_FAILED",
        "wrong password",
        lambda c: c.http.post(f"{API}/login", json={"name": "admin", "password": "guess"}),
    ),
    Case(
        "PERMISSION_DENIED",
        "read-only token creates a user",
        lambda c: _send_as(
            c, _new_token(c, scopes=["read:*"])["token"], "POST", f"{API}/users", json={"name": "x"}
        ),
    ),
    Case("CSRF_FAILED", "session cookie without CSRF token", _browser_post_without_csrf),
    Case("USER_NOT_FOUND", "get", lambda c: c.http.get(f"{API}/users/nobody")),
    Case(
        "TOKEN_NOT_FOUND",
        "revoke",
        lambda c: c.http.delete(f"{API}/tokens/00000000-0000-4000-8000-000000000000"),
    ),
    Case(
        "MEMBER_NOT_FOUND",
        "remove a non-member",
        _then(
            lambda c: c.http.post(f"{API}/users", json={"name": "outsider"}),
            lambda c: c.http.delete(f"{MEMBERS}/outsider"),
        ),
    ),
    Case("USER_EXISTS", "create", lambda c: c.http.post(f"{API}/users", json={"name": "admin"})),
    Case(
        "LAST_ADMIN",
        "demote the only admin",
        lambda c: c.http.put(f"{API}/users/admin/admin", json={"admin": False}),
    ),
    Case(
        "SERVICE_ACCOUNT_NOT_ALLOWED",
        "service account as global admin",
        _then(
            lambda c: c.http.post(
                f"{API}/service-accounts", json={"name": "ci-case", "namespace": "risk-team"}
            ),
            lambda c: c.http.put(f"{API}/users/ci-case/admin", json={"admin": True}),
        ),
    ),
    Case("TOO_MANY_ATTEMPTS", "failed logins from one client", _too_many_logins),
]


DATASET = {"namespace": "risk-team", "name": "customers", "version": "1", "uri": "s3://lake/c"}
CASES += [
    Case(
        "INGREDIENTS_INVALID",
        "commit not hex",
        lambda c: c.http.post(
            f"{FRAUD}/versions", json={"ingredients": {"code": {"commit": "not-hex"}}}
        ),
    ),
    Case(
        "INGREDIENTS_INVALID",
        "diff not among the artifacts",
        lambda c: c.http.post(
            f"{FRAUD}/versions",
            json={
                "ingredients": {
                    "code": {"commit": "abc1234", "dirty": True, "diff_digest": NO_BLOB}
                }
            },
        ),
    ),
    Case(
        "DATASET_NOT_FOUND",
        "get",
        lambda c: c.http.get(f"{API}/datasets/risk-team/nothing/versions/1"),
    ),
    Case(
        "DATASET_NOT_FOUND",
        "trained on an unregistered dataset",
        lambda c: c.http.post(
            f"{FRAUD}/versions", json={"ingredients": {"data": [{"dataset": "risk-team/no@1"}]}}
        ),
    ),
    Case(
        "DATASET_EXISTS",
        "register twice",
        _then(
            lambda c: c.http.post(f"{API}/datasets", json=DATASET),
            lambda c: c.http.post(f"{API}/datasets", json=DATASET),
        ),
    ),
    Case(
        "CONSUMER_NOT_FOUND",
        "remove",
        lambda c: c.http.delete(f"{FRAUD}/consumers/nobody"),
    ),
]


HOOKS = f"{API}/webhooks"


def _hook(c: Ctx) -> str:
    made = c.http.post(HOOKS, json={"url": "https://hooks.example.com/h"})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def _redeliver_pending(c: Ctx) -> httpx.Response:
    hook = _hook(c)
    queued = c.http.post(f"{HOOKS}/{hook}/test").json()
    return c.http.post(f"{HOOKS}/{hook}/deliveries/{queued['id']}/redeliver")


CASES += [
    Case("WEBHOOK_URL_INVALID", "ftp", lambda c: c.http.post(HOOKS, json={"url": "ftp://x/y"})),
    Case(
        "WEBHOOK_URL_INVALID",
        "credentials in the URL",
        lambda c: c.http.post(HOOKS, json={"url": "https://me:pw@example.com/h"}),
    ),
    Case(
        "WEBHOOK_TARGET_FORBIDDEN",
        "loopback",
        lambda c: c.http.post(HOOKS, json={"url": "http://127.0.0.1:8080/h"}),
    ),
    Case(
        "WEBHOOK_TARGET_FORBIDDEN",
        "cloud metadata",
        lambda c: c.http.post(HOOKS, json={"url": "http://169.254.169.254/latest"}),
    ),
    Case(
        "WEBHOOK_FILTER_INVALID",
        "event filter",
        lambda c: c.http.post(HOOKS, json={"url": "https://example.com/h", "events": ["A B"]}),
    ),
    Case("WEBHOOK_NOT_FOUND", "not a uuid", lambda c: c.http.get(f"{HOOKS}/nope")),
    Case(
        "WEBHOOK_NOT_FOUND",
        "deleted",
        lambda c: c.http.delete(f"{HOOKS}/{uuid.uuid4()}"),
    ),
    Case(
        "DELIVERY_NOT_FOUND",
        "unknown delivery",
        lambda c: c.http.get(f"{HOOKS}/{_hook(c)}/deliveries/{uuid.uuid4()}"),
    ),
    Case("DELIVERY_PENDING", "redeliver a pending delivery", _redeliver_pending),
]


# Governance: each case makes a model of its own (gov-*), so the cases never depend on order.
FULL_VERSION = {
    "card": "# Model\nIntended use: tests.",
    "ingredients": {
        "code": {"commit": "a" * 40},
        "environment": {"python_version": "3.11", "packages": [{"name": "numpy", "version": "2"}]},
        "config": {},
        "data": [{"uri": "s3://lake/x", "digest": "sha256:" + "ab" * 32}],
    },
}


def _gov_model(c: Ctx, name: str, risk: str, versions: int = 1) -> str:
    """risk-team/NAME at ``risk`` with versions that pass the built-in policy's checks."""
    path = f"{API}/models/risk-team/{name}"
    c.http.post(f"{API}/models", json={"namespace": "risk-team", "name": name})
    for _ in range(versions):
        assert c.http.post(f"{path}/versions", json=FULL_VERSION).status_code == 201
    if risk != "unassessed":
        c.http.put(f"{path}/risk", json={"level": risk, "reason": "assessed"})
    return f"risk-team/{name}"


def _ask(c: Ctx, ref: str, stage: str = "production") -> httpx.Response:
    return c.http.post(
        f"{API}/transitions", json={"reference": ref, "stage": stage, "reason": "go"}
    )


def _pending(c: Ctx, name: str, risk: str = "medium") -> int:
    made = _ask(c, f"{_gov_model(c, name, risk)}@1")
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "pending", made.text
    return int(made.json()["id"])


def _rita(c: Ctx) -> str:
    """A viewer of risk-team holding the technical and business capacities; her token."""
    c.http.post(f"{API}/users", json={"name": "rita"})
    c.http.put(f"{MEMBERS}/rita", json={"role": "viewer"})
    for capacity in ("technical", "business"):
        c.http.put(f"{MEMBERS}/rita/capacities/{capacity}")
    return identity.token(c.app.state.db, "rita")


def _vote(c: Ctx, token: str, tid: int, **body: Any) -> httpx.Response:
    body = {"decision": "approve", "comment": "ok", **body}
    return _send_as(c, token, "POST", f"{API}/transitions/{tid}/approvals", json=body)


def _checks_failed(c: Ctx) -> httpx.Response:
    c.http.put(f"{FRAUD}/risk", json={"level": "low", "reason": "assessed"})
    return _ask(c, "risk-team/fraud@1")


def _twice(c: Ctx) -> httpx.Response:
    _pending(c, "gov-pending")
    return _ask(c, "risk-team/gov-pending@1", "staging")


def _self_approval(c: Ctx) -> httpx.Response:
    tid = _pending(c, "gov-self")
    c.http.put(f"{MEMBERS}/admin/capacities/technical")
    return c.http.post(
        f"{API}/transitions/{tid}/approvals",
        json={"decision": "approve", "comment": "mine", "capacity": "technical"},
    )


def _capacity_required(c: Ctx) -> httpx.Response:
    return _vote(c, _rita(c), _pending(c, "gov-capacity"))


def _already_voted(c: Ctx) -> httpx.Response:
    token, tid = _rita(c), _pending(c, "gov-twice")
    _vote(c, token, tid, capacity="technical")
    return _vote(c, token, tid, decision="reject", capacity="technical")


def _closed(c: Ctx) -> httpx.Response:
    tid = _pending(c, "gov-closed")
    c.http.post(f"{API}/transitions/{tid}/cancel", json={"reason": "no"})
    return c.http.post(f"{API}/transitions/{tid}/cancel", json={"reason": "again"})


def _stage_held(c: Ctx) -> httpx.Response:
    tid = _pending(c, "gov-held", "low")
    _vote(c, _rita(c), tid, capacity="technical")
    return c.http.post(f"{API}/models/risk-team/gov-held/versions/1/archive")


CASES += [
    Case(
        "POLICY_INVALID",
        "namespace override declares stages",
        lambda c: c.http.put(f"{API}/namespaces/risk-team/policy", json={"yaml": "stages: {}"}),
    ),
    Case(
        "POLICY_LOOSENS",
        "namespace override adds a transition",
        lambda c: c.http.put(
            f"{API}/namespaces/risk-team/policy",
            json={"policy": {"transitions": {"production": ["development"]}}},
        ),
    ),
    Case(
        "STAGE_INVALID",
        "unknown stage",
        lambda c: _ask(c, f"{_gov_model(c, 'gov-stage', 'low')}@1", "prod"),
    ),
    Case(
        "TRANSITION_NOT_ALLOWED",
        "to the stage it is in",
        lambda c: _ask(c, f"{_gov_model(c, 'gov-same', 'low')}@1", "development"),
    ),
    Case(
        "TRANSITION_REFUSED",
        "production before the risk is assessed",
        lambda c: _ask(c, f"{_gov_model(c, 'gov-unassessed', 'unassessed')}@1"),
    ),
    Case("CHECKS_FAILED", "no model card, no ingredients", _checks_failed),
    Case("TRANSITION_PENDING", "a second request for a version", _twice),
    Case("TRANSITION_NOT_FOUND", "get", lambda c: c.http.get(f"{API}/transitions/999999")),
    Case("SELF_APPROVAL", "the requester votes", _self_approval),
    Case("CAPACITY_REQUIRED", "two capacities could be meant", _capacity_required),
    Case("ALREADY_VOTED", "a different second vote", _already_voted),
    Case("TRANSITION_CLOSED", "cancel twice", _closed),
    Case(
        "APPROVALS_MISSING",
        "apply before the approvals",
        lambda c: c.http.post(f"{API}/transitions/{_pending(c, 'gov-early')}/apply"),
    ),
    Case(
        "ROLLBACK_UNAVAILABLE",
        "nothing in production",
        lambda c: c.http.post(f"{API}/models/risk-team/fraud/rollback", json={"reason": "panic"}),
    ),
    Case("STAGE_HELD", "archive the production version", _stage_held),
]


def _seed(http: httpx.Client) -> None:
    """risk-team/fraud with versions 1-3 (3 archived), an alias and a tag; risk-team/scorer; an
    archived model risk-team/retired; an archived namespace old-team."""
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", f"{API}/namespaces", {"name": "risk-team"}),
        ("POST", f"{API}/namespaces", {"name": "old-team"}),
        ("POST", f"{API}/namespaces/old-team/archive", None),
        ("POST", f"{API}/models", {"namespace": "risk-team", "name": "fraud"}),
        ("POST", f"{API}/models", {"namespace": "risk-team", "name": "scorer"}),
        ("POST", f"{API}/models", {"namespace": "risk-team", "name": "retired"}),
        ("POST", f"{API}/models/risk-team/retired/archive", None),
        *[("POST", f"{FRAUD}/versions", {"description": f"v{n}"}) for n in (1, 2, 3)],
        ("POST", f"{FRAUD}/versions/3/archive", None),
        ("PUT", f"{FRAUD}/aliases/champion", {"version": 1}),
        ("PUT", f"{FRAUD}/tags/team", {"value": "fraud"}),
    ]
    for method, path, body in requests:
        response = http.request(method, path, json=body)
        assert response.status_code in (200, 201), (path, response.text)


def shape_problems(response: httpx.Response, code: str) -> list[str]:
    """What is wrong with ``response`` as the error ``code`` (empty when nothing is)."""
    problems = []
    if response.status_code != ERROR_CODES[code].status:
        problems.append(f"status {response.status_code}, registry says {ERROR_CODES[code].status}")
    if not response.headers.get("content-type", "").startswith("application/json"):
        problems.append(f"content-type {response.headers.get('content-type')!r}")
        return problems
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    if (
        set(body) != {"error"}
        or not isinstance(error, dict)
        or set(error) != {"code", "message", "details"}
    ):
        return [*problems, f"shape {body!r}"]
    if error["code"] != code:
        problems.append(f"code {error['code']!r}")
    if not isinstance(error["message"], str) or not error["message"]:
        problems.append(f"message {error['message']!r}")
    if not isinstance(error["details"], dict):
        problems.append(f"details {error['details']!r}")
    return problems


def test_every_error_path_answers_with_its_registry_status_and_the_one_shape(
    http: httpx.Client, settings: Settings, app: FastAPI
) -> None:
    _seed(http)
    ctx = Ctx(http, settings.max_request_body_bytes, app)
    failures = {}
    for case in CASES:
        problems = shape_problems(case.call(ctx), case.code)
        if problems:
            failures[f"{case.code} ({case.what})"] = problems
    assert failures == {}


def test_every_registered_error_code_is_driven_by_a_case() -> None:
    covered = {case.code for case in CASES} | OWN_TESTS
    assert sorted(set(ERROR_CODES) - covered) == []
    assert sorted(covered - set(ERROR_CODES)) == []


def test_unreachable_database_is_503_database_unavailable(tmp_path: Path) -> None:
    nowhere = "postgresql+psycopg://postgres@127.0.0.1:1/modelyard?connect_timeout=2"
    app = create_app(Settings(data_dir=tmp_path, database_url=nowhere))
    with _client(app, new_token()) as http:  # checking the token needs the database
        read = http.get(f"{API}/models/risk-team/fraud")
        write = http.post(f"{API}/namespaces", json={"name": "risk-team"})
        ready = http.get("/readyz")
    assert shape_problems(read, "DATABASE_UNAVAILABLE") == []
    assert shape_problems(write, "DATABASE_UNAVAILABLE") == []
    assert ready.status_code == 503


def test_unexpected_exception_is_500_internal_with_the_request_id_and_no_trace(
    app: FastAPI, admin_token: str
) -> None:
    def broken() -> None:
        raise RuntimeError("secret internals")

    app.add_api_route("/test/broken", broken)

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://modelyard.test") as c:
            headers = {"x-request-id": "req42", "authorization": f"Bearer {admin_token}"}
            return await c.get("/test/broken", headers=headers)

    response = anyio.run(call)

    assert shape_problems(response, "INTERNAL") == []
    assert response.json()["error"]["details"] == {"request_id": "req42"}
    assert "secret" not in response.text


def test_deadlock_is_409_conflict_retry(app: FastAPI, db: Database, admin_token: str) -> None:
    if db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers with BEGIN IMMEDIATE: no deadlock can form")
    both_hold_one = threading.Barrier(2, timeout=10)

    def lock_two(first: str, second: str) -> dict[str, str]:
        with db.write() as s:
            s.execute(select(NamespaceRow).where(NamespaceRow.name == first).with_for_update())
            both_hold_one.wait()
            s.execute(select(NamespaceRow).where(NamespaceRow.name == second).with_for_update())
        return {"locked": f"{first},{second}"}

    app.add_api_route("/test/lock/{first}/{second}", lock_two, methods=["POST"])
    with _client(app, admin_token) as http:
        for name in ("a", "b"):
            assert http.post(f"{API}/namespaces", json={"name": name}).status_code == 201
        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(pool.map(http.post, ["/test/lock/a/b", "/test/lock/b/a"]))

    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert shape_problems(loser, "CONFLICT") == []


@contextmanager
def _client(app: FastAPI, token: str) -> Iterator[httpx.Client]:
    with (
        sync_transport(app) as transport,
        httpx.Client(
            transport=transport,
            base_url="http://modelyard.test",
            headers={"Authorization": f"Bearer {token}"},
        ) as http,
    ):
        yield http


def test_a_promotion_that_lost_a_race_is_409_transition_conflict(
    settings: Settings,
    db: Database,
    admin_token: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the loser of two concurrent promotions sees (tests/services/
    test_transitions_concurrency.py races fifty for real): it read production empty, and by
    the time it writes another version holds it."""
    from modelyard.services import stages
    from tests.governance import OPEN_POLICY

    path = tmp_path / "policy.yaml"
    path.write_text(OPEN_POLICY)
    app = create_app(settings.with_(policy_file=str(path)), db)
    ask = {"stage": "production", "reason": "go"}
    with _client(app, admin_token) as http:
        http.post(f"{API}/namespaces", json={"name": "racers"})
        http.post(f"{API}/models", json={"namespace": "racers", "name": "m"})
        for _ in range(2):
            http.post(f"{API}/models/racers/m/versions", json={})
        first = http.post(f"{API}/transitions", json={"reference": "racers/m@1", **ask})
        assert first.json()["status"] == "applied"
        stale = stages.Seen(frozenset(), utcnow() - timedelta(days=1))
        monkeypatch.setattr(stages, "seen", lambda *args: stale)
        loser = http.post(f"{API}/transitions", json={"reference": "racers/m@2", **ask})
    assert shape_problems(loser, "TRANSITION_CONFLICT") == []
