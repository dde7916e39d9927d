"""The result of one policy check on one version (``ingredients_complete``,
``datasets_not_revoked``, ``model_card_present``…). Pure data: the governance policy decides
what a failure blocks.

``available`` is false when the subsystem that would answer does not exist yet (scanning,
signing): such a result never passes, and the policy says whether it blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    available: bool = True
