"""/api/v1/policy: the policy this server enforces (MODELYARD_POLICY_FILE or the built-in one)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from modelyard.api.access import SignedIn
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.domain.policy import Policy

router = APIRouter(prefix="/api/v1", tags=["governance"], responses=ERROR_RESPONSES)


async def get_policy(request: Request) -> Policy:
    policy: Policy = request.app.state.policy
    return policy


ServerPolicy = Annotated[Policy, Depends(get_policy)]


class PolicyOut(BaseModel):
    source: str = Field(description="The policy file, or 'built-in'")
    policy: dict[str, Any] = Field(description="The policy document (docs/governance.md)")


@router.get("/policy", dependencies=[SignedIn])
async def get_server_policy(policy: ServerPolicy) -> PolicyOut:
    """The server's policy: stages, transitions, exclusive stages and requirements."""
    return PolicyOut(source=policy.source, policy=policy.to_document())
