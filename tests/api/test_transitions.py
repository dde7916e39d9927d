"""Governance over HTTP: who may request, vote, cancel and roll back; what the answers say;
namespace policies; risk changes; comments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow
from modelyard.domain.access import Role
from modelyard.settings import Settings
from tests import identity
from tests.governance import MODEL, NS, OPEN_POLICY, model, team

API = "/api/v1"


@pytest.fixture
def gov(db: Database) -> Database:
    team(db)
    identity.team(db, "other-team", olga=Role.ADMIN)
    identity.user(db, "carl")
    from modelyard.services import teams

    teams.set_member(db, "admin", NS, "carl", Role.CONTRIBUTOR)
    return db


@contextmanager
def as_(
    app: FastAPI, db: Database, user: str, scopes: list[str] | None = None
) -> Iterator[httpx.Client]:
    with identity.http_as(app, identity.token(db, user, scopes)) as client:
        yield client


def ask(c: httpx.Client, ref: str = f"{MODEL}@1", stage: str = "production") -> httpx.Response:
    return c.post(f"{API}/transitions", json={"reference": ref, "stage": stage, "reason": "ready"})


def vote(c: httpx.Client, tid: int, decision: str = "approve", **extra: Any) -> httpx.Response:
    body = {"decision": decision, "comment": "reviewed", **extra}
    return c.post(f"{API}/transitions/{tid}/approvals", json=body)


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def test_high_risk_promotion_over_http(app: FastAPI, gov: Database) -> None:
    model(gov, risk="high")
    with as_(app, gov, "mia") as mia:
        made = ask(mia)
    assert made.status_code == 201, made.text
    t = made.json()
    assert (t["status"], t["reference"], t["waiting_for"]) == (
        "pending",
        f"{MODEL}@1",
        ["1 business approval(s)", "1 legal approval(s)", "1 technical approval(s)"],
    )
    for user in ("tina", "bob", "lena"):
        with as_(app, gov, user) as reviewer:
            r = vote(reviewer, t["id"])
        assert r.status_code == 201, r.text
    assert r.json()["status"] == "applied"
    with as_(app, gov, "tina") as tina:
        shown = tina.get(f"{API}/models/{MODEL}/versions/1").json()
    assert shown["stage"] == "production"


def test_self_approval_is_403(app: FastAPI, gov: Database) -> None:
    model(gov, risk="low")
    with as_(app, gov, "sam") as sam:
        t = ask(sam).json()
        r = vote(sam, t["id"], capacity="technical")
    assert (r.status_code, code(r)) == (403, "SELF_APPROVAL")


def test_voting_twice_counts_once_and_a_different_vote_is_409(app: FastAPI, gov: Database) -> None:
    model(gov, risk="high")
    with as_(app, gov, "mia") as mia:
        t = ask(mia).json()
    with as_(app, gov, "tina") as tina:
        first, again = vote(tina, t["id"]), vote(tina, t["id"])
        other = vote(tina, t["id"], "reject")
    assert first.status_code == again.status_code == 201
    assert first.json()["approvals"] == again.json()["approvals"]
    assert [v["voter"] for v in again.json()["votes"]] == ["tina"]
    assert (other.status_code, code(other)) == (409, "ALREADY_VOTED")


def test_a_service_account_token_cannot_vote(app: FastAPI, gov: Database) -> None:
    from modelyard.services import users

    users.create_service_account(gov, "admin", "fraud-ci", NS, Role.MAINTAINER)
    model(gov, risk="low")
    with as_(app, gov, "fraud-ci") as ci:
        t = ask(ci)
        assert t.status_code == 201, t.text
    with as_(app, gov, "fraud-ci") as ci:
        r = vote(ci, t.json()["id"], capacity="technical")
    assert (r.status_code, code(r)) == (409, "SERVICE_ACCOUNT_NOT_ALLOWED")


def test_a_token_without_the_approve_scope_cannot_vote_over_http(
    app: FastAPI, gov: Database
) -> None:
    model(gov, risk="low")
    with as_(app, gov, "mia") as mia:
        t = ask(mia).json()
    with as_(app, gov, "tina", ["read:*"]) as reader:
        refused = vote(reader, t["id"])
        assert reader.get(f"{API}/transitions/{t['id']}").status_code == 200  # reading is fine
    assert (refused.status_code, code(refused)) == (403, "PERMISSION_DENIED")
    with as_(app, gov, "tina", ["read:*", "approve:*"]) as reviewer:
        accepted = vote(reviewer, t["id"])
    assert (accepted.status_code, accepted.json()["status"]) == (201, "applied")


def test_contributors_cannot_request_and_outsiders_see_nothing(app: FastAPI, gov: Database) -> None:
    model(gov, risk="high")
    with as_(app, gov, "carl") as carl:
        r = ask(carl)
    assert (r.status_code, code(r)) == (403, "PERMISSION_DENIED")
    with as_(app, gov, "mia") as mia:
        t = ask(mia).json()
    with as_(app, gov, "olga") as olga:
        assert code(olga.get(f"{API}/transitions/{t['id']}")) == "TRANSITION_NOT_FOUND"
        assert code(vote(olga, t["id"])) == "TRANSITION_NOT_FOUND"
        assert olga.get(f"{API}/transitions").json()["items"] == []
    with as_(app, gov, "carl") as carl:  # a member without capacity may look, not vote
        assert carl.get(f"{API}/transitions/{t['id']}").status_code == 200
        assert code(vote(carl, t["id"])) == "PERMISSION_DENIED"


def test_list_pending_transitions(app: FastAPI, gov: Database) -> None:
    model(gov, count=2, risk="high")
    with as_(app, gov, "mia") as mia:
        pending = ask(mia).json()
        ask(mia, f"{MODEL}@2", "archived")  # applied at once
        listed = mia.get(f"{API}/transitions", params={"status": "pending"}).json()
        every = mia.get(f"{API}/transitions", params={"page_size": 1}).json()
        rest = mia.get(
            f"{API}/transitions", params={"page_size": 1, "page_token": every["next_page_token"]}
        ).json()
        bad = mia.get(f"{API}/transitions", params={"status": "open"})
    assert [t["id"] for t in listed["items"]] == [pending["id"]]
    assert [t["status"] for t in every["items"] + rest["items"]] == ["applied", "pending"]
    assert rest["next_page_token"] is None
    assert (bad.status_code, code(bad)) == (422, "VALIDATION_FAILED")


def test_the_requester_or_a_maintainer_cancels(app: FastAPI, gov: Database) -> None:
    model(gov, count=2, risk="high")
    with as_(app, gov, "mia") as mia:
        first, second = ask(mia).json(), ask(mia, f"{MODEL}@2").json()
    with as_(app, gov, "tina") as tina:
        r = tina.post(f"{API}/transitions/{first['id']}/cancel", json={"reason": "no"})
    assert (r.status_code, code(r)) == (403, "PERMISSION_DENIED")
    with as_(app, gov, "mia") as mia:
        r = mia.post(f"{API}/transitions/{first['id']}/cancel", json={"reason": "wrong"})
    assert (r.status_code, r.json()["status"]) == (200, "cancelled")
    with as_(app, gov, "sam") as sam:
        r = sam.post(f"{API}/transitions/{second['id']}/cancel", json={"reason": "superseded"})
    assert (r.json()["status"], r.json()["closed_by"]) == ("cancelled", "sam")


def test_rollback_over_http(
    app: FastAPI, gov: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(OPEN_POLICY)
    open_app = create_app(settings.with_(policy_file=str(path)), gov)
    model(gov, count=2, risk="low")
    with as_(open_app, gov, "mia") as mia:
        ask(mia)
        ask(mia, f"{MODEL}@2")
        r = mia.post(f"{API}/models/{MODEL}/rollback", json={"reason": "v2 misbehaves"})
        assert r.status_code == 200, r.text
        assert (r.json()["kind"], r.json()["version"], r.json()["replaced_version"]) == (
            "rollback",
            1,
            2,
        )
        assert (
            mia.get(f"{API}/resolve", params={"ref": f"{MODEL}@production"}).json()["version"] == 1
        )
    with as_(open_app, gov, "carl") as carl:
        r = carl.post(f"{API}/models/{MODEL}/rollback", json={"reason": "me too"})
    assert r.status_code == 403


def test_namespace_policy_tightens_and_refuses_loosening(app: FastAPI, gov: Database) -> None:
    model(gov, risk="low")
    business = {"approvals": {"business": 1}}
    tighter = {"requirements": {"production": {"risk": {"low": business, "medium": business}}}}
    with as_(app, gov, "carl") as carl:
        r = carl.put(f"{API}/namespaces/{NS}/policy", json={"policy": tighter})
    assert r.status_code == 403
    with as_(app, gov, "mia") as mia:
        r = mia.put(f"{API}/namespaces/{NS}/policy", json={"policy": tighter})
        assert r.status_code == 200, r.text
        low = r.json()["effective"]["requirements"]["production"]["risk"]["low"]
        assert low == {"approvals": {"business": 1, "technical": 1}}
        loose = mia.put(
            f"{API}/namespaces/{NS}/policy",
            json={"yaml": "transitions:\n  production: [development]\n"},
        )
        bad = mia.put(f"{API}/namespaces/{NS}/policy", json={"yaml": "requirements: {prod: {}}"})
        t = ask(mia).json()
    assert (loose.status_code, code(loose)) == (400, "POLICY_LOOSENS")
    assert loose.json()["error"]["details"]["loosens"][0]["key"] == "transitions.production"
    assert (bad.status_code, code(bad)) == (400, "POLICY_INVALID")
    assert {a["capacity"] for a in t["approvals"]} == {"business", "technical"}
    with as_(app, gov, "tina") as tina:
        assert tina.get(f"{API}/namespaces/{NS}/policy").json()["override"] == {
            "format": 1,
            **tighter,
        }
    with as_(app, gov, "mia") as mia:
        gone = mia.delete(f"{API}/namespaces/{NS}/policy").json()
    assert gone["override"] is None
    with gov.read() as s:
        actions = list(
            s.scalars(
                select(AuditEventRow.action)
                .where(AuditEventRow.action.like("policy.%"))
                .order_by(AuditEventRow.seq)
            )
        )
    assert actions == ["policy.updated", "policy.removed"]


def test_risk_change_needs_a_maintainer_and_a_reason_and_records_both_values(
    app: FastAPI, gov: Database
) -> None:
    model(gov, risk="low")
    with as_(app, gov, "carl") as carl:
        r = carl.put(f"{API}/models/{MODEL}/risk", json={"level": "high", "reason": "pii"})
    assert r.status_code == 403
    with as_(app, gov, "mia") as mia:
        missing = mia.put(f"{API}/models/{MODEL}/risk", json={"level": "high"})
        blank = mia.put(f"{API}/models/{MODEL}/risk", json={"level": "high", "reason": " "})
        ok = mia.put(f"{API}/models/{MODEL}/risk", json={"level": "high", "reason": "pii"})
    assert missing.status_code == 422
    assert blank.status_code == 422
    assert ok.json()["risk_level"] == "high"
    with gov.read() as s:
        event = s.scalars(
            select(AuditEventRow)
            .where(AuditEventRow.action == "risk.changed", AuditEventRow.actor == "mia")
            .order_by(AuditEventRow.seq.desc())
        ).first()
    assert event is not None
    assert (event.before, event.after) == (
        {"risk_level": "low", "risk_reason": "assessed by the risk board"},
        {"risk_level": "high", "risk_reason": "pii"},
    )


def test_comments_on_models_and_versions(app: FastAPI, gov: Database) -> None:
    model(gov, risk="low")
    with as_(app, gov, "lena") as lena:  # a viewer with a capacity comments
        r = lena.post(f"{API}/models/{MODEL}/versions/1/comments", json={"body": "Check GDPR."})
        assert r.status_code == 201, r.text
        lena.post(f"{API}/models/{MODEL}/comments", json={"body": "Model-wide note."})
        both = lena.get(f"{API}/models/{MODEL}/comments").json()["items"]
        one = lena.get(f"{API}/models/{MODEL}/versions/1/comments").json()["items"]
    assert [(c["target"], c["author"], c["body"]) for c in both] == [
        (f"{MODEL}@1", "lena", "Check GDPR."),
        (MODEL, "lena", "Model-wide note."),
    ]
    assert [c["body"] for c in one] == ["Check GDPR."]
    with as_(app, gov, "lena", ["read:*"]) as read_only:
        r = read_only.post(f"{API}/models/{MODEL}/comments", json={"body": "x"})
    assert r.status_code == 403
    with as_(app, gov, "lena") as lena:
        assert lena.post(f"{API}/models/{MODEL}/comments", json={"body": " "}).status_code == 422
    with gov.read() as s:
        added = list(
            s.scalars(
                select(AuditEventRow.target)
                .where(AuditEventRow.action == "comment.added")
                .order_by(AuditEventRow.seq)
            )
        )
    assert added == [f"{MODEL}@1", MODEL]


def test_new_versions_start_in_the_policys_initial_stage(
    gov: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "stages: {draft: {}, live: {exclusive: true, previous_holder_to: draft}}\n"
        "initial_stage: draft\ntransitions: {draft: [live], live: [draft]}\n"
    )
    app = create_app(settings.with_(policy_file=str(path)), gov)
    with as_(app, gov, "mia") as mia:
        mia.post(f"{API}/models", json={"namespace": NS, "name": "fraud"})
        v = mia.post(f"{API}/models/{MODEL}/versions", json={}).json()
        t = ask(mia, stage="live").json()
    assert v["stage"] == "draft"
    assert t["status"] == "applied"
