"""Authorization on every route: hiding, forbidding, scopes, expiry, revocation, CSRF, limits.

Team A (``alpha``, private) and team B (``beta``, private) each hold a model; ``ann`` is a
contributor in A only. What A's tokens may do to B's model is what nobody outside B may do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelyard.db.engine import Database
from modelyard.db.tables import ApiTokenRow
from modelyard.db.types import utcnow
from modelyard.domain.digests import digest_of
from modelyard.services import denials, users
from tests import identity as make

API = "/api/v1"
B_MODEL = f"{API}/models/beta/scorer"


@pytest.fixture
def teams(http: httpx.Client, db: Database) -> None:
    """alpha/fraud (ann: contributor) and beta/scorer (bob: admin), both private, each with
    one version; the global admin made them."""
    for ns, model in (("alpha", "fraud"), ("beta", "scorer")):
        assert http.post(f"{API}/namespaces", json={"name": ns}).status_code == 201
        assert http.post(f"{API}/models", json={"namespace": ns, "name": model}).status_code == 201
        assert http.post(f"{API}/models/{ns}/{model}/versions", json={}).status_code == 201
    make.user(db, "ann")
    make.user(db, "bob")
    http.put(f"{API}/namespaces/alpha/members/ann", json={"role": "contributor"})
    http.put(f"{API}/namespaces/beta/members/bob", json={"role": "admin"})


def _status(response: httpx.Response) -> tuple[int, str]:
    body = response.json() if response.content else {}
    return response.status_code, body.get("error", {}).get("code", "")


# Every way of touching beta/scorer, as (what, request).
TOUCHES: list[tuple[str, Callable[[httpx.Client], httpx.Response]]] = [
    ("read", lambda c: c.get(B_MODEL)),
    ("list versions", lambda c: c.get(f"{B_MODEL}/versions")),
    ("read a version", lambda c: c.get(f"{B_MODEL}/versions/1")),
    ("resolve", lambda c: c.get(f"{API}/resolve", params={"ref": "beta/scorer@1"})),
    ("manifest", lambda c: c.get(f"{API}/manifests", params={"ref": "beta/scorer@1"})),
    ("push a version", lambda c: c.post(f"{B_MODEL}/versions", json={})),
    ("update", lambda c: c.patch(B_MODEL, json={"description": "mine now"})),
    ("tag", lambda c: c.put(f"{B_MODEL}/tags/owner", json={"value": "ann"})),
    ("archive", lambda c: c.post(f"{B_MODEL}/archive")),
    ("alias", lambda c: c.put(f"{B_MODEL}/aliases/champion", json={"version": 1})),
    ("archive a version", lambda c: c.post(f"{B_MODEL}/versions/1/archive")),
    ("risk", lambda c: c.put(f"{B_MODEL}/risk", json={"level": "low", "reason": "trust me"})),
]


@pytest.mark.usefixtures("teams")
def test_team_as_token_cannot_touch_team_bs_private_model_and_learns_nothing(
    app: FastAPI, db: Database, http: httpx.Client
) -> None:
    missing = http.get(f"{API}/models/beta/nothing-here").json()
    with make.http_as(app, make.token(db, "ann")) as ann:
        answers = {what: touch(ann) for what, touch in TOUCHES}
        nothing = ann.get(f"{API}/models/beta/nothing-here").json()
        create = ann.post(f"{API}/models", json={"namespace": "beta", "name": "sneaky"})
        namespace = ann.get(f"{API}/namespaces/beta")
    assert {what: r.status_code for what, r in answers.items()} == {w: 404 for w, _ in TOUCHES}
    # The same answer as for a model that does not exist: nothing tells one from the other.
    assert answers["read"].json()["error"]["message"] == "model beta/scorer not found"
    assert nothing == missing
    assert _status(create) == (404, "NAMESPACE_NOT_FOUND")
    assert _status(namespace) == (404, "NAMESPACE_NOT_FOUND")
    after = http.get(B_MODEL).json()
    assert (after["description"], after["tags"], after["archived"]) == ("", {}, False)
    assert http.get(f"{B_MODEL}/versions").json()["items"][0]["version"] == 1


@pytest.mark.usefixtures("teams")
def test_a_version_cannot_name_a_private_model_or_dataset_of_another_team_as_its_source(
    app: FastAPI, db: Database
) -> None:
    versions = f"{API}/models/alpha/fraud/versions"
    with make.http_as(app, make.token(db, "ann")) as ann:
        hidden = ann.post(versions, json={"derived_from": ["beta/scorer@1"]})
        missing = ann.post(versions, json={"derived_from": ["beta/nothing@1"]})
        data = {"ingredients": {"data": [{"dataset": "beta/transactions@1"}]}}
        dataset = ann.post(versions, json=data)
        own = ann.post(versions, json={"derived_from": ["alpha/fraud@1"]})
    assert _status(hidden) == (404, "MODEL_NOT_FOUND")
    assert hidden.json()["error"]["message"] == "model beta/scorer not found"
    assert _status(missing) == (404, "MODEL_NOT_FOUND")
    assert _status(dataset) == (404, "NAMESPACE_NOT_FOUND")
    assert own.status_code == 201


@pytest.mark.usefixtures("teams")
def test_lists_and_searches_show_only_what_the_caller_may_read(app: FastAPI, db: Database) -> None:
    with make.http_as(app, make.token(db, "ann")) as ann:
        namespaces = [n["name"] for n in ann.get(f"{API}/namespaces").json()["items"]]
        models = [m["full_name"] for m in ann.get(f"{API}/models").json()["items"]]
        versions = {v["namespace"] for v in ann.get(f"{API}/versions").json()["items"]}
        found = ann.get(f"{API}/models", params={"q": "scorer"}).json()["items"]
    assert (namespaces, models, versions, found) == (["alpha"], ["alpha/fraud"], {"alpha"}, [])


@pytest.mark.usefixtures("teams")
def test_internal_namespaces_are_read_but_not_written_by_every_signed_in_user(
    app: FastAPI, db: Database, http: httpx.Client
) -> None:
    http.put(f"{API}/namespaces/beta/visibility", json={"visibility": "internal"})
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.get(B_MODEL).status_code == 200
        assert "beta/scorer" in [m["full_name"] for m in ann.get(f"{API}/models").json()["items"]]
        assert _status(ann.patch(B_MODEL, json={"description": "x"})) == (403, "PERMISSION_DENIED")


@pytest.mark.usefixtures("teams")
def test_a_read_only_token_cannot_write(app: Any, db: Database) -> None:
    fraud = f"{API}/models/alpha/fraud"
    with make.http_as(app, make.token(db, "ann", ["read:*"])) as reader:
        assert reader.get(fraud).status_code == 200
        writes = [
            reader.post(f"{fraud}/versions", json={}),
            reader.patch(fraud, json={"description": "x"}),
            reader.put(f"{fraud}/aliases/champion", json={"version": 1}),
            reader.post(f"{API}/models", json={"namespace": "alpha", "name": "new"}),
            reader.post(f"{API}/blobs/missing", json={"digests": []}),
        ]
    assert [_status(r) for r in writes] == [(403, "PERMISSION_DENIED")] * len(writes)


@pytest.mark.usefixtures("teams")
def test_a_viewer_cannot_write_and_a_contributor_cannot_manage(
    app: Any, db: Database, http: httpx.Client
) -> None:
    make.user(db, "vic")
    http.put(f"{API}/namespaces/alpha/members/vic", json={"role": "viewer"})
    fraud = f"{API}/models/alpha/fraud"
    with make.http_as(app, make.token(db, "vic")) as vic:
        assert vic.get(fraud).status_code == 200
        assert _status(vic.post(f"{fraud}/versions", json={})) == (403, "PERMISSION_DENIED")
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.post(f"{fraud}/versions", json={}).status_code == 201
        risk = ann.put(f"{fraud}/risk", json={"level": "low", "reason": "r"})
        assert _status(risk) == (403, "PERMISSION_DENIED")
        assert _status(ann.post(f"{fraud}/archive"))[0] == 403
        assert _status(ann.post(f"{API}/namespaces/alpha/archive"))[0] == 403


@pytest.mark.usefixtures("teams")
def test_a_token_scoped_to_one_model_cannot_touch_another(
    app: Any, db: Database, http: httpx.Client
) -> None:
    http.post(f"{API}/models", json={"namespace": "alpha", "name": "other"})
    with make.http_as(app, make.token(db, "ann", ["write:alpha/fraud"])) as scoped:
        assert scoped.post(f"{API}/models/alpha/fraud/versions", json={}).status_code == 201
        other = f"{API}/models/alpha/other"
        touches = [
            scoped.get(other),
            scoped.post(f"{other}/versions", json={}),
            scoped.patch(other, json={"description": "x"}),
        ]
        create = scoped.post(f"{API}/models", json={"namespace": "alpha", "name": "newer"})
        listed = [m["full_name"] for m in scoped.get(f"{API}/models").json()["items"]]
    assert [_status(r)[0] for r in touches] == [404, 404, 404]
    assert _status(create) == (403, "PERMISSION_DENIED")
    assert listed == ["alpha/fraud"]


@pytest.mark.usefixtures("teams")
def test_expired_and_revoked_tokens_get_401_on_the_next_request(
    app: Any, db: Database, http: httpx.Client
) -> None:
    secret = make.token(db, "ann", expires_at=utcnow() + timedelta(hours=1))
    token_id = http.get(f"{API}/tokens", params={"user": "ann"}).json()[0]["id"]
    with make.http_as(app, secret) as ann:
        assert ann.get(f"{API}/models/alpha/fraud").status_code == 200
        with db.write() as s:
            s.get_one(ApiTokenRow, uuid.UUID(token_id)).expires_at = utcnow()
        expired = ann.get(f"{API}/models/alpha/fraud")
    other = make.token(db, "ann")
    with make.http_as(app, other) as ann:
        assert ann.get(f"{API}/models/alpha/fraud").status_code == 200
        other_id = ann.get(f"{API}/whoami").json()["token"]["id"]
        assert http.delete(f"{API}/tokens/{other_id}").status_code == 200
        revoked = ann.get(f"{API}/models/alpha/fraud")
    assert _status(expired) == (401, "TOKEN_EXPIRED")
    assert _status(revoked) == (401, "TOKEN_REVOKED")
    assert revoked.headers["www-authenticate"].startswith("Bearer")


def test_every_route_but_the_public_ones_wants_a_signed_in_caller(app: FastAPI) -> None:
    public = {"/healthz", "/readyz", "/metrics", "/api/v1/login"}
    paths = app.openapi()["paths"]
    refused = {}
    with make.http_as(app) as anonymous:
        for template, operations in paths.items():
            path = template
            for name in ("namespace", "name", "user", "dataset", "consumer", "key", "alias"):
                path = path.replace("{" + name + "}", "x")
            path = path.replace("{key:path}", "x")
            for placeholder in (
                "{version}",
                "{digest}",
                "{upload_id}",
                "{token_id}",
                "{transition_id}",
            ):
                path = path.replace(placeholder, _dummy(placeholder))
            path = path.replace("{capacity}", "legal")
            for method in operations:
                if template not in public:
                    refused[f"{method.upper()} {template}"] = anonymous.request(method, path)
    expected = {k: (401, "" if k.startswith("HEAD") else "UNAUTHENTICATED") for k in refused}
    wrong = {k: _status(r) for k, r in refused.items() if _status(r) != expected[k]}
    assert refused
    assert wrong == {}


def _dummy(placeholder: str) -> str:
    return {
        "{version}": "1",
        "{digest}": "sha256:" + "0" * 64,
        "{upload_id}": str(uuid.uuid4()),
        "{token_id}": str(uuid.uuid4()),
        "{transition_id}": "1",
    }[placeholder]


@pytest.mark.usefixtures("teams")
def test_refusals_are_recorded_without_secrets(app: Any, db: Database) -> None:
    secret = make.token(db, "ann")
    with make.http_as(app, secret) as ann:
        ann.get(B_MODEL)
        ann.put(f"{API}/models/alpha/fraud/risk", json={"level": "low", "reason": "r"})
    with make.http_as(app, "myd_" + "x" * 38) as stranger:
        stranger.get(f"{API}/models?token={secret}")
    records = {(d.actor, d.code, d.target, d.path) for d in denials.recent(db)}
    assert ("ann", "MODEL_NOT_FOUND", "beta/scorer", "/api/v1/models/beta/scorer") in records
    assert ("ann", "PERMISSION_DENIED", "alpha/fraud", "/api/v1/models/alpha/fraud/risk") in records
    assert ("", "TOKEN_INVALID", "", "/api/v1/models") in records
    assert secret not in str(denials.recent(db))


@pytest.fixture
def carl(db: Database) -> str:
    users.create_user(db, "t", "carl", password="correct horse")
    return "carl"


def _browser(app: Any, client: tuple[str, int] = ("127.0.0.1", 123)) -> Any:
    return make.http_as(app, base_url="https://modelyard.test", client=client)


@pytest.mark.usefixtures("teams")
def test_a_cross_site_form_post_with_the_session_cookie_but_no_csrf_token_is_refused(
    app: Any, http: httpx.Client, carl: str
) -> None:
    http.put(f"{API}/namespaces/alpha/members/carl", json={"role": "admin"})
    with _browser(app) as browser:
        signed = browser.post(f"{API}/login", json={"name": carl, "password": "correct horse"})
        csrf = signed.json()["csrf_token"]
        form = {"content-type": "application/x-www-form-urlencoded"}
        cross_site = {**form, "origin": "https://evil.example", "sec-fetch-site": "cross-site"}
        attacks = [
            browser.post(f"{API}/namespaces/alpha/archive", content=b"x=1", headers=cross_site),
            browser.post(f"{API}/namespaces/alpha/archive", content=b"x=1", headers=form),
            browser.post(
                f"{API}/namespaces/alpha/archive",
                content=f"csrf_token={csrf}".encode(),
                headers=cross_site,
            ),
        ]
        assert not http.get(f"{API}/namespaces/alpha").json()["archived"]
        ours = browser.post(
            f"{API}/namespaces/alpha/archive", content=f"csrf_token={csrf}".encode(), headers=form
        )
    assert [_status(a) for a in attacks] == [(403, "CSRF_FAILED")] * 3
    assert ours.status_code == 200
    assert ours.json()["archived"]


def test_a_hundred_bad_logins_end_in_429_while_another_client_still_signs_in(
    app: Any, carl: str
) -> None:
    wrong = {"name": carl, "password": "guess"}
    with _browser(app, client=("203.0.113.7", 5000)) as attacker:
        answers = [attacker.post(f"{API}/login", json=wrong) for _ in range(100)]
        also_right = attacker.post(f"{API}/login", json={"name": carl, "password": "correct horse"})
    with _browser(app, client=("198.51.100.20", 6000)) as colleague:
        fine = colleague.post(f"{API}/login", json={"name": carl, "password": "correct horse"})
    codes = [_status(a) for a in answers]
    limit = app.state.settings.auth_max_failures
    assert codes[:limit] == [(401, "LOGIN_FAILED")] * limit
    assert codes[limit:] == [(429, "TOO_MANY_ATTEMPTS")] * (100 - limit)
    assert 0 < int(answers[-1].headers["retry-after"]) <= app.state.settings.auth_window_seconds
    assert _status(also_right) == (429, "TOO_MANY_ATTEMPTS")
    assert fine.status_code == 200


def test_bad_tokens_are_limited_like_bad_passwords(app: Any, admin_token: str) -> None:
    with make.http_as(app, "myd_" + "y" * 38, client=("203.0.113.9", 1)) as attacker:
        codes = [attacker.get(f"{API}/whoami").status_code for _ in range(15)]
    with make.http_as(app, admin_token, client=("203.0.113.9", 1)) as same_client:
        blocked = same_client.get(f"{API}/whoami")
    assert codes == [401] * 10 + [429] * 5
    assert _status(blocked) == (429, "TOO_MANY_ATTEMPTS")


def test_generic_updates_refuse_fields_of_dedicated_endpoints(http: httpx.Client) -> None:
    http.post(f"{API}/namespaces", json={"name": "alpha"})
    http.post(f"{API}/models", json={"namespace": "alpha", "name": "fraud"})
    refused = [
        http.patch(f"{API}/namespaces/alpha", json={"visibility": "internal"}),
        http.patch(f"{API}/models/alpha/fraud", json={"created_by": "mallory"}),
        http.patch(f"{API}/models/alpha/fraud", json={"risk_level": "low"}),
        http.patch(f"{API}/users/admin", json={"admin": False}),
    ]
    assert [_status(r)[0] for r in refused] == [422] * 4
    assert http.get(f"{API}/namespaces/alpha").json()["visibility"] == "private"


def test_namespace_creators_become_admins_and_service_accounts_cannot_create(
    app: Any, db: Database, http: httpx.Client
) -> None:
    make.user(db, "ann")
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.post(f"{API}/namespaces", json={"name": "annex"}).status_code == 201
        members = ann.get(f"{API}/namespaces/annex/members").json()
        made = ann.post(f"{API}/service-accounts", json={"name": "annex-ci", "namespace": "annex"})
        ci_token = ann.post(f"{API}/service-accounts/annex-ci/tokens", json={"name": "ci"})
    assert [(m["user"], m["role"]) for m in members] == [("ann", "admin")]
    assert made.status_code == 201
    with make.http_as(app, ci_token.json()["token"]) as ci:
        assert _status(ci.post(f"{API}/namespaces", json={"name": "robots"}))[0] == 403
        assert ci.post(f"{API}/models", json={"namespace": "annex", "name": "m"}).status_code == 201


@pytest.mark.usefixtures("teams")
def test_an_upload_session_is_only_its_starters(app: Any, db: Database, http: httpx.Client) -> None:
    """Another signed-in uploader (here a contributor elsewhere; the admin below) cannot
    write into, look at, commit or cancel a session: to them it does not exist."""
    data = b"the admin's bytes"
    session = http.post(f"{API}/blobs/uploads", json={"size": len(data)}).json()["id"]
    url = f"{API}/blobs/uploads/{session}"
    stranger_id = str(uuid.uuid4())
    stranger = http.get(f"{API}/blobs/uploads/{stranger_id}")
    with make.http_as(app, make.token(db, "ann")) as ann:
        answers = {
            "status": ann.get(url),
            "chunk": ann.patch(url, content=b"ann's", headers={"content-range": "bytes 0-4/*"}),
            "commit": ann.post(f"{url}/commit", json={"digest": digest_of(b"ann's")}),
            "cancel": ann.delete(url),
        }
        own = ann.post(f"{API}/blobs/uploads", json={}).json()["id"]
    assert {k: _status(r) for k, r in answers.items()} == dict.fromkeys(
        answers, (404, "UPLOAD_NOT_FOUND")
    )
    # Word for word what a session that never existed gets.
    assert answers["status"].json()["error"]["message"] == f"no upload {session}"
    assert stranger.json()["error"]["message"] == f"no upload {stranger_id}"
    # The starter's session is untouched and still works; ann's own is hidden from the admin.
    assert http.get(url).json()["received"] == 0
    r = http.patch(url, content=data, headers={"content-range": f"bytes 0-{len(data) - 1}/*"})
    assert r.status_code == 202
    assert http.post(f"{url}/commit", json={"digest": digest_of(data)}).status_code == 201
    assert _status(http.get(f"{API}/blobs/uploads/{own}")) == (404, "UPLOAD_NOT_FOUND")
    records = {(d.actor, d.code, d.target) for d in denials.recent(db)}
    assert ("ann", "UPLOAD_NOT_FOUND", session) in records
