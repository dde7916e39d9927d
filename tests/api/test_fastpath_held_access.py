"""A version creation signed in and authorised from the access cache alone (api/fastpath.py,
``access.held_writer``): it reads no access generation before its transaction, the
transaction confirms the generation it assumed, and any change to access still counts from
the very next write, whichever process makes it. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from modelyard.api import fastpath
from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.db.tables import DeniedRequestRow, VersionRow
from modelyard.services import teams, versions
from modelyard.settings import Settings
from tests import identity as make

API = "/api/v1"
VERSIONS = f"{API}/models/alpha/fraud/versions"


def _versions(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(VersionRow)) or 0)


def _denials(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(DeniedRequestRow)) or 0)


def _code(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json().get("error", {}).get("code", "")


def _peeks(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    seen: list[object] = []
    real = db.peek

    def counted(statement: Any) -> Any:
        seen.append(statement)
        return real(statement)

    monkeypatch.setattr(db, "peek", counted)
    return seen


@pytest.mark.usefixtures("alpha")
def test_a_held_token_creates_without_reading_the_generation_first(
    app: Any, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.post(VERSIONS, json={}).status_code == 201  # signs in, fills the cache
        peeks = _peeks(db, monkeypatch)
        for _ in range(3):
            assert ann.post(VERSIONS, json={"tags": {"k": "v"}}).status_code == 201
    assert peeks == []
    assert app.state.fast_paths_taken[fastpath.RECHECKED] == 0
    assert _versions(db) == 4


@pytest.mark.usefixtures("alpha")
def test_a_token_revoked_by_another_process_is_refused_on_the_next_creation(
    app: Any, db: Database, settings: Settings, admin_token: str
) -> None:
    other_db = Database.from_url(settings.resolved_database_url)
    try:
        with (
            make.http_as(app, make.token(db, "ann")) as ann,
            make.http_as(create_app(settings, other_db), admin_token) as elsewhere,
        ):
            assert ann.post(VERSIONS, json={}).status_code == 201
            token_id = ann.get(f"{API}/whoami").json()["token"]["id"]
            assert elsewhere.delete(f"{API}/tokens/{token_id}").status_code == 200
            assert _code(ann.post(VERSIONS, json={})) == (401, "TOKEN_REVOKED")
    finally:
        other_db.dispose()
    assert app.state.fast_paths_taken[fastpath.RECHECKED] == 1
    assert _versions(db) == 1


@pytest.mark.usefixtures("alpha")
def test_a_role_lost_while_the_creation_runs_rolls_it_back_and_refuses_it(
    app: Any, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role goes (from another connection) after the cache said yes and before the
    creation's transaction: the transaction sees a new generation, writes nothing, and the
    usual guard refuses the request, recording the refusal once."""
    real = versions.create_version
    lost: list[bool] = []

    def losing_the_role_first(*args: Any, **kwargs: Any) -> Any:
        if not lost:
            lost.append(True)
            other_db = Database.from_url(settings.resolved_database_url)
            try:
                teams.remove_member(other_db, "alpha", "ann")
            finally:
                other_db.dispose()
        return real(*args, **kwargs)

    with make.http_as(app, make.token(db, "ann")) as ann:
        assert ann.post(VERSIONS, json={}).status_code == 201
        monkeypatch.setattr(versions, "create_version", losing_the_role_first)
        denials = _denials(db)
        assert _code(ann.post(VERSIONS, json={}))[0] == 404  # alpha is private: hidden now
    assert lost == [True]
    assert _versions(db) == 1
    assert _denials(db) == denials + 1
    assert app.state.fast_paths_taken[fastpath.RECHECKED] == 1


@pytest.mark.usefixtures("alpha")
def test_an_error_of_the_cached_attempt_is_answered_by_the_usual_path(
    app: Any, db: Database, settings: Settings, admin_token: str
) -> None:
    """Same answer as an app without fast paths (which reads the generation first)."""
    slow = create_app(settings, db, fast_paths=False)
    secret = make.token(db, "ann")
    answers = []
    for target in (app, slow):
        with make.http_as(target, secret) as ann:
            assert ann.post(VERSIONS, json={}).status_code == 201
            answers.append(_code(ann.post(VERSIONS, json={"tags": {"": "x"}})))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400
    assert app.state.fast_paths_taken[fastpath.RECHECKED] == 1
