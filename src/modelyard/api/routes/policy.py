"""/api/v1/policy: the policy this server enforces (MODELYARD_POLICY_FILE or the built-in one);
/api/v1/namespaces/{ns}/policy: a namespace's tightening of it (maintainers set it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from modelyard.api.access import CanManage, CanRead, SignedIn
from modelyard.api.deps import Actor, Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.governance_schemas import NamespacePolicyIn, NamespacePolicyOut
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.policy import Policy
from modelyard.services import policies

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


@router.get("/namespaces/{namespace}/policy", dependencies=[CanRead])
async def get_namespace_policy(namespace: str, db: Db, policy: ServerPolicy) -> NamespacePolicyOut:
    """The namespace's override (what it adds) and the policy in force there."""
    found = await run(db, policies.get_namespace_policy, db, policy, namespace)
    return NamespacePolicyOut.of(found)


@router.put("/namespaces/{namespace}/policy", dependencies=[CanManage])
async def set_namespace_policy(
    namespace: str, body: NamespacePolicyIn, db: Db, actor: Actor, policy: ServerPolicy
) -> NamespacePolicyOut:
    """Tighten the server's policy in this namespace (maintainers). An override that would
    loosen it is refused (400 POLICY_LOOSENS, naming what loosens)."""
    if (body.policy is None) == (body.yaml is None):
        raise InvalidInputError("VALIDATION_FAILED", "give the override as policy or as yaml")
    document = body.yaml if body.yaml is not None else body.policy
    assert document is not None
    found = await run(db, policies.set_namespace_policy, db, actor, policy, namespace, document)
    return NamespacePolicyOut.of(found)


@router.delete("/namespaces/{namespace}/policy", dependencies=[CanManage])
async def remove_namespace_policy(
    namespace: str, db: Db, actor: Actor, policy: ServerPolicy
) -> NamespacePolicyOut:
    """Drop the namespace's override: the server's policy applies there again."""
    found = await run(db, policies.remove_namespace_policy, db, actor, policy, namespace)
    return NamespacePolicyOut.of(found)
