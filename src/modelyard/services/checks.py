"""Run a policy's checks on a version, in the caller's transaction.

Each named check is answered by the subsystem that owns the facts: the model card
(``services/cards.py``), the ingredients (``services/provenance.py``), revoked training data
(``services/lineage.py``); metric thresholds read the version's metrics. ``scan_clean``,
``no_known_vulnerabilities`` and ``signed`` have no subsystem yet: they answer "not available",
never "passed" (fail closed), and the policy says whether that blocks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping

from sqlalchemy.orm import Session

from modelyard.domain.checks import CheckResult
from modelyard.domain.policy import CheckSpec
from modelyard.domain.transitions import CheckOutcome
from modelyard.services.cards import card_check
from modelyard.services.lineage import revoked_check
from modelyard.services.provenance import ingredients_check

Named = Callable[[Session, uuid.UUID], CheckResult]


def _not_available(name: str, why: str) -> Named:
    def check(s: Session, version_id: uuid.UUID) -> CheckResult:
        return CheckResult(name, False, f"not available: {why}", available=False)

    return check


NAMED: dict[str, Named] = {
    "model_card_present": card_check,
    "ingredients_complete": ingredients_check,
    "datasets_not_revoked": revoked_check,
    "scan_clean": _not_available("scan_clean", "this server does not scan model files yet"),
    "no_known_vulnerabilities": _not_available(
        "no_known_vulnerabilities", "this server has no vulnerability database yet"
    ),
    "signed": _not_available("signed", "this server does not verify signatures yet"),
}


def run(
    s: Session, version_id: uuid.UUID, metrics: Mapping[str, float], specs: Iterable[CheckSpec]
) -> list[CheckOutcome]:
    """Each check's outcome, in the policy's order."""
    return [CheckOutcome.of(spec, _result(s, version_id, metrics, spec)) for spec in specs]


def _result(
    s: Session, version_id: uuid.UUID, metrics: Mapping[str, float], spec: CheckSpec
) -> CheckResult:
    if spec.metric is None:
        return NAMED[spec.name](s, version_id)
    value = metrics.get(spec.metric)
    if value is None:
        return CheckResult(spec.key, False, f"the version has no metric {spec.metric!r}")
    ok = spec.metric_passes(value)
    verdict = "meets" if ok else "does not meet"
    message = f"{spec.metric} = {value:g} {verdict} {spec.key}"
    return CheckResult(spec.key, ok, message, {"metric": spec.metric, "value": value})
