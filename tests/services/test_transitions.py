"""Transitions and approvals through the services, on SQLite and PostgreSQL: what the built-in
policy asks per risk level, separation of duties, one vote per person, rejection, cancel,
expiry, exclusive stages and rollback, risk re-evaluation, checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, VersionRow, VoteRow
from modelyard.db.types import utcnow
from modelyard.domain.access import Role
from modelyard.domain.errors import ConflictError, ForbiddenError, InvalidInputError
from modelyard.domain.policy_document import default_policy, parse_policy
from modelyard.services import (
    approvals,
    cards,
    models,
    rollback,
    transition_records,
    transitions,
    users,
    versions,
)
from tests.governance import (
    DAY,
    MODEL,
    NS,
    OPEN_POLICY,
    approve,
    model,
    open_policy,
    request,
    stages_of,
    team,
    version,
    who,
)

POLICY = default_policy()


@pytest.fixture
def reviewers(db: Database) -> Database:
    team(db)
    return db


def events(db: Database, action: str) -> list[AuditEventRow]:
    with db.read() as s:
        stmt = select(AuditEventRow).where(AuditEventRow.action == action)
        return list(s.scalars(stmt.order_by(AuditEventRow.seq)))


# ---------------------------------------------------------------------------- what is needed


def test_high_risk_production_waits_for_technical_business_and_legal(reviewers: Database) -> None:
    db = reviewers
    model(db, risk="high")
    t = request(db, POLICY, f"{MODEL}@1")
    assert (t.status, t.from_stage, t.to_stage) == ("pending", "development", "production")
    assert {a.capacity: a.needed for a in t.approvals} == {
        "business": 1,
        "legal": 1,
        "technical": 1,
    }
    for reviewer in ("tina", "bob"):
        t = approve(db, POLICY, t.id, reviewer)
        assert t.status == "pending"
        assert stages_of(db) == {1: "development"}
    assert t.waiting_for == ["1 legal approval(s)"]
    t = approve(db, POLICY, t.id, "lena")
    assert t.status == "applied"
    assert stages_of(db) == {1: "production"}


def test_low_risk_production_needs_only_technical(reviewers: Database) -> None:
    model(reviewers, risk="low")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    assert [(a.capacity, a.needed) for a in t.approvals] == [("technical", 1)]
    t = approve(reviewers, POLICY, t.id, "tina")
    assert t.status == "applied"
    assert t.closed_by == "tina"


def test_medium_risk_production_needs_technical_and_business(reviewers: Database) -> None:
    model(reviewers, risk="medium")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    assert [a.capacity for a in t.approvals] == ["business", "technical"]
    assert approve(reviewers, POLICY, t.id, "tina").status == "pending"
    assert approve(reviewers, POLICY, t.id, "bob").status == "applied"


def test_a_transition_nothing_is_required_for_applies_at_once(reviewers: Database) -> None:
    model(reviewers, risk="low")
    t = request(reviewers, POLICY, f"{MODEL}@1", "staging")
    assert (t.status, t.approvals, t.closed_by) == ("applied", [], "mia")
    assert stages_of(reviewers) == {1: "staging"}
    assert [e.action for e in events(reviewers, "transition.applied")] == ["transition.applied"]


def test_unassessed_risk_refuses_production_until_assessed(reviewers: Database) -> None:
    model(reviewers, risk="unassessed")
    with pytest.raises(ConflictError) as caught:
        request(reviewers, POLICY, f"{MODEL}@1")
    assert caught.value.code == "TRANSITION_REFUSED"
    assert "modelyard risk set risk-team/fraud" in caught.value.message
    assert events(reviewers, "transition.requested") == []


def test_a_failing_check_refuses_the_request_naming_it(reviewers: Database) -> None:
    model(reviewers, risk="low")
    version(reviewers, card="", ingredients=None)
    with pytest.raises(ConflictError) as caught:
        request(reviewers, POLICY, f"{MODEL}@2")
    assert caught.value.code == "CHECKS_FAILED"
    assert [c["check"] for c in caught.value.details["checks"]] == [
        "model_card_present",
        "ingredients_complete",
    ]


def test_checks_that_are_not_available_are_reported_and_do_not_block_by_default(
    reviewers: Database,
) -> None:
    model(reviewers, risk="low")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    by_name = {c.check: (c.status, c.blocking) for c in t.checks}
    assert by_name == {
        "model_card_present": ("passed", False),
        "ingredients_complete": ("passed", False),
        "datasets_not_revoked": ("passed", False),
        "scan_clean": ("not_available", False),
        "no_known_vulnerabilities": ("not_available", False),
        "signed": ("not_available", False),
    }


def test_a_policy_can_make_a_missing_subsystem_block(reviewers: Database) -> None:
    policy = parse_policy(
        OPEN_POLICY + "requirements: {production: {checks: [scan_clean]}}\n", "strict"
    )
    model(reviewers, risk="low")
    with pytest.raises(ConflictError) as caught:
        request(reviewers, policy, f"{MODEL}@1")
    (check,) = caught.value.details["checks"]
    assert (check["check"], check["status"], check["blocking"]) == (
        "scan_clean",
        "not_available",
        True,
    )


def test_metric_thresholds_are_checked(reviewers: Database) -> None:
    policy = parse_policy(
        OPEN_POLICY + "requirements: {production: {checks: ['metrics.auc >= 0.8']}}\n", "auc"
    )
    models.create_model(reviewers, "mia", NS, "fraud")
    version(reviewers, metrics={"auc": 0.79})
    version(reviewers, metrics={"auc": 0.8})
    version(reviewers)
    with pytest.raises(ConflictError) as low:
        request(reviewers, policy, f"{MODEL}@1")
    assert (
        low.value.details["checks"][0]["message"] == "auc = 0.79 does not meet metrics.auc >= 0.8"
    )
    with pytest.raises(ConflictError) as missing:
        request(reviewers, policy, f"{MODEL}@3")
    assert "has no metric 'auc'" in missing.value.details["checks"][0]["message"]
    assert request(reviewers, policy, f"{MODEL}@2").status == "applied"


def test_a_transition_the_policy_does_not_allow_is_refused(reviewers: Database) -> None:
    model(reviewers, risk="low")
    with pytest.raises(ConflictError) as caught:
        request(reviewers, POLICY, f"{MODEL}@1", "development")
    assert caught.value.code == "TRANSITION_NOT_ALLOWED"
    with pytest.raises(InvalidInputError) as unknown:
        request(reviewers, POLICY, f"{MODEL}@1", "prod")
    assert unknown.value.code == "STAGE_INVALID"


def test_one_pending_request_per_version(reviewers: Database) -> None:
    model(reviewers, risk="high")
    first = request(reviewers, POLICY, f"{MODEL}@1")
    with pytest.raises(ConflictError) as caught:
        request(reviewers, POLICY, f"{MODEL}@1", "staging")
    assert caught.value.code == "TRANSITION_PENDING"
    assert caught.value.details["transition"] == first.id


def test_a_transition_needs_a_reason(reviewers: Database) -> None:
    model(reviewers)
    mia = who(reviewers, "mia")
    with pytest.raises(InvalidInputError):
        transitions.request_transition(
            reviewers, POLICY, "mia", mia.user_id, f"{MODEL}@1", "staging", "  ", DAY
        )


# ---------------------------------------------------------------------------- separation of duties


def test_the_requester_cannot_approve_their_own_request(reviewers: Database) -> None:
    model(reviewers, risk="low")
    t = request(reviewers, POLICY, f"{MODEL}@1", by="sam")  # sam holds every capacity
    with pytest.raises(ForbiddenError) as caught:
        approve(reviewers, POLICY, t.id, "sam", "technical")
    assert (caught.value.code, caught.value.status) == ("SELF_APPROVAL", 403)
    assert transition_records.get_transition(reviewers, t.id).votes == []


def test_the_same_person_voting_twice_counts_once(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    approve(reviewers, POLICY, t.id, "tina")
    again = approve(reviewers, POLICY, t.id, "tina")
    assert [(a.capacity, a.given) for a in again.approvals if a.capacity == "technical"] == [
        ("technical", ("tina",))
    ]
    assert again.status == "pending"
    with reviewers.read() as s:
        assert s.scalar(select(func.count()).select_from(VoteRow)) == 1
    assert len(events(reviewers, "transition.approved")) == 1
    with pytest.raises(ConflictError) as caught:
        approvals.vote(reviewers, POLICY, who(reviewers, "tina"), t.id, "reject", "changed my mind")
    assert caught.value.code == "ALREADY_VOTED"


def test_one_person_cannot_fill_two_capacities(reviewers: Database) -> None:
    model(reviewers, risk="medium")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    approve(reviewers, POLICY, t.id, "sam", "technical")
    with pytest.raises(ConflictError) as caught:
        approve(reviewers, POLICY, t.id, "sam", "business")
    assert caught.value.code == "ALREADY_VOTED"


def test_service_accounts_never_vote(reviewers: Database) -> None:
    users.create_service_account(reviewers, "admin", "fraud-ci", NS, Role.CONTRIBUTOR)
    model(reviewers, risk="low")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    with pytest.raises(ConflictError) as caught:
        approve(reviewers, POLICY, t.id, "fraud-ci", "technical")
    assert caught.value.code == "SERVICE_ACCOUNT_NOT_ALLOWED"


def test_voting_needs_the_capacity(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    with pytest.raises(ForbiddenError) as caught:
        approve(reviewers, POLICY, t.id, "tina", "legal")
    assert caught.value.code == "PERMISSION_DENIED"


def test_a_token_without_the_approve_scope_cannot_vote(reviewers: Database) -> None:
    model(reviewers, risk="low")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    tina = who(reviewers, "tina", ["read:*"])
    with pytest.raises(ForbiddenError):
        approvals.vote(reviewers, POLICY, tina, t.id, "approve", "ok")


def test_the_capacity_is_asked_for_when_several_could_be_meant(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    with pytest.raises(InvalidInputError) as caught:
        approve(reviewers, POLICY, t.id, "sam")
    assert caught.value.code == "CAPACITY_REQUIRED"
    assert caught.value.details["capacities"] == ["business", "legal", "technical"]
    approve(reviewers, POLICY, t.id, "tina")
    approve(reviewers, POLICY, t.id, "bob")
    assert approve(reviewers, POLICY, t.id, "sam").status == "applied"  # legal: the one left


def test_a_vote_binds_the_manifest_digest_and_risk_level(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = approve(reviewers, POLICY, request(reviewers, POLICY, f"{MODEL}@1").id, "tina")
    (vote,) = t.votes
    digest = versions.get_version(reviewers, NS, "fraud", 1).manifest_digest
    assert (vote.risk_level, vote.manifest_digest) == ("high", digest)
    (event,) = events(reviewers, "transition.approved")
    assert event.after is not None
    assert (event.after["risk_level"], event.after["capacity"]) == ("high", "technical")


# ---------------------------------------------------------------------------- closing


def test_a_rejection_closes_the_request(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    approve(reviewers, POLICY, t.id, "tina")
    t = approvals.vote(reviewers, POLICY, who(reviewers, "bob"), t.id, "reject", "no business case")
    assert (t.status, t.close_reason, t.closed_by) == ("rejected", "no business case", "bob")
    with pytest.raises(ConflictError) as caught:
        approve(reviewers, POLICY, t.id, "lena")
    assert caught.value.code == "TRANSITION_CLOSED"
    assert stages_of(reviewers) == {1: "development"}
    assert request(reviewers, POLICY, f"{MODEL}@1").status == "pending"  # may ask again


def test_cancel_closes_the_request(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    t = transitions.cancel_transition(reviewers, "mia", t.id, "wrong version")
    assert (t.status, t.close_reason) == ("cancelled", "wrong version")
    with pytest.raises(ConflictError):
        transitions.cancel_transition(reviewers, "mia", t.id, "again")
    (event,) = events(reviewers, "transition.cancelled")
    assert event.after == {"id": t.id, "status": "cancelled", "reason": "wrong version"}


def test_a_request_expires(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    assert transitions.expire_due(reviewers) == 0
    assert transitions.expire_due(reviewers, utcnow() + DAY + timedelta(seconds=1)) == 1
    assert transition_records.get_transition(reviewers, t.id).status == "expired"
    assert len(events(reviewers, "transition.expired")) == 1
    assert transitions.expire_due(reviewers, utcnow() + 2 * DAY) == 0  # once only


def test_votes_on_an_expired_request_are_refused(reviewers: Database) -> None:
    model(reviewers, risk="high")
    mia = who(reviewers, "mia")
    t = transitions.request_transition(
        reviewers, POLICY, "mia", mia.user_id, f"{MODEL}@1", "production", "go", timedelta(0)
    )
    with pytest.raises(ConflictError) as caught:
        approve(reviewers, POLICY, t.id, "tina")
    assert caught.value.code == "TRANSITION_CLOSED"
    assert transition_records.get_transition(reviewers, t.id).status == "expired"


# ---------------------------------------------------------------------------- exclusive stage


def test_promoting_replaces_the_production_holder_which_goes_to_archived(
    reviewers: Database,
) -> None:
    model(reviewers, count=2, risk="low")
    policy = open_policy()
    request(reviewers, policy, f"{MODEL}@1")
    t = request(reviewers, policy, f"{MODEL}@2")
    assert t.replaced_version == 1
    assert stages_of(reviewers) == {1: "archived", 2: "production"}
    (_, applied) = events(reviewers, "transition.applied")
    assert applied.after == {
        "id": t.id,
        "stage": "production",
        "replaced": {"version": 1, "stage": "archived"},
    }


def test_the_database_holds_one_production_version_per_model(reviewers: Database) -> None:
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    model(reviewers, count=2, risk="low")
    request(reviewers, open_policy(), f"{MODEL}@1")
    with pytest.raises(IntegrityError), reviewers.write() as s:
        s.execute(
            update(VersionRow)
            .where(VersionRow.number == 2)
            .values(stage="production", exclusive_stage="production")
        )
    with pytest.raises(IntegrityError), reviewers.write() as s:  # the column is the stage
        s.execute(update(VersionRow).where(VersionRow.number == 2).values(exclusive_stage="x"))


def test_a_production_version_cannot_be_archived(reviewers: Database) -> None:
    model(reviewers, risk="low")
    request(reviewers, open_policy(), f"{MODEL}@1")
    with pytest.raises(ConflictError) as caught:
        versions.archive_version(reviewers, "mia", NS, "fraud", 1)
    assert caught.value.code == "STAGE_HELD"


def test_archiving_a_version_withdraws_its_pending_request(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    versions.archive_version(reviewers, "mia", NS, "fraud", 1)
    assert transition_records.get_transition(reviewers, t.id).status == "cancelled"


def test_archiving_the_model_withdraws_its_pending_requests(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    models.archive_model(reviewers, "mia", NS, "fraud")
    closed = transition_records.get_transition(reviewers, t.id)
    assert (closed.status, closed.close_reason) == ("cancelled", f"{MODEL} was archived")


def test_the_displaced_holders_pending_request_is_withdrawn(reviewers: Database) -> None:
    model(reviewers, count=2, risk="high")
    policy = parse_policy(
        OPEN_POLICY + "requirements: {staging: {risk: {high: {approvals: {technical: 1}}}}}"
    )
    request(reviewers, policy, f"{MODEL}@1")
    leaving = request(reviewers, policy, f"{MODEL}@1", "staging")
    assert leaving.status == "pending"
    request(reviewers, policy, f"{MODEL}@2")
    t = transition_records.get_transition(reviewers, leaving.id)
    assert t.status == "cancelled"
    assert "moved to archived" in t.close_reason


# ---------------------------------------------------------------------------- rollback


def test_rollback_returns_production_to_the_previous_version(reviewers: Database) -> None:
    model(reviewers, count=3, risk="low")
    policy = open_policy()
    for n in (1, 2, 3):
        request(reviewers, policy, f"{MODEL}@{n}")
    t = rollback.rollback(reviewers, policy, "sam", None, MODEL, "v3 misbehaves")
    assert (t.kind, t.version, t.replaced_version, t.status) == ("rollback", 2, 3, "applied")
    assert stages_of(reviewers) == {1: "archived", 2: "production", 3: "archived"}
    t = rollback.rollback(reviewers, policy, "sam", None, MODEL, "v2 too")
    assert t.version == 1
    assert stages_of(reviewers) == {1: "production", 2: "archived", 3: "archived"}
    with pytest.raises(ConflictError) as caught:
        rollback.rollback(reviewers, policy, "sam", None, MODEL, "and again")
    assert caught.value.code == "ROLLBACK_UNAVAILABLE"
    rolled = events(reviewers, "version.rolled_back")
    assert [(e.target, e.before, e.after["version"]) for e in rolled if e.after] == [
        (f"{MODEL}@2", {"stage": "production", "version": 3}, 2),
        (f"{MODEL}@1", {"stage": "production", "version": 2}, 1),
    ]


def test_rollback_after_a_promotion_of_the_rolled_back_to_version(reviewers: Database) -> None:
    model(reviewers, count=3, risk="low")
    policy = open_policy()
    request(reviewers, policy, f"{MODEL}@1")
    request(reviewers, policy, f"{MODEL}@2")
    rollback.rollback(reviewers, policy, "sam", None, MODEL, "v2 bad")
    request(reviewers, policy, f"{MODEL}@3")
    t = rollback.rollback(reviewers, policy, "sam", None, MODEL, "v3 bad")
    assert t.version == 1
    assert stages_of(reviewers)[1] == "production"


def test_rollback_with_nothing_in_production_is_refused(reviewers: Database) -> None:
    model(reviewers, risk="low")
    with pytest.raises(ConflictError) as caught:
        rollback.rollback(reviewers, open_policy(), "sam", None, MODEL, "panic")
    assert caught.value.code == "ROLLBACK_UNAVAILABLE"


def test_rollback_reruns_the_checks(reviewers: Database) -> None:
    model(reviewers, count=2, risk="low")
    policy = parse_policy(
        OPEN_POLICY + "requirements: {production: {checks: [model_card_present]}}"
    )
    request(reviewers, policy, f"{MODEL}@1")
    request(reviewers, policy, f"{MODEL}@2")
    cards.set_card(reviewers, "mia", NS, "fraud", 1, "")
    with pytest.raises(ConflictError) as caught:
        rollback.rollback(reviewers, policy, "sam", None, MODEL, "v2 bad")
    assert caught.value.code == "CHECKS_FAILED"
    assert stages_of(reviewers) == {1: "archived", 2: "production"}


# ---------------------------------------------------------------------------- risk changes


def test_raising_the_risk_level_supersedes_the_votes_and_adds_requirements(
    reviewers: Database,
) -> None:
    model(reviewers, risk="medium")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    approve(reviewers, POLICY, t.id, "tina")
    models.set_risk(reviewers, "mia", NS, "fraud", "high", "processes card data", POLICY)
    t = transition_records.get_transition(reviewers, t.id)
    assert t.risk_level == "high"
    assert {a.capacity: a.given for a in t.approvals} == {
        "business": (),
        "legal": (),
        "technical": (),
    }
    assert [(v.voter, v.counts) for v in t.votes] == [("tina", False)]
    for reviewer in ("tina", "bob"):  # tina votes again, at the new level
        assert approve(reviewers, POLICY, t.id, reviewer).status == "pending"
    t = approve(reviewers, POLICY, t.id, "lena")
    assert t.status == "applied"
    (changed,) = events(reviewers, "risk.changed")[-1:]
    assert changed.before == {"risk_level": "medium", "risk_reason": "assessed by the risk board"}
    assert changed.after is not None
    assert changed.after["reevaluated"] == [t.id]


def test_lowering_the_risk_level_applies_a_request_that_now_has_what_it_needs(
    reviewers: Database,
) -> None:
    model(reviewers, risk="high")
    t = approve(reviewers, POLICY, request(reviewers, POLICY, f"{MODEL}@1").id, "tina")
    models.set_risk(reviewers, "sam", NS, "fraud", "low", "scope reduced", POLICY)
    t = transition_records.get_transition(reviewers, t.id)
    assert (t.status, t.closed_by) == ("applied", "sam")
    assert stages_of(reviewers) == {1: "production"}


def test_a_risk_level_the_policy_refuses_cancels_pending_requests(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    models.set_risk(reviewers, "mia", NS, "fraud", "unassessed", "re-assessment pending", POLICY)
    t = transition_records.get_transition(reviewers, t.id)
    assert t.status == "cancelled"
    assert "refuses production at risk level unassessed" in t.close_reason


# ---------------------------------------------------------------------------- checks at apply


def test_approved_but_held_back_by_a_check_applies_once_fixed(reviewers: Database) -> None:
    model(reviewers, risk="low")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    cards.set_card(reviewers, "mia", NS, "fraud", 1, "")
    t = approve(reviewers, POLICY, t.id, "tina")
    assert t.status == "pending"
    assert t.waiting_for == ["check model_card_present (failed)"]
    with pytest.raises(ConflictError) as caught:
        transitions.apply_transition(reviewers, POLICY, "mia", t.id)
    assert caught.value.code == "CHECKS_FAILED"
    cards.set_card(reviewers, "mia", NS, "fraud", 1, "# Fraud\nBack.")
    t = transitions.apply_transition(reviewers, POLICY, "mia", t.id)
    assert t.status == "applied"


def test_apply_without_the_approvals_is_refused(reviewers: Database) -> None:
    model(reviewers, risk="high")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    with pytest.raises(ConflictError) as caught:
        transitions.apply_transition(reviewers, POLICY, "mia", t.id)
    assert caught.value.code == "APPROVALS_MISSING"
    assert caught.value.details["missing"] == {"business": 1, "legal": 1, "technical": 1}


# ---------------------------------------------------------------------------- audit


def test_every_step_is_one_audit_event_with_actor_and_before_after(reviewers: Database) -> None:
    model(reviewers, risk="medium")
    t = request(reviewers, POLICY, f"{MODEL}@1")
    approve(reviewers, POLICY, t.id, "tina")
    approve(reviewers, POLICY, t.id, "bob")
    with reviewers.read() as s:
        rows = list(
            s.scalars(
                select(AuditEventRow)
                .where(AuditEventRow.action.like("transition.%"))
                .order_by(AuditEventRow.seq)
            )
        )
    assert [(e.action, e.actor, e.target) for e in rows] == [
        ("transition.requested", "mia", f"{MODEL}@1"),
        ("transition.approved", "tina", f"{MODEL}@1"),
        ("transition.approved", "bob", f"{MODEL}@1"),
        ("transition.applied", "bob", f"{MODEL}@1"),
    ]
    assert rows[0].before == {"stage": "development"}
    assert rows[-1].before == {"stage": "development"}
    assert rows[-1].after == {"id": t.id, "stage": "production"}
