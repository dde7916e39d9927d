from __future__ import annotations

from typing import Any

import pytest

from modelyard.domain.policy import CheckSpec, Override, PolicyError, loosenings
from modelyard.domain.policy_document import (
    DEFAULT_POLICY_YAML,
    check_merged,
    default_policy,
    dump_yaml,
    parse_override,
    parse_policy,
)

SMALL = """
format: 1
stages:
  dev: {}
  prod: {exclusive: true, previous_holder_to: retired}
  retired: {}
initial_stage: dev
transitions:
  dev: [prod, retired]
  prod: [retired]
  retired: [prod]
requirements:
  prod:
    checks: [model_card_present, "metrics.auc >= 0.8"]
    risk:
      low: {approvals: {technical: 1}}
      medium: {approvals: {technical: 1}}
      high: {approvals: {technical: 2, legal: 1}}
"""


def problems(text: str | dict[str, Any]) -> dict[str, str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "test.yaml")
    assert caught.value.code == "POLICY_INVALID"
    assert caught.value.status == 400
    return {p["key"]: p["message"] for p in caught.value.details["problems"]}


def with_requirements(requirements: str) -> str:
    head, _, _ = SMALL.partition("requirements:")
    return head + "requirements:\n" + requirements


# ---------------------------------------------------------------------------- the default


def test_default_policy_needs_technical_business_and_legal_for_high_risk_production() -> None:
    need = default_policy().requirement("production", "high")
    assert dict(need.approvals) == {"technical": 1, "business": 1, "legal": 1}
    assert not need.refused


def test_default_policy_needs_only_technical_for_low_risk_production() -> None:
    assert dict(default_policy().requirement("production", "low").approvals) == {"technical": 1}


def test_default_policy_needs_technical_and_business_for_medium_risk_production() -> None:
    need = default_policy().requirement("production", "medium")
    assert dict(need.approvals) == {"technical": 1, "business": 1}


def test_default_policy_refuses_production_until_the_risk_is_assessed() -> None:
    assert default_policy().requirement("production", "unassessed").refused


def test_default_policy_checks_production_and_lets_missing_subsystems_pass() -> None:
    checks = {
        c.key: c.when_unavailable for c in default_policy().requirement("production", "low").checks
    }
    assert checks == {
        "model_card_present": "block",
        "ingredients_complete": "block",
        "datasets_not_revoked": "block",
        "scan_clean": "allow",
        "no_known_vulnerabilities": "allow",
        "signed": "allow",
    }


def test_default_policy_lets_development_and_archived_in_without_anything() -> None:
    p = default_policy()
    for stage in ("development", "archived"):
        for level in ("unassessed", "low", "medium", "high"):
            need = p.requirement(stage, level)
            assert (need.refused, dict(need.approvals), need.checks) == (False, {}, ())


def test_default_policy_staging_needs_technical_only_at_high_risk() -> None:
    p = default_policy()
    assert dict(p.requirement("staging", "high").approvals) == {"technical": 1}
    assert dict(p.requirement("staging", "medium").approvals) == {}


def test_default_policy_production_is_exclusive_and_its_holder_goes_to_archived() -> None:
    p = default_policy()
    assert dict(p.exclusive) == {"production": "archived"}
    assert p.initial_stage == "development"


def test_default_policy_allows_rollback_from_archived_to_production() -> None:
    p = default_policy()
    assert p.allows("archived", "production")
    assert p.allows("production", "archived")
    assert not p.allows("production", "development")


def test_policy_round_trips_through_its_document_and_yaml() -> None:
    p = default_policy()
    assert parse_policy(p.to_document()) == p
    assert parse_policy(dump_yaml(p.to_document())) == p
    small = parse_policy(SMALL, "small.yaml")
    assert parse_policy(small.to_document(), "small.yaml") == small


def test_the_documented_default_is_the_built_in_one() -> None:
    assert parse_policy(DEFAULT_POLICY_YAML) == default_policy()


# ---------------------------------------------------------------------------- validation


def test_unknown_top_level_key_is_named() -> None:
    found = problems(SMALL + "approvers: {}\n")
    assert "approvers" in found
    assert "unknown key" in found["approvers"]


def test_every_mistake_is_reported_at_once_with_its_key() -> None:
    found = problems(
        with_requirements(
            """
  prod:
    checks: [model_card_presnt]
    risk:
      high: {approvals: {legal: two}}
      extreme: {approvals: {legal: 1}}
  nowhere: {}
"""
        )
    )
    assert set(found) == {
        "requirements.prod.checks[0]",
        "requirements.prod.risk.high.approvals.legal",
        "requirements.prod.risk.extreme",
        "requirements.nowhere",
    }
    assert "unknown check 'model_card_presnt'" in found["requirements.prod.checks[0]"]
    assert "whole number" in found["requirements.prod.risk.high.approvals.legal"]
    assert "unknown risk level" in found["requirements.prod.risk.extreme"]


def test_the_error_message_names_the_file_and_the_key() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(SMALL.replace("prod: [retired]", "prod: [staging]"), "/etc/my.yaml")
    assert "/etc/my.yaml" in caught.value.message
    assert "transitions.prod: 'staging' is not a stage" in caught.value.message


def test_a_transition_to_the_same_stage_is_refused() -> None:
    found = problems(SMALL.replace("prod: [retired]", "prod: [retired, prod]"))
    assert found == {"transitions.prod": "a version cannot move from prod to prod"}


def test_previous_holder_must_be_another_non_exclusive_stage() -> None:
    assert "previous_holder_to" in next(
        iter(problems(SMALL.replace("previous_holder_to: retired", "previous_holder_to: gone")))
    )
    found = problems(
        SMALL.replace("retired: {}", "retired: {exclusive: true, previous_holder_to: dev}")
    )
    assert "is exclusive itself" in found["stages.prod.previous_holder_to"]


def test_initial_stage_must_be_a_stage_and_not_exclusive() -> None:
    assert (
        "not a stage"
        in problems(SMALL.replace("initial_stage: dev", "initial_stage: x"))["initial_stage"]
    )
    assert (
        "exclusive"
        in problems(SMALL.replace("initial_stage: dev", "initial_stage: prod"))["initial_stage"]
    )


def test_stage_names_follow_the_naming_rule_and_avoid_reference_words() -> None:
    found = problems({"stages": {"Prod": {}, "latest": {}}, "initial_stage": "Prod"})
    assert {"stages.Prod", "stages.latest"} <= set(found)


def test_a_key_given_twice_is_refused_with_its_line() -> None:
    found = problems("format: 1\nstages: {dev: {}}\nstages: {prod: {}}\n")
    assert found == {"stages": "given twice (line 3)"}


def test_broken_yaml_is_reported_with_line_and_column() -> None:
    found = problems("stages: [dev\ntransitions: {}\n")
    assert "not valid YAML: line" in found[""]


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    assert "mapping" in problems("- dev\n- prod\n")[""]


def test_unsupported_format_is_refused() -> None:
    assert "unsupported format 2" in problems(SMALL.replace("format: 1", "format: 2"))["format"]


def test_a_riskier_level_may_not_need_fewer_approvals() -> None:
    found = problems(
        with_requirements(
            """
  prod:
    risk:
      low: {approvals: {technical: 2}}
      medium: {approvals: {technical: 1}}
"""
        )
    )
    assert (
        "fewer technical approvals than at low" in found["requirements.prod.risk.medium.approvals"]
    )


def test_refusing_a_lower_risk_level_but_not_a_higher_one_is_refused() -> None:
    found = problems(with_requirements("  prod:\n    risk:\n      low: refuse\n"))
    assert "refused at low but not at medium" in found["requirements.prod.risk.medium"]


def test_when_unavailable_is_block_or_allow() -> None:
    found = problems(
        with_requirements("  prod:\n    checks: [{check: signed, when_unavailable: maybe}]\n")
    )
    assert found == {"requirements.prod.checks[0].when_unavailable": "block or allow"}


def test_metric_threshold_needs_a_finite_number() -> None:
    found = problems(with_requirements("  prod:\n    checks: ['metrics.auc >= nan']\n"))
    assert "not a finite number" in found["requirements.prod.checks[0]"]
    found = problems(with_requirements("  prod:\n    checks: ['metrics.auc => 0.8']\n"))
    assert "unknown check" in found["requirements.prod.checks[0]"]


def test_capacities_the_server_does_not_define_are_refused() -> None:
    policy = parse_policy(SMALL, "small.yaml")
    policy.check_capacities(["technical", "legal"])
    with pytest.raises(PolicyError) as caught:
        policy.check_capacities(["technical", "business"])
    assert "approvals as legal, which no one can give" in caught.value.message


# ---------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    ("text", "value", "passes"),
    [
        ("metrics.auc >= 0.8", 0.8, True),
        ("metrics.auc >= 0.8", 0.79, False),
        ("metrics.auc > 0.8", 0.8, False),
        ("metrics.latency_ms <= 50", 49.5, True),
        ("metrics.latency_ms < 50", 50, False),
        ("metrics.drift == 0", 0.0, True),
    ],
)
def test_metric_thresholds_compare_the_metric(text: str, value: float, passes: bool) -> None:
    policy = parse_policy(with_requirements(f"  prod:\n    checks: ['{text}']\n"))
    (check,) = policy.requirement("prod", "low").checks
    assert check.metric is not None
    assert check.metric_passes(value) is passes


def test_metric_threshold_keeps_its_exact_value_in_its_key() -> None:
    policy = parse_policy(
        with_requirements("  prod:\n    checks: ['metrics.auc >= 0.123456789']\n")
    )
    (check,) = policy.requirement("prod", "low").checks
    assert check.key == "metrics.auc >= 0.123456789"
    assert parse_policy(policy.to_document()) == policy


def test_risk_level_checks_add_to_the_stage_checks() -> None:
    policy = parse_policy(
        with_requirements(
            """
  prod:
    checks: [model_card_present]
    risk:
      high: {approvals: {technical: 1}, checks: ['metrics.auc >= 0.9', model_card_present]}
"""
        )
    )
    assert [c.key for c in policy.requirement("prod", "high").checks] == [
        "model_card_present",
        "metrics.auc >= 0.9",
    ]
    assert [c.key for c in policy.requirement("prod", "low").checks] == ["model_card_present"]


# ---------------------------------------------------------------------------- namespaces


def override(text: str) -> Override:
    return parse_override(text, parse_policy(SMALL))


def test_an_override_tightens_approvals_checks_and_transitions() -> None:
    base = parse_policy(SMALL)
    extra = override(
        """
transitions:
  dev: [retired]
requirements:
  prod:
    checks: [ingredients_complete, "metrics.auc >= 0.9"]
    risk:
      low: {approvals: {technical: 2, business: 1}}
      medium: {approvals: {technical: 2, business: 1}}
      high: refuse
"""
    )
    assert loosenings(base, extra) == []
    merged = base.tightened(extra)
    assert not merged.allows("dev", "prod")
    assert merged.allows("prod", "retired")
    low = merged.requirement("prod", "low")
    assert dict(low.approvals) == {"technical": 2, "business": 1}
    assert [c.key for c in low.checks] == [
        "model_card_present",
        "metrics.auc >= 0.8",
        "ingredients_complete",
        "metrics.auc >= 0.9",
    ]
    assert merged.requirement("prod", "high").refused
    check_merged(merged)


def test_an_override_never_loosens_even_when_it_says_less() -> None:
    """Merging keeps the stricter of both, so an override stored before the server's policy
    grew stricter never loosens it either."""
    merged = parse_policy(SMALL).tightened(
        Override(requirements={"prod": parse_policy(SMALL).requirements["prod"].__class__()})
    )
    assert dict(merged.requirement("prod", "high").approvals) == {"technical": 2, "legal": 1}


@pytest.mark.parametrize(
    ("text", "key", "why"),
    [
        ("transitions: {prod: [dev]}", "transitions.prod", "prod -> dev is not allowed"),
        (
            "requirements: {prod: {risk: {high: {approvals: {technical: 1}}}}}",
            "requirements.prod.risk.high.approvals.technical",
            "1 is fewer than the server's 2",
        ),
        (
            "requirements: {prod: {checks: ['metrics.auc >= 0.7']}}",
            "requirements.prod.checks",
            "metrics.auc >= 0.7 is weaker than the server's metrics.auc >= 0.8",
        ),
    ],
)
def test_a_loosening_override_is_named(text: str, key: str, why: str) -> None:
    found = loosenings(parse_policy(SMALL), override(text))
    assert len(found) == 1
    assert found[0][0] == key
    assert why in found[0][1]


def test_allowing_a_check_the_server_blocks_on_loosens() -> None:
    base = parse_policy(
        with_requirements("  prod:\n    checks: [{check: signed, when_unavailable: block}]\n")
    )
    extra = parse_override(
        "requirements: {prod: {checks: [{check: signed, when_unavailable: allow}]}}", base
    )
    assert loosenings(base, extra) == [
        ("requirements.prod.checks", "signed: the server's policy blocks when it is not available")
    ]


def test_un_refusing_a_risk_level_loosens() -> None:
    base = default_policy()
    extra = parse_override(
        "requirements: {production: {risk: {unassessed: {approvals: {technical: 3}}}}}", base
    )
    assert loosenings(base, extra) == [
        (
            "requirements.production.risk.unassessed",
            "the server's policy refuses production at risk unassessed",
        )
    ]


def test_an_override_may_not_declare_stages() -> None:
    with pytest.raises(PolicyError) as caught:
        override("stages: {canary: {}}")
    assert caught.value.details["problems"][0]["key"] == "stages"


def test_an_override_round_trips_through_its_document() -> None:
    extra = override("requirements: {prod: {risk: {low: {approvals: {business: 1}}}}}")
    assert parse_override(extra.to_document(), parse_policy(SMALL)) == extra


def test_a_stricter_metric_is_not_a_loosening() -> None:
    base = parse_policy(SMALL)
    assert loosenings(base, override("requirements: {prod: {checks: ['metrics.auc > 0.8']}}")) == []
    assert CheckSpec("metrics.auc", "block", ">", 0.8).key == "metrics.auc > 0.8"


def test_an_override_that_makes_a_riskier_level_need_less_is_invalid_once_merged() -> None:
    base = parse_policy(SMALL)
    merged = base.tightened(
        override("requirements: {prod: {risk: {low: {approvals: {business: 1}}}}}")
    )
    with pytest.raises(PolicyError) as caught:
        check_merged(merged, "namespace risk-team")
    assert caught.value.details["problems"] == [
        {
            "key": "requirements.prod.risk.medium.approvals",
            "message": "fewer business approvals than at low: a riskier model never needs less",
        }
    ]
