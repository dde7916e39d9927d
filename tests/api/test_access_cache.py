"""The access cache (services/access_cache.py): a token's caller is read from the database
once, and every change to access still counts from the very next request, whichever process
makes it. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import event, update

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.db.tables import ApiTokenRow
from modelyard.db.types import utcnow
from modelyard.domain.access import Role
from modelyard.services import access_cache, tokens
from modelyard.services.access_cache import AccessCache
from modelyard.settings import Settings
from tests import identity as make

API = "/api/v1"
MODEL = f"{API}/models/alpha/fraud"


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def log(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", log)


def _code(response: httpx.Response) -> tuple[int, str]:
    body = response.json() if response.content else {}
    return response.status_code, body.get("error", {}).get("code", "")


@pytest.mark.usefixtures("alpha")
def test_a_known_token_is_signed_in_without_reading_tokens_or_memberships(
    app: Any, db: Database
) -> None:
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.get(MODEL).status_code == 200
        with statements(db) as seen:
            assert ann.get(MODEL).status_code == 200
    touched = " ".join(seen).lower()  # (the generation is read beneath SQLAlchemy's events)
    assert not any(t in touched for t in ("api_tokens", "memberships", "reviewer_capacities"))
    assert "visibility" not in touched  # the namespace's visibility is held too


@pytest.mark.usefixtures("alpha")
def test_a_token_revoked_by_another_process_is_refused_on_the_next_request(
    app: Any, db: Database, settings: Settings, admin_token: str
) -> None:
    """Two workers: ann signs in through the first; the revocation goes through the second
    (its own app, cache and connection pool); the first refuses ann's very next request."""
    other_db = Database.from_url(settings.resolved_database_url)
    secret = make.token(db, "ann")
    try:
        with (
            make.http_as(app, secret) as ann,
            make.http_as(create_app(settings, other_db), admin_token) as admin_elsewhere,
        ):
            assert ann.get(MODEL).status_code == 200
            token_id = ann.get(f"{API}/whoami").json()["token"]["id"]
            assert admin_elsewhere.delete(f"{API}/tokens/{token_id}").status_code == 200
            assert _code(ann.get(MODEL)) == (401, "TOKEN_REVOKED")
    finally:
        other_db.dispose()


@pytest.mark.usefixtures("alpha")
def test_a_revocation_written_straight_to_the_database_counts_on_the_next_request(
    app: Any, db: Database
) -> None:
    """A change made outside the server (another tool, SQL by hand) is seen too: the count
    of changes lives in the database, kept by triggers."""
    secret = make.token(db, "ann")
    with make.http_as(app, secret) as ann:
        assert ann.get(MODEL).status_code == 200
        with db.write() as s:
            s.execute(
                update(ApiTokenRow)
                .where(ApiTokenRow.digest == tokens.digest(secret))
                .values(revoked_at=utcnow())
            )
        assert _code(ann.get(MODEL)) == (401, "TOKEN_REVOKED")


@pytest.mark.usefixtures("alpha")
def test_a_new_role_counts_on_the_next_request(app: Any, db: Database, http: httpx.Client) -> None:
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.post(f"{MODEL}/versions", json={}).status_code == 201
        assert http.put(f"{API}/namespaces/alpha/members/ann", json={"role": "viewer"}).is_success
        assert _code(ann.post(f"{MODEL}/versions", json={})) == (403, "PERMISSION_DENIED")
        assert ann.get(MODEL).status_code == 200
        http.delete(f"{API}/namespaces/alpha/members/ann")
        assert _code(ann.get(MODEL)) == (404, "MODEL_NOT_FOUND")  # private: hidden again


@pytest.mark.usefixtures("alpha")
def test_a_disabled_account_is_refused_on_the_next_request(
    app: Any, db: Database, http: httpx.Client
) -> None:
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.get(MODEL).status_code == 200
        assert http.post(f"{API}/users/ann/disable").is_success
        assert _code(ann.get(MODEL)) == (401, "TOKEN_INVALID")


@pytest.mark.usefixtures("alpha")
def test_a_visibility_change_counts_on_the_next_request(
    app: Any, db: Database, http: httpx.Client
) -> None:
    make.user(db, "carl")  # a member of no team
    with make.http_as(app, make.token(db, "carl")) as carl:
        assert carl.get(MODEL).status_code == 404
        visible = http.put(f"{API}/namespaces/alpha/visibility", json={"visibility": "internal"})
        assert visible.is_success
        assert carl.get(MODEL).status_code == 200
        http.put(f"{API}/namespaces/alpha/visibility", json={"visibility": "private"})
        assert carl.get(MODEL).status_code == 404


@pytest.mark.usefixtures("alpha")
def test_a_held_token_that_expires_is_refused(
    app: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make.http_as(app, make.token(db, "ann", expires_at=utcnow() + timedelta(hours=1))) as ann:
        assert ann.get(MODEL).status_code == 200
        later = utcnow() + timedelta(hours=2)
        monkeypatch.setattr(access_cache, "utcnow", lambda: later)
        assert _code(ann.get(MODEL)) == (401, "TOKEN_EXPIRED")


def test_entries_are_reloaded_after_the_ttl(db: Database) -> None:
    make.user(db, "ann")
    make.team(db, "alpha", ann=Role.VIEWER)
    secret = make.token(db, "ann")
    now = [0.0]
    cache = AccessCache(ttl_seconds=30, clock=lambda: now[0])
    cache.sign_in(db, secret)
    with statements(db) as held:
        cache.sign_in(db, secret)
    now[0] = 31.0
    with statements(db) as expired:
        cache.sign_in(db, secret)
    assert not any("api_tokens" in sql for sql in held)
    assert any("api_tokens" in sql for sql in expired)


def test_the_cache_holds_at_most_its_limit(db: Database) -> None:
    make.user(db, "ann")
    secrets = [make.token(db, "ann") for _ in range(3)]
    cache = AccessCache(max_entries=2)
    for secret in secrets:
        cache.sign_in(db, secret)
    with statements(db) as first:
        cache.sign_in(db, secrets[0])  # the oldest was let go
    with statements(db) as last:
        cache.sign_in(db, secrets[2])
    assert any("api_tokens" in sql for sql in first)
    assert not any("api_tokens" in sql for sql in last)


def test_an_unknown_token_is_never_held(db: Database) -> None:
    make.user(db, "ann")
    secret = make.token(db, "ann")
    with db.write() as s:
        s.execute(update(ApiTokenRow).values(digest=uuid.uuid4().hex))  # no token matches now
    cache = AccessCache()
    for _ in range(2):
        with pytest.raises(Exception, match="malformed or unknown"):
            cache.sign_in(db, secret)
    assert cache._tokens.entries == {}


REVOKE_ELSEWHERE = """
import sys
from modelyard.db.engine import Database
from modelyard.services import tokens
db = Database.from_url(sys.argv[1])
tokens.revoke_token(db, sys.argv[2])
db.dispose()
"""


@pytest.mark.usefixtures("alpha")
def test_a_revocation_by_another_os_process_counts_on_the_next_request(
    app: Any, db: Database, settings: Settings
) -> None:
    """The generation each request reads (on SQLite through a connection the thread keeps
    between requests) sees a commit made by another process the moment it is made."""
    secret = make.token(db, "ann")
    with make.http_as(app, secret) as ann:
        for _ in range(3):  # signed in from the cache, the generation read on a kept connection
            assert ann.get(MODEL).status_code == 200
        token_id = ann.get(f"{API}/whoami").json()["token"]["id"]
        subprocess.run(
            [sys.executable, "-c", REVOKE_ELSEWHERE, settings.resolved_database_url, token_id],
            check=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert _code(ann.get(MODEL)) == (401, "TOKEN_REVOKED")
        assert _code(ann.post(f"{MODEL}/versions", json={})) == (401, "TOKEN_REVOKED")
