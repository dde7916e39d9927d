"""Transitions, votes and what they still wait for: records and pure rules.

    request ──> pending ──(last requirement holds)──> applied
                   ├──(a rejection)──────────────────> rejected
                   ├──(cancel; the version moved)────> cancelled
                   └──(expires_at passes)────────────> expired

A pending request waits for ``approvals`` (per reviewer capacity, a number of approving votes)
and for its ``checks`` (none may block). A vote counts while it is not superseded (a raised risk
level supersedes every vote cast before it) and was cast on the version's manifest digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelyard.domain.checks import CheckResult
from modelyard.domain.lifecycle import RISK_LEVELS
from modelyard.domain.policy import CheckSpec

STATUSES: tuple[str, ...] = ("pending", "applied", "rejected", "cancelled", "expired")
DECISIONS: tuple[str, ...] = ("approve", "reject")
KINDS: tuple[str, ...] = ("promotion", "rollback")
MAX_REASON = 10_000


def risk_rank(level: str) -> int:
    return RISK_LEVELS.index(level)


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result for one transition: ``passed``, ``failed`` or ``not_available``;
    ``blocking`` says whether it stops the transition (a failure always does; "not available"
    when the policy says ``when_unavailable: block``)."""

    check: str
    status: str
    blocking: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, spec: CheckSpec, result: CheckResult) -> CheckOutcome:
        status = "not_available" if not result.available else "failed"
        status = "passed" if result.passed else status
        blocking = status == "failed" or (
            status == "not_available" and spec.when_unavailable == "block"
        )
        return cls(spec.key, status, blocking, result.message, dict(result.details))

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "blocking": self.blocking,
            "message": self.message,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckOutcome:
        return cls(
            data["check"],
            data["status"],
            data["blocking"],
            data["message"],
            dict(data.get("details") or {}),
        )


@dataclass(frozen=True)
class Vote:
    voter: str
    capacity: str
    decision: str
    comment: str
    risk_level: str
    manifest_digest: str | None
    cast_at: datetime
    superseded_at: datetime | None = None

    @property
    def counts(self) -> bool:
        return self.superseded_at is None


@dataclass(frozen=True)
class ApprovalNeed:
    """How many approvals as ``capacity`` the request needs, and who gave them."""

    capacity: str
    needed: int
    given: tuple[str, ...]

    @property
    def missing(self) -> int:
        return max(0, self.needed - len(self.given))


def tally(
    approvals: Mapping[str, int], votes: Iterable[Vote], manifest_digest: str | None
) -> list[ApprovalNeed]:
    """Each required capacity with the approving votes that count toward it: not superseded,
    and cast on this manifest digest (a vote binds to the content it judged)."""
    counted = [
        v
        for v in votes
        if v.counts and v.decision == "approve" and v.manifest_digest == manifest_digest
    ]
    return [
        ApprovalNeed(c, n, tuple(v.voter for v in counted if v.capacity == c))
        for c, n in sorted(approvals.items())
        if n > 0
    ]


@dataclass(frozen=True)
class Transition:
    id: int
    namespace: str
    name: str
    version: int
    kind: str
    from_stage: str
    to_stage: str
    status: str
    reason: str
    risk_level: str
    manifest_digest: str | None
    requested_by: str
    created_at: datetime
    expires_at: datetime
    approvals: list[ApprovalNeed]
    checks: list[CheckOutcome]
    votes: list[Vote]
    refused: bool = False
    closed_at: datetime | None = None
    closed_by: str = ""
    close_reason: str = ""
    replaced_version: int | None = None

    @property
    def reference(self) -> str:
        return f"{self.namespace}/{self.name}@{self.version}"

    @property
    def model(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def waiting_for(self) -> list[str]:
        """What a pending request still needs, in words (empty once nothing does)."""
        if self.status != "pending":
            return []
        needs = [f"{a.missing} {a.capacity} approval(s)" for a in self.approvals if a.missing]
        needs += [f"check {c.check} ({c.status})" for c in self.checks if c.blocking]
        return needs
