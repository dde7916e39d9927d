"""The policy document: YAML (format 1) -> ``Policy``, every mistake named by its key.

    parse_policy(text)          the server's policy (MODELYARD_POLICY_FILE, else the built-in one)
    parse_override(text, p)     a namespace's override of ``p``: transitions and requirements only

Errors are one POLICY_INVALID listing ``{"key", "message"}`` per mistake, e.g.
``requirements.production.risk.high.approvals.legal: must be a whole number from 0 to 100``. A
key given twice is a mistake too (YAML would silently keep the last). The format is documented
with the built-in policy in docs/governance.md.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

import yaml  # type: ignore[import-untyped]

from modelyard.domain.lifecycle import RISK_LEVELS
from modelyard.domain.policy import (
    ASSESSED,
    CAPACITY_RE,
    CHECK_NAMES,
    FORMAT,
    METRIC_RE,
    RESERVED_STAGES,
    STAGE_RE,
    WHEN_UNAVAILABLE,
    CheckSpec,
    Override,
    Policy,
    PolicyError,
    RiskRule,
    StageRule,
    unique_checks,
)

# --------------------------------------------------------------------------------- parsing


def load_yaml(text: str, source: str = "") -> Any:
    """YAML text -> plain data; a syntax error or a key given twice is POLICY_INVALID."""

    class _Loader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    def mapping(loader: Any, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise PolicyError([(str(key), f"given twice (line {line})")], source)
            seen[key] = loader.construct_object(value_node, deep=deep)
        return seen

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PolicyError([("", f"not valid YAML: {where}{problem}")], source) from None


def parse_policy(data: str | Mapping[str, Any], source: str = "") -> Policy:
    """A whole policy from YAML text or a mapping; POLICY_INVALID lists every mistake."""
    doc = load_yaml(data, source) if isinstance(data, str) else data
    p = _Problems()
    if not isinstance(doc, Mapping):
        raise PolicyError([("", "a policy is a mapping of format, stages, transitions, …")], source)
    p.keys("", doc, {"format", "stages", "initial_stage", "transitions", "requirements"})
    _format(p, doc)
    stages, exclusive = _stages(p, doc.get("stages"))
    initial = _initial(p, doc.get("initial_stage", "development"), stages, exclusive)
    transitions = _transitions(p, "transitions", doc.get("transitions", {}), stages)
    requirements = _requirements(p, doc.get("requirements", {}), stages)
    p.raise_if_any(source)
    return Policy(
        tuple(stages), initial, exclusive, transitions, requirements, source or "built-in"
    )


def parse_override(data: str | Mapping[str, Any], policy: Policy, source: str = "") -> Override:
    """A namespace's override: only ``transitions`` and ``requirements``, naming the server
    policy's stages. Whether it loosens anything is ``loosenings``'s question."""
    doc = load_yaml(data, source) if isinstance(data, str) else data
    if doc is None:
        doc = {}
    p = _Problems()
    if not isinstance(doc, Mapping):
        raise PolicyError(
            [("", "an override is a mapping of transitions and requirements")], source
        )
    p.keys("", doc, {"format", "transitions", "requirements"})
    _format(p, doc)
    stages = list(policy.stages)
    transitions = _transitions(p, "transitions", doc.get("transitions", {}), stages)
    requirements = _requirements(p, doc.get("requirements", {}), stages, monotonic=False)
    p.raise_if_any(source)
    return Override(transitions, requirements)


def check_merged(policy: Policy, source: str = "") -> None:
    """An override adds to a policy; the sum must still make sense (a riskier model never
    needs less), which neither part alone can show."""
    p = _Problems()
    for stage, rule in policy.requirements.items():
        _monotonic(p, f"requirements.{stage}.risk", rule.risk)
    p.raise_if_any(source)


class _Problems:
    """Collects ``(key, message)`` so that one pass reports every mistake."""

    def __init__(self) -> None:
        self.found: list[tuple[str, str]] = []

    def add(self, key: str, message: str) -> None:
        self.found.append((key, message))

    def keys(self, at: str, doc: Mapping[str, Any], allowed: set[str]) -> None:
        for key in doc:
            if key not in allowed:
                self.add(
                    _join(at, str(key)),
                    f"unknown key; expected one of {', '.join(sorted(allowed))}",
                )

    def raise_if_any(self, source: str) -> None:
        if self.found:
            raise PolicyError(self.found, source)


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _format(p: _Problems, doc: Mapping[str, Any]) -> None:
    if doc.get("format", FORMAT) != FORMAT:
        p.add(
            "format", f"unsupported format {doc.get('format')!r}; this server reads format {FORMAT}"
        )


def _stages(p: _Problems, raw: Any) -> tuple[list[str], dict[str, str]]:
    if not isinstance(raw, Mapping) or not raw:
        p.add(
            "stages",
            "a mapping of stage names, e.g. {development: {}, production: {exclusive: true}}",
        )
        return [], {}
    stages = [str(s) for s in raw]
    for name in stages:
        if not STAGE_RE.match(name) or name in RESERVED_STAGES:
            p.add(
                f"stages.{name}",
                "a stage name is 1-32 lower-case letters, digits, '_' or '-',"
                " starting with a letter (not latest or sha256)",
            )
    exclusive: dict[str, str] = {}
    for name, spec in raw.items():
        at = f"stages.{name}"
        if spec is None:
            continue
        if not isinstance(spec, Mapping):
            p.add(at, "a mapping (exclusive, previous_holder_to) or {}")
            continue
        p.keys(at, spec, {"exclusive", "previous_holder_to"})
        _exclusive(p, at, name, spec, stages, exclusive)
    for name, target in exclusive.items():
        if target in exclusive:
            p.add(
                f"stages.{name}.previous_holder_to",
                f"{target!r} is exclusive itself; the"
                " previous holder must go to a stage that any number of versions may share",
            )
    return stages, exclusive


def _exclusive(
    p: _Problems,
    at: str,
    name: str,
    spec: Mapping[str, Any],
    stages: list[str],
    exclusive: dict[str, str],
) -> None:
    flag = spec.get("exclusive", False)
    if not isinstance(flag, bool):
        p.add(f"{at}.exclusive", "true or false")
        return
    target = spec.get("previous_holder_to")
    if not flag:
        if target is not None:
            p.add(f"{at}.previous_holder_to", "only an exclusive stage has a previous holder")
        return
    target = "archived" if target is None else target
    if target not in stages or target == name:
        p.add(f"{at}.previous_holder_to", f"{target!r} is not another stage of this policy")
        return
    exclusive[name] = str(target)


def _initial(p: _Problems, raw: Any, stages: list[str], exclusive: Mapping[str, str]) -> str:
    if raw not in stages:
        p.add("initial_stage", f"{raw!r} is not a stage of this policy")
    elif raw in exclusive:
        p.add("initial_stage", "new versions cannot start in an exclusive stage")
    return str(raw)


def _transitions(p: _Problems, at: str, raw: Any, stages: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        p.add(at, "a mapping: from-stage -> list of stages a version may move to")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for source, targets in raw.items():
        key = f"{at}.{source}"
        if source not in stages:
            p.add(key, f"{source!r} is not a stage ({', '.join(stages)})")
            continue
        targets = [] if targets is None else targets
        if not isinstance(targets, list):
            p.add(key, "a list of stages")
            continue
        for t in targets:
            if t not in stages:
                p.add(key, f"{t!r} is not a stage ({', '.join(stages)})")
            elif t == source:
                p.add(key, f"a version cannot move from {source} to {source}")
        out[str(source)] = tuple(
            dict.fromkeys(str(t) for t in targets if t in stages and t != source)
        )
    return out


def _requirements(
    p: _Problems, raw: Any, stages: list[str], monotonic: bool = True
) -> dict[str, StageRule]:
    if not isinstance(raw, Mapping):
        p.add("requirements", "a mapping: target stage -> checks and risk levels")
        return {}
    out: dict[str, StageRule] = {}
    for stage, spec in raw.items():
        at = f"requirements.{stage}"
        if stage not in stages:
            p.add(at, f"{stage!r} is not a stage ({', '.join(stages)})")
            continue
        if spec is None:
            out[str(stage)] = StageRule()
            continue
        if not isinstance(spec, Mapping):
            p.add(at, "a mapping of checks and risk")
            continue
        p.keys(at, spec, {"checks", "risk"})
        checks = _checks(p, f"{at}.checks", spec.get("checks", []))
        risk = _risk(p, f"{at}.risk", spec.get("risk", {}), monotonic)
        out[str(stage)] = StageRule(checks, risk)
    return out


def _risk(p: _Problems, at: str, raw: Any, monotonic: bool) -> dict[str, RiskRule]:
    if not isinstance(raw, Mapping):
        p.add(at, f"a mapping of risk levels ({', '.join(RISK_LEVELS)})")
        return {}
    out: dict[str, RiskRule] = {}
    for level, spec in raw.items():
        key = f"{at}.{level}"
        if level not in RISK_LEVELS:
            p.add(key, f"unknown risk level; one of {', '.join(RISK_LEVELS)}")
        elif spec == "refuse":
            out[level] = RiskRule(refuse=True)
        elif spec is None:
            out[level] = RiskRule()
        elif not isinstance(spec, Mapping):
            p.add(key, "'refuse', or a mapping of approvals and checks")
        else:
            p.keys(key, spec, {"approvals", "checks"})
            approvals = _approvals(p, f"{key}.approvals", spec.get("approvals", {}))
            out[level] = RiskRule(
                False, approvals, _checks(p, f"{key}.checks", spec.get("checks", []))
            )
    if monotonic:
        _monotonic(p, at, out)
    return out


def _approvals(p: _Problems, at: str, raw: Any) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        p.add(at, "a mapping of reviewer capacity -> number of approvals, e.g. {technical: 1}")
        return {}
    out: dict[str, int] = {}
    for capacity, count in raw.items():
        key = f"{at}.{capacity}"
        if not isinstance(capacity, str) or not CAPACITY_RE.match(capacity):
            p.add(key, "a capacity name is lower-case letters, digits, '_' or '-'")
        elif isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100:
            p.add(key, "must be a whole number from 0 to 100")
        else:
            out[capacity] = count
    return out


def _monotonic(p: _Problems, at: str, risk: Mapping[str, RiskRule]) -> None:
    """A riskier model never needs less: approvals and refusal only grow from low to high."""
    for lower, higher in itertools.pairwise(ASSESSED):
        lo, hi = risk.get(lower, RiskRule()), risk.get(higher, RiskRule())
        if lo.refuse and not hi.refuse:
            p.add(
                f"{at}.{higher}",
                f"refused at {lower} but not at {higher}: a riskier model never needs less",
            )
        if hi.refuse:
            continue
        fewer = sorted(c for c, n in lo.approvals.items() if hi.approvals.get(c, 0) < n)
        if fewer:
            p.add(
                f"{at}.{higher}.approvals",
                f"fewer {', '.join(fewer)} approvals than at"
                f" {lower}: a riskier model never needs less",
            )


def _checks(p: _Problems, at: str, raw: Any) -> tuple[CheckSpec, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(at, "a list of checks")
        return ()
    out = [c for i, item in enumerate(raw) if (c := _check(p, f"{at}[{i}]", item)) is not None]
    return unique_checks(out)


def _check(p: _Problems, at: str, item: Any) -> CheckSpec | None:
    when = "block"
    if isinstance(item, Mapping):
        p.keys(at, item, {"check", "when_unavailable"})
        when = item.get("when_unavailable", "block")
        if when not in WHEN_UNAVAILABLE:
            p.add(f"{at}.when_unavailable", "block or allow")
            return None
        item = item.get("check")
    if not isinstance(item, str):
        p.add(at, "a check name, or {check: NAME, when_unavailable: block|allow}")
        return None
    return _parse_check(p, at, item.strip(), when)


def _parse_check(p: _Problems, at: str, text: str, when: str = "block") -> CheckSpec | None:
    if text in CHECK_NAMES:
        return CheckSpec(text, when)
    m = METRIC_RE.match(text)
    if m is None:
        p.add(
            at,
            f"unknown check {text!r}; one of {', '.join(CHECK_NAMES)}, or a metric"
            " threshold such as 'metrics.auc >= 0.8'",
        )
        return None
    try:
        value = float(m["value"])
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        p.add(at, f"{m['value']!r} is not a finite number")
        return None
    return CheckSpec(f"metrics.{m['name']}", when, m["op"], value)


# --------------------------------------------------------------------------------- default

DEFAULT_POLICY_YAML = """\
# Modelyard's built-in policy (format 1). docs/governance.md explains every key.
format: 1
stages:
  development: {}
  staging: {}
  production:
    exclusive: true                # at most one version per model, enforced by the database
    previous_holder_to: archived   # where the version it replaces goes (the rollback target)
  archived: {}
initial_stage: development
transitions:
  development: [staging, production, archived]
  staging: [development, production, archived]
  production: [staging, archived]
  archived: [development, staging, production]   # archived -> production: rollback
requirements:
  staging:
    risk:
      high:
        approvals: {technical: 1}
  production:
    checks:
      - model_card_present
      - ingredients_complete
      - datasets_not_revoked
      # No scanning or signing subsystem yet: these report "not available", which does not
      # block. Write `when_unavailable: block` to refuse production until they exist.
      - {check: scan_clean, when_unavailable: allow}
      - {check: no_known_vulnerabilities, when_unavailable: allow}
      - {check: signed, when_unavailable: allow}
    risk:
      unassessed: refuse           # assess the risk first: modelyard risk set NAME LEVEL
      low:
        approvals: {technical: 1}
      medium:
        approvals: {technical: 1, business: 1}
      high:
        approvals: {technical: 1, business: 1, legal: 1}
"""


def default_policy() -> Policy:
    return parse_policy(DEFAULT_POLICY_YAML, "built-in")


def dump_yaml(document: Mapping[str, Any]) -> str:
    """A policy or override document as YAML, keys in the document's order."""
    return str(yaml.safe_dump(dict(document), sort_keys=False, default_flow_style=None))
