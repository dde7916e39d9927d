"""Wire schemas of governance: transitions, votes, rollback, comments, namespace policies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from modelyard.api.schemas import Text, _In
from modelyard.domain.comments import MAX_COMMENT, Comment
from modelyard.domain.policy import NamespacePolicy
from modelyard.domain.transitions import MAX_REASON, Transition

Reason = Annotated[Text, Field(max_length=MAX_REASON, examples=["passed the Q3 backtest"])]


class TransitionCreate(_In):
    reference: Text = Field(
        max_length=300, description="namespace/name@REF", examples=["risk-team/fraud@3"]
    )
    stage: Text = Field(max_length=32, examples=["production"])
    reason: Reason


class VoteCreate(_In):
    decision: Literal["approve", "reject"]
    comment: Reason
    capacity: Text | None = Field(
        default=None,
        max_length=32,
        description="The reviewer capacity voted in; may be left out when only one fits.",
        examples=["legal"],
    )


class CancelIn(_In):
    reason: Reason


class RollbackIn(_In):
    reason: Reason
    stage: Text | None = Field(
        default=None, max_length=32, description="The exclusive stage (default: the only one)."
    )


class ApprovalOut(BaseModel):
    capacity: str
    needed: int
    given: list[str]
    missing: int


class CheckOutcomeOut(BaseModel):
    check: str
    status: str = Field(description="passed, failed or not_available")
    blocking: bool
    message: str
    details: dict[str, Any]


class VoteOut(BaseModel):
    voter: str
    capacity: str
    decision: str
    comment: str
    risk_level: str
    manifest_digest: str | None
    cast_at: datetime
    counts: bool = Field(description="False once a raised risk level superseded it")
    superseded_at: datetime | None


class TransitionOut(BaseModel):
    id: int
    namespace: str
    name: str
    version: int
    reference: str
    kind: str = Field(description="promotion or rollback")
    from_stage: str
    to_stage: str
    status: str = Field(description="pending, applied, rejected, cancelled or expired")
    reason: str
    risk_level: str
    manifest_digest: str | None
    requested_by: str
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    closed_by: str
    close_reason: str
    replaced_version: int | None = Field(
        description="The version it moved out of an exclusive stage (the rollback target)"
    )
    approvals: list[ApprovalOut]
    checks: list[CheckOutcomeOut]
    votes: list[VoteOut]
    waiting_for: list[str]

    @classmethod
    def of(cls, t: Transition) -> TransitionOut:
        data = {k: v for k, v in t.__dict__.items() if k not in ("approvals", "checks", "votes")}
        return cls(
            **data,
            reference=t.reference,
            waiting_for=t.waiting_for,
            approvals=[
                ApprovalOut(capacity=a.capacity, needed=a.needed, given=list(a.given),
                            missing=a.missing)
                for a in t.approvals
            ],
            checks=[CheckOutcomeOut(**c.to_dict()) for c in t.checks],
            votes=[VoteOut(counts=v.counts, **v.__dict__) for v in t.votes],
        )  # fmt: skip


class CommentCreate(_In):
    body: Annotated[Text, Field(max_length=MAX_COMMENT, examples=["Backtest looks solid."])]


class CommentOut(BaseModel):
    id: str
    namespace: str
    name: str
    version: int | None
    target: str
    author: str
    body: str
    created_at: datetime

    @classmethod
    def of(cls, c: Comment) -> CommentOut:
        return cls(target=c.target, **c.__dict__)


class NamespacePolicyIn(_In):
    policy: dict[str, Any] | None = Field(
        default=None,
        description="The override as JSON (transitions, requirements)",
        examples=[
            {"requirements": {"production": {"risk": {"low": {"approvals": {"business": 1}}}}}}
        ],
    )
    yaml: Text | None = Field(default=None, max_length=100_000, description="…or as YAML text")


class NamespacePolicyOut(BaseModel):
    namespace: str
    override: dict[str, Any] | None = Field(description="What the namespace adds (None: nothing)")
    effective: dict[str, Any] = Field(description="The policy in force in the namespace")
    updated_by: str
    updated_at: datetime | None

    @classmethod
    def of(cls, p: NamespacePolicy) -> NamespacePolicyOut:
        return cls(
            namespace=p.namespace,
            override=p.override.to_document() if p.override else None,
            effective=p.effective.to_document(),
            updated_by=p.updated_by,
            updated_at=p.updated_at,
        )
