"""Issue 5, acceptance 4: a scripted session over HTTP (create, push, tag, alias, request,
approve, reject, apply, rollback, risk change, a denied request) yields exactly one audit event
per change, each with its actor and before/after, and the chain verifies (SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelyard.db.engine import Database
from modelyard.domain.access import Role
from modelyard.services import audit, teams
from tests import identity
from tests.governance import FULL, MODEL, NS, team

API = "/api/v1"
M = f"{API}/models/{MODEL}"
ANY = object()  # before/after present, content not compared here


@pytest.fixture
def people(db: Database) -> dict[str, str]:
    """risk-team with mia (maintainer), tina (technical reviewer), carl (contributor)."""
    team(db)
    identity.user(db, "carl")
    teams.set_member(db, "admin", NS, "carl", Role.CONTRIBUTOR)
    return {name: identity.token(db, name) for name in ("mia", "tina", "carl")}


def test_one_audit_event_per_change_with_actor_and_before_after(
    app: FastAPI, db: Database, people: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"w" * 4096)
    ids: dict[str, int] = {}

    def version_body(note: str) -> dict[str, Any]:
        return {"description": note, "card": "# Fraud\nIntended use: cards.", "ingredients": FULL}

    def as_(user: str, act: Callable[[httpx.Client], httpx.Response], ok: int = 200) -> Any:
        with identity.http_as(app, people[user]) as c:
            r = act(c)
        assert r.status_code == ok, r.text
        return r.json() if r.content else None

    def ask(c: httpx.Client, number: int) -> httpx.Response:
        body = {"reference": f"{MODEL}@{number}", "stage": "production", "reason": "ready"}
        return c.post(f"{API}/transitions", json=body)

    def vote(c: httpx.Client, key: str, decision: str) -> httpx.Response:
        body = {"decision": decision, "comment": "reviewed"}
        return c.post(f"{API}/transitions/{ids[key]}/approvals", json=body)

    def remember(key: str) -> Callable[[Any], None]:
        return lambda body: ids.__setitem__(key, body["id"])

    def post(user: str, path: str, body: dict[str, Any], ok: int = 201) -> Any:
        return as_(user, lambda c: c.post(path, json=body), ok)

    def put(user: str, path: str, body: dict[str, Any], ok: int = 200) -> Any:
        return as_(user, lambda c: c.put(path, json=body), ok)

    def risk(user: str, level: str, reason: str, ok: int = 200) -> Any:
        return put(user, f"{M}/risk", {"level": level, "reason": reason}, ok)

    v1, v2 = f"{MODEL}@1", f"{MODEL}@2"
    low = {"risk_level": "low", "risk_reason": "board"}
    high = {"risk_level": "high", "risk_reason": "PII"}
    steps: list[tuple[str, Callable[[], Any], list[tuple[str, str, str, Any, Any]]]] = [
        ("create model", lambda: post("mia", f"{API}/models", {"namespace": NS, "name": "fraud"}),
         [("model.created", "mia", MODEL, None, ANY)]),
        ("version 1", lambda: post("mia", f"{M}/versions", version_body("v1")),
         [("version.created", "mia", v1, None, ANY)]),
        ("version 2", lambda: post("mia", f"{M}/versions", version_body("v2")),
         [("version.created", "mia", v2, None, ANY)]),
        ("tag", lambda: put("mia", f"{M}/tags/team", {"value": "fraud"}),
         [("tag.set", "mia", MODEL, None, {"key": "team", "value": "fraud"})]),
        ("alias", lambda: put("mia", f"{M}/aliases/champion", {"version": 1}),
         [("alias.set", "mia", MODEL, None, {"alias": "champion", "version": 1})]),
        ("risk", lambda: risk("mia", "low", "board"),
         [("risk.changed", "mia", MODEL, {"risk_level": "unassessed", "risk_reason": ""}, low)]),
        ("request v1", lambda: remember("v1")(as_("mia", lambda c: ask(c, 1), 201)),
         [("transition.requested", "mia", v1, ANY, ANY)]),
        ("approve v1: applied", lambda: as_("tina", lambda c: vote(c, "v1", "approve"), 201),
         [("transition.approved", "tina", v1, ANY, ANY),
          ("transition.applied", "tina", v1, {"stage": "development"}, ANY)]),
        ("request v2", lambda: remember("v2")(as_("mia", lambda c: ask(c, 2), 201)),
         [("transition.requested", "mia", v2, ANY, ANY)]),
        ("reject v2", lambda: as_("tina", lambda c: vote(c, "v2", "reject"), 201),
         [("transition.rejected", "tina", v2, ANY, ANY)]),
        ("request v2 again", lambda: remember("v2b")(as_("mia", lambda c: ask(c, 2), 201)),
         [("transition.requested", "mia", v2, ANY, ANY)]),
        ("approve v2: v1 replaced", lambda: as_("tina", lambda c: vote(c, "v2b", "approve"), 201),
         [("transition.approved", "tina", v2, ANY, ANY),
          ("transition.applied", "tina", v2, {"stage": "development"}, ANY)]),
        ("rollback", lambda: post("mia", f"{M}/rollback", {"reason": "v2 misbehaves"}, 200),
         [("version.rolled_back", "mia", v1, ANY, ANY)]),
        ("risk up", lambda: risk("mia", "high", "PII"),
         [("risk.changed", "mia", MODEL, low, high)]),
        ("denied", lambda: risk("carl", "low", "x", 403),
         [("access.denied", "carl", MODEL, None, ANY)]),
        ("read", lambda: as_("tina", lambda c: c.get(M)), []),
    ]  # fmt: skip
    seen = audit.head(db)["seq"]
    for label, act, expected in steps:
        act()
        events = list(audit.iter_events(db, audit.AuditFilter(after_seq=seen)))
        got = [(e["action"], e["actor"], e["target"]) for e in events]
        assert got == [x[:3] for x in expected], label
        for (*_, before, after), event in zip(expected, events, strict=True):
            for want, have in ((before, event["before"]), (after, event["after"])):
                assert have is not None if want is ANY else have == want, (label, event)
            assert event["actor_id"]
            assert event["token_id"]
            assert event["request_id"]
        seen += len(events)
    rolled_back = audit.list_events(db, audit.AuditFilter(action="version.rolled_back"))[0][0]
    assert rolled_back["before"]["version"] == 2
    assert rolled_back["after"]["version"] == 1
    assert audit.verify(db).ok
