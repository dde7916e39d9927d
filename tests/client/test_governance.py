"""The SDK's governance methods against the real app: records decoded, errors raised with the
server's codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest

from modelyard.client import (
    Client,
    Comment,
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    Transition,
)
from modelyard.db.engine import Database
from modelyard.domain.policy_document import default_policy
from tests import identity
from tests.governance import MODEL, NS, model, team
from tests.support import sync_transport

SDK = Callable[[str], AbstractContextManager[Client]]


@pytest.fixture
def sdk(app, db: Database) -> Iterator[SDK]:  # type: ignore[no-untyped-def]
    team(db)
    with sync_transport(app) as transport:

        @contextmanager
        def as_(user: str) -> Iterator[Client]:
            token = identity.token(db, user)
            with Client("http://modelyard.test", token=token, transport=transport) as c:
                yield c

        yield as_


def test_promote_and_approve_return_transitions(sdk: SDK, db: Database) -> None:
    model(db, risk="high")
    with sdk("mia") as mia:
        t = mia.promote(f"{MODEL}@1", "production", "Q3")
    assert isinstance(t, Transition)
    assert (t.status, t.to_stage, [a.capacity for a in t.approvals]) == (
        "pending",
        "production",
        ["business", "legal", "technical"],
    )
    assert t.checks[0].check == "model_card_present"
    for user in ("tina", "bob"):
        with sdk(user) as reviewer:
            reviewer.approve(t.id, "fine")
    with sdk("lena") as lena:
        done = lena.approve(t.id, "GDPR ok", capacity="legal")
        assert lena.get_transition(t.id) == done
    assert (done.status, [v.voter for v in done.votes]) == ("applied", ["tina", "bob", "lena"])
    assert done.votes[0].counts


def test_errors_carry_their_codes(sdk: SDK, db: Database) -> None:
    model(db, risk="unassessed")
    with sdk("mia") as mia, pytest.raises(ConflictError) as refused:
        mia.promote(f"{MODEL}@1", "production", "now")
    assert refused.value.code == "TRANSITION_REFUSED"
    with sdk("mia") as mia:
        mia.set_model_risk(MODEL, "medium", "assessed")
        t = mia.promote(f"{MODEL}@1", "production", "now")
        with pytest.raises(ForbiddenError) as own:
            mia.approve(t.id, "mine")
    assert own.value.code in ("SELF_APPROVAL", "PERMISSION_DENIED")
    with sdk("sam") as sam, pytest.raises(InvalidInputError) as which:
        sam.approve(t.id, "which?")
    assert which.value.code == "CAPACITY_REQUIRED"


def test_list_cancel_and_rollback(sdk: SDK, db: Database) -> None:
    model(db, count=3, risk="low")
    with sdk("mia") as mia:
        ids = [mia.promote(f"{MODEL}@{n}", "production", "go").id for n in (1, 2)]
        pending = mia.promote(f"{MODEL}@3", "staging", "try")
        assert pending.status == "applied"  # staging at low risk needs nothing
    with sdk("tina") as tina:
        for tid in ids:
            tina.approve(tid, "ok")
        assert [t.id for t in tina.iter_transitions("applied", page_size=1)] == [
            pending.id,
            *reversed(ids),
        ]
        assert tina.list_transitions(model=MODEL, status="pending").items == []
    with sdk("mia") as mia:
        back = mia.rollback(MODEL, "v2 drifts")
        assert (back.kind, back.version, back.replaced_version) == ("rollback", 1, 2)
        again = mia.promote(f"{MODEL}@2", "production", "fixed")
        cancelled = mia.cancel_transition(again.id, "not yet")
    assert cancelled.status == "cancelled"


def test_comments_and_namespace_policy(sdk: SDK, db: Database) -> None:
    model(db, risk="low")
    with sdk("lena") as lena:
        c = lena.add_comment(f"{MODEL}@latest", "DPIA done")
        lena.add_comment(MODEL, "all good")
        assert isinstance(c, Comment)
        assert (c.target, c.version) == (f"{MODEL}@1", 1)
        assert [x.body for x in lena.iter_comments(MODEL, page_size=1)] == [
            "DPIA done",
            "all good",
        ]
    with sdk("mia") as mia:
        assert mia.get_policy() == default_policy()
        found = mia.set_namespace_policy(
            NS, {"requirements": {"staging": {"checks": ["model_card_present"]}}}
        )
        assert found.override is not None
        assert [c.key for c in found.effective.requirement("staging", "low").checks] == [
            "model_card_present"
        ]
        with pytest.raises(InvalidInputError) as loose:
            mia.set_namespace_policy(NS, "transitions: {production: [development]}")
        assert loose.value.code == "POLICY_LOOSENS"
        assert mia.get_namespace_policy(NS).override == found.override
        assert mia.remove_namespace_policy(NS).override is None
