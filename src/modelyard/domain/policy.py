"""Policy as code: stages, transitions, exclusive stages, and what a transition needs.

    policy = stages            development, staging, production (exclusive), archived
           + transitions       from-stage -> the stages a version may move to from there
           + requirements      target stage -> checks for every risk level, and per risk level
                               refuse | approvals {capacity: count} + more checks

Pure. ``Policy.requirement(stage, risk)`` says what a transition needs, and a namespace's
``Override`` may only tighten the server's policy: ``loosenings`` lists what an override would
loosen (the API refuses it), ``Policy.tightened`` merges one in (the stricter of both, always,
so an override stored before the server's policy grew stricter never loosens it either).

The document (YAML) is read and validated by ``policy_document.py``; the format is documented
with the built-in policy in docs/governance.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.lifecycle import RISK_LEVELS

FORMAT = 1
STAGE_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")  # fits the 32-character stage column
CAPACITY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")
RESERVED_STAGES = frozenset({"latest", "sha256"})  # would make ns/name@REF ambiguous
# Checks a subsystem answers; scan_clean, no_known_vulnerabilities and signed answer "not
# available" until the scanning and signing subsystems exist (services/checks.py).
CHECK_NAMES: tuple[str, ...] = (
    "model_card_present",
    "ingredients_complete",
    "datasets_not_revoked",
    "scan_clean",
    "no_known_vulnerabilities",
    "signed",
)
WHEN_UNAVAILABLE = ("block", "allow")
METRIC_RE = re.compile(
    r"^metrics\.(?P<name>[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127})\s*"
    r"(?P<op>>=|<=|==|>|<)\s*(?P<value>\S+)\Z"
)
_OPS = {
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
}
# A higher risk rank needs at least what a lower one needs (``unassessed`` stands apart).
ASSESSED = ("low", "medium", "high")


class PolicyError(InvalidInputError):
    """POLICY_INVALID: ``problems`` is a list of ``{"key", "message"}``, one per mistake."""

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        listed = [{"key": k, "message": m} for k, m in problems]
        where = f" ({source})" if source else ""
        text = "; ".join(f"{k}: {m}" if k else m for k, m in problems)
        super().__init__(
            "POLICY_INVALID", f"invalid policy{where}: {text}", problems=listed, source=source
        )


# --------------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class CheckSpec:
    """One check a transition needs: a named check, or a metric threshold
    (``metrics.auc >= 0.8``: ``name='metrics.auc'``, ``op='>='``, ``threshold=0.8``)."""

    name: str
    when_unavailable: str = "block"
    op: str | None = None
    threshold: float | None = None

    @property
    def key(self) -> str:
        """How the check is written and named in results: ``scan_clean``, ``metrics.auc >= 0.8``."""
        if self.op is None:
            return self.name
        return f"{self.name} {self.op} {_number(self.threshold)}"

    @property
    def metric(self) -> str | None:
        return self.name.removeprefix("metrics.") if self.op is not None else None

    def metric_passes(self, value: float) -> bool:
        assert self.op is not None
        assert self.threshold is not None
        return bool(_OPS[self.op](value, self.threshold))

    def to_document(self) -> str | dict[str, str]:
        if self.when_unavailable == "block":
            return self.key
        return {"check": self.key, "when_unavailable": self.when_unavailable}


def _number(value: float | None) -> str:
    """``0.8`` rather than ``0.80000001``'s rounding: short when exact, else the full repr."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


@dataclass(frozen=True)
class RiskRule:
    """What a target stage needs at one risk level."""

    refuse: bool = False
    approvals: Mapping[str, int] = field(default_factory=dict)
    checks: tuple[CheckSpec, ...] = ()

    def to_document(self) -> str | dict[str, Any]:
        if self.refuse:
            return "refuse"
        doc: dict[str, Any] = {"approvals": dict(sorted(self.approvals.items()))}
        if self.checks:
            doc["checks"] = [c.to_document() for c in self.checks]
        return doc


@dataclass(frozen=True)
class StageRule:
    """Requirements of moving a version into one stage."""

    checks: tuple[CheckSpec, ...] = ()
    risk: Mapping[str, RiskRule] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.checks:
            doc["checks"] = [c.to_document() for c in self.checks]
        if self.risk:
            doc["risk"] = {
                lvl: self.risk[lvl].to_document() for lvl in RISK_LEVELS if lvl in self.risk
            }
        return doc


@dataclass(frozen=True)
class Requirement:
    """What one transition needs, for its target stage at the model's risk level."""

    stage: str
    risk_level: str
    refused: bool
    approvals: Mapping[str, int]
    checks: tuple[CheckSpec, ...]

    @property
    def needs_approval(self) -> bool:
        return any(n > 0 for n in self.approvals.values())

    def to_document(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "risk_level": self.risk_level,
            "refused": self.refused,
            "approvals": {c: n for c, n in sorted(self.approvals.items()) if n > 0},
            "checks": [c.to_document() for c in self.checks],
        }


# --------------------------------------------------------------------------------- policy


@dataclass(frozen=True)
class Policy:
    stages: tuple[str, ...]
    initial_stage: str
    exclusive: Mapping[str, str]  # exclusive stage -> where its previous holder goes
    transitions: Mapping[str, tuple[str, ...]]
    requirements: Mapping[str, StageRule]
    source: str = "built-in"

    def allows(self, from_stage: str, to_stage: str) -> bool:
        return to_stage in self.transitions.get(from_stage, ())

    def is_exclusive(self, stage: str) -> bool:
        return stage in self.exclusive

    def requirement(self, stage: str, risk_level: str) -> Requirement:
        rule = self.requirements.get(stage, StageRule())
        at = rule.risk.get(risk_level, RiskRule())
        return Requirement(
            stage=stage,
            risk_level=risk_level,
            refused=at.refuse,
            approvals={c: n for c, n in at.approvals.items() if n > 0},
            checks=unique_checks((*rule.checks, *at.checks)),
        )

    def capacities(self) -> frozenset[str]:
        """Every reviewer capacity some requirement names."""
        return frozenset(
            c
            for rule in self.requirements.values()
            for r in rule.risk.values()
            for c in r.approvals
        )

    def check_capacities(self, configured: Iterable[str]) -> None:
        """Refuse a policy that asks for approvals nobody can ever give."""
        known = set(configured)
        unknown = sorted(self.capacities() - known)
        if unknown:
            raise PolicyError(
                [
                    (
                        "requirements",
                        f"approvals as {', '.join(unknown)}, which no one can give: the server's"
                        f" reviewer capacities (MODELYARD_REVIEWER_CAPACITIES) are"
                        f" {', '.join(sorted(known)) or 'none'}",
                    )
                ],
                self.source,
            )

    def tightened(self, override: Override | None) -> Policy:
        """This policy with a namespace's override merged in: the stricter of the two."""
        if override is None:
            return self
        transitions = {
            s: tuple(t for t in targets if t in override.transitions.get(s, targets))
            for s, targets in self.transitions.items()
        }
        requirements = dict(self.requirements)
        for stage, rule in override.requirements.items():
            requirements[stage] = _stricter_stage(self.requirements.get(stage, StageRule()), rule)
        return Policy(
            self.stages, self.initial_stage, self.exclusive, transitions, requirements, self.source
        )

    def to_document(self) -> dict[str, Any]:
        """The policy as YAML/JSON would write it; ``parse_policy`` reads it back unchanged."""
        return {
            "format": FORMAT,
            "stages": {
                s: {"exclusive": True, "previous_holder_to": self.exclusive[s]}
                if s in self.exclusive
                else {}
                for s in self.stages
            },
            "initial_stage": self.initial_stage,
            "transitions": {s: list(self.transitions.get(s, ())) for s in self.stages},
            "requirements": {
                s: self.requirements[s].to_document() for s in self.stages if s in self.requirements
            },
        }


@dataclass(frozen=True)
class Override:
    """A namespace's tightening of the server's policy: fewer transitions, more requirements.
    What it leaves out it inherits; it cannot remove anything."""

    transitions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    requirements: Mapping[str, StageRule] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"format": FORMAT}
        if self.transitions:
            doc["transitions"] = {s: list(t) for s, t in self.transitions.items()}
        if self.requirements:
            doc["requirements"] = {s: r.to_document() for s, r in self.requirements.items()}
        return doc


def unique_checks(checks: Iterable[CheckSpec]) -> tuple[CheckSpec, ...]:
    """One entry per key; a check named twice blocks when unavailable if either says so."""
    merged: dict[str, CheckSpec] = {}
    for c in checks:
        seen = merged.get(c.key)
        if seen is None or c.when_unavailable == "block":
            merged[c.key] = c if seen is None else CheckSpec(c.name, "block", c.op, c.threshold)
    return tuple(merged.values())


def _stricter_stage(base: StageRule, extra: StageRule) -> StageRule:
    risk = dict(base.risk)
    for level, rule in extra.risk.items():
        risk[level] = _stricter_risk(base.risk.get(level, RiskRule()), rule)
    return StageRule(unique_checks((*base.checks, *extra.checks)), risk)


def _stricter_risk(base: RiskRule, extra: RiskRule) -> RiskRule:
    approvals = dict(base.approvals)
    for capacity, count in extra.approvals.items():
        approvals[capacity] = max(count, approvals.get(capacity, 0))
    checks = unique_checks((*base.checks, *extra.checks))
    return RiskRule(base.refuse or extra.refuse, approvals, checks)


# --------------------------------------------------------------------------------- loosening


def loosenings(policy: Policy, override: Override) -> list[tuple[str, str]]:
    """``(key, why)`` for every statement of ``override`` that is weaker than ``policy``."""
    found: list[tuple[str, str]] = []
    for source, targets in override.transitions.items():
        for t in targets:
            if not policy.allows(source, t):
                found.append(
                    (
                        f"transitions.{source}",
                        f"{source} -> {t} is not allowed by the"
                        " server's policy; an override may only remove transitions",
                    )
                )
    for stage, rule in override.requirements.items():
        base = policy.requirements.get(stage, StageRule())
        at = f"requirements.{stage}"
        found += _looser_checks(f"{at}.checks", base.checks, rule.checks)
        for level, r in rule.risk.items():
            found += _looser_risk(f"{at}.risk.{level}", stage, level, base, r)
    return found


def _looser_risk(
    at: str, stage: str, level: str, base_stage: StageRule, rule: RiskRule
) -> list[tuple[str, str]]:
    base = base_stage.risk.get(level, RiskRule())
    if base.refuse and not rule.refuse:
        return [(at, f"the server's policy refuses {stage} at risk {level}")]
    found = [
        (f"{at}.approvals.{c}", f"{n} is fewer than the server's {base.approvals[c]}")
        for c, n in rule.approvals.items()
        if n < base.approvals.get(c, 0)
    ]
    every_level = (*base_stage.checks, *base.checks)
    return found + _looser_checks(f"{at}.checks", every_level, rule.checks)


def _looser_checks(
    at: str, base: Iterable[CheckSpec], extra: Iterable[CheckSpec]
) -> list[tuple[str, str]]:
    found = []
    base = list(base)
    for c in extra:
        for b in base:
            if b.name != c.name:
                continue
            if c.op is None and b.when_unavailable == "block" and c.when_unavailable != "block":
                found.append((at, f"{c.name}: the server's policy blocks when it is not available"))
            elif c.op is not None and _weaker(c, b):
                found.append((at, f"{c.key} is weaker than the server's {b.key}"))
    return found


def _weaker(c: CheckSpec, b: CheckSpec) -> bool:
    """Is threshold ``c`` passed by a value ``b`` refuses (same metric, same direction)?"""
    assert c.threshold is not None
    assert b.threshold is not None
    same = c.threshold == b.threshold
    if {c.op, b.op} <= {">=", ">"}:  # c admits less-or-equal values b refuses
        return c.threshold < b.threshold or (same and c.op == ">=" and b.op == ">")
    if {c.op, b.op} <= {"<=", "<"}:
        return c.threshold > b.threshold or (same and c.op == "<=" and b.op == "<")
    return False


@dataclass(frozen=True)
class NamespacePolicy:
    """A namespace's override (``None``: it has none) and the policy in force there."""

    namespace: str
    override: Override | None
    effective: Policy
    updated_by: str = ""
    updated_at: datetime | None = None


class PolicyLoosensError(InvalidInputError):
    """POLICY_LOOSENS: ``loosens`` lists ``{"key", "message"}`` for each weaker statement."""

    def __init__(self, namespace: str, found: list[tuple[str, str]]) -> None:
        text = "; ".join(f"{k}: {m}" for k, m in found)
        super().__init__(
            "POLICY_LOOSENS",
            f"namespace {namespace}'s policy may only tighten the server's policy: {text}",
            loosens=[{"key": k, "message": m} for k, m in found],
        )
