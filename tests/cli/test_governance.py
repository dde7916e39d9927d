"""The governance commands against the real app: promote, approve, reject, transitions,
rollback, risk, comments, namespace policies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from modelyard.cli import app as cli_app
from modelyard.client import Client
from modelyard.db.engine import Database
from tests import identity
from tests.governance import MODEL, NS, model, team
from tests.support import sync_transport

As = Callable[..., Result]


@pytest.fixture
def as_user(app, db: Database) -> Iterator[As]:  # type: ignore[no-untyped-def]
    """``as_user("mia", "promote", ...)``: the CLI signed in as that user."""
    team(db)
    runner = CliRunner()
    tokens: dict[str, str] = {}
    with sync_transport(app) as transport:

        def invoke(user: str, *args: str) -> Result:
            token = tokens.setdefault(user, identity.token(db, user))

            def factory() -> Client:
                return Client("http://modelyard.test", token=token, transport=transport)

            return runner.invoke(cli_app, list(args), obj=factory)

        yield invoke


def promote(as_user: As, ref: str, stage: str = "production", by: str = "mia") -> str:
    """The new transition's id."""
    r = as_user(by, "promote", ref, "--to", stage, "--reason", "go", "--json")
    assert r.exit_code == 0, r.output
    return str(json.loads(r.stdout)["id"])


def test_promote_approve_and_show(as_user: As, db: Database) -> None:
    model(db, risk="medium")
    r = as_user("mia", "promote", f"{MODEL}@1", "--to", "production", "--reason", "Q3 model")
    assert r.exit_code == 0, r.output
    tid = r.stdout.split("#")[1].split(":")[0]
    assert r.stdout == (
        f"transition #{tid}: risk-team/fraud@1 development -> production: pending; waiting for"
        " 1 business approval(s), 1 technical approval(s)\n"
    )
    r = as_user("tina", "approve", tid, "-m", "backtest ok")
    assert "waiting for 1 business approval(s)" in r.stdout
    r = as_user("bob", "approve", tid, "--as", "business", "-m", "go")
    assert r.stdout == f"transition #{tid}: risk-team/fraud@1 development -> production: applied\n"
    shown = as_user("lena", "transitions", "show", tid)
    assert shown.exit_code == 0, shown.output
    expected = (
        f"#{tid} (promotion)",
        "development -> production",
        "business 1/1 (bob)",
        "approve by tina as technical: backtest ok",
        "model_card_present: passed",
    )
    for text in expected:
        assert text in shown.stdout
    as_json = json.loads(as_user("lena", "transitions", "show", tid, "--json").stdout)
    assert (as_json["status"], as_json["reference"]) == ("applied", f"{MODEL}@1")


def test_self_approval_and_rejection(as_user: As, db: Database) -> None:
    model(db, risk="high")
    tid = promote(as_user, f"{MODEL}@1", by="sam")
    r = as_user("sam", "approve", tid, "--as", "legal", "-m", "mine")
    assert r.exit_code == 1
    assert r.stderr.startswith("error: SELF_APPROVAL: ")
    r = as_user("lena", "reject", tid, "-m", "no DPIA yet")
    assert r.stdout.endswith(": rejected\n")


def test_transitions_list_pending_and_cancel(as_user: As, db: Database) -> None:
    model(db, count=2, risk="high")
    tid = promote(as_user, f"{MODEL}@1")
    promote(as_user, f"{MODEL}@2", "archived")
    listed = as_user("tina", "transitions", "list", "--pending")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "VERSION", "TO", "STATUS", "BY", "WAITING", "FOR"]
    assert [line.split()[:4] for line in lines[1:]] == [
        [tid, f"{MODEL}@1", "production", "pending"]
    ]
    everything = json.loads(as_user("tina", "transitions", "list", "--json").stdout)
    assert [t["status"] for t in everything] == ["applied", "pending"]
    r = as_user("mia", "transitions", "cancel", tid, "--reason", "not now")
    assert r.stdout.endswith(": cancelled\n")
    assert as_user("tina", "transitions", "list", "--pending").stdout == "no transitions\n"


def test_rollback_and_risk_set(as_user: As, db: Database, tmp_path: Path) -> None:
    model(db, count=2, risk="low")
    for n in (1, 2):
        as_user("tina", "approve", promote(as_user, f"{MODEL}@{n}"), "-m", "ok")
    r = as_user("mia", "rollback", MODEL, "--reason", "v2 drifts")
    assert r.exit_code == 0, r.output
    assert r.stdout == "rolled back risk-team/fraud production to @1 (@2 moved out)\n"
    r = as_user("mia", "risk", "set", MODEL, "high", "--reason", "now scores loans")
    assert r.stdout == "risk-team/fraud is now high risk\n"
    r = as_user("tina", "risk", "set", MODEL, "low", "--reason", "nope")
    assert r.exit_code == 1
    assert "PERMISSION_DENIED" in r.stderr


def test_comments(as_user: As, db: Database) -> None:
    model(db)
    assert as_user("lena", "comment", "add", f"{MODEL}@1", "-m", "GDPR ok").stdout == (
        f"commented on {MODEL}@1\n"
    )
    as_user("bob", "comment", "add", MODEL, "-m", "Budget approved")
    listed = as_user("tina", "comment", "list", MODEL).stdout
    assert "lena on risk-team/fraud@1:\nGDPR ok\n" in listed
    assert "bob on risk-team/fraud:\nBudget approved\n" in listed
    only = json.loads(as_user("tina", "comment", "list", f"{MODEL}@latest", "--json").stdout)
    assert [c["body"] for c in only] == ["GDPR ok"]


def test_namespace_policy_set_show_reset(as_user: As, db: Database, tmp_path: Path) -> None:
    path = tmp_path / "tight.yaml"
    path.write_text("requirements:\n  staging:\n    checks: [model_card_present]\n")
    r = as_user("mia", "policy", "set", NS, str(path))
    assert r.stdout == f"set the policy override of {NS}\n"
    shown = as_user("tina", "policy", "show", "--namespace", NS).stdout
    assert f"# namespace {NS} adds (set by mia):" in shown
    assert "  staging:\n    checks: [model_card_present]\n" in shown
    loose = tmp_path / "loose.yaml"
    loose.write_text("transitions: {production: [development]}\n")
    r = as_user("mia", "policy", "set", NS, str(loose))
    assert r.exit_code == 1
    assert r.stderr.startswith("error: POLICY_LOOSENS: ")
    assert as_user("mia", "policy", "reset", NS).stdout == f"{NS} follows the server's policy\n"
    assert "no override" in as_user("tina", "policy", "show", "-n", NS).stdout
