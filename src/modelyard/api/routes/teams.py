"""/api/v1/namespaces/{namespace}/members, capacities and visibility; /api/v1/capacities.

Maintainers add and change members up to maintainer; only a namespace's admins (or global
admins) touch admins, reviewer capacities and visibility.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from modelyard.api.access import Caller, CanManage, CanOwn, CanRead, SignedIn, authorize
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.identity_schemas import CapacitiesOut, MemberIn, MemberOut, VisibilityIn
from modelyard.api.schemas import NamespaceOut
from modelyard.domain import access
from modelyard.domain.access import Role, parse_role
from modelyard.services import teams as svc
from modelyard.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["namespaces"], responses=ERROR_RESPONSES)
BASE = "/namespaces/{namespace}"


@router.get("/capacities", dependencies=[SignedIn])
async def list_capacities(request: Request) -> CapacitiesOut:
    """The reviewer capacities this server defines (MODELYARD_REVIEWER_CAPACITIES)."""
    settings: Settings = request.app.state.settings
    return CapacitiesOut(capacities=list(settings.capacities))


@router.get(BASE + "/members", dependencies=[CanRead])
async def list_members(namespace: str, db: Db) -> list[MemberOut]:
    return [MemberOut.of(m) for m in await run(db, svc.list_members, db, namespace)]


@router.put(BASE + "/members/{user}", dependencies=[CanManage])
async def set_member(
    namespace: str, user: str, body: MemberIn, request: Request, db: Db, who: Caller
) -> MemberOut:
    """Add a member or change their role. Granting or taking ``admin`` needs the admin role."""
    role = parse_role(body.role)
    if role is Role.ADMIN or await _is_admin_member(db, namespace, user):
        await authorize(request, db, who, access.OWN, namespace)
    return MemberOut.of(await run(db, svc.set_member, db, who.name, namespace, user, role))


@router.delete(BASE + "/members/{user}", status_code=204, dependencies=[CanManage])
async def remove_member(
    namespace: str, user: str, request: Request, db: Db, who: Caller
) -> Response:
    if await _is_admin_member(db, namespace, user):
        await authorize(request, db, who, access.OWN, namespace)
    await run(db, svc.remove_member, db, namespace, user)
    return Response(status_code=204)


async def _is_admin_member(db: Db, namespace: str, user: str) -> bool:
    member = await run(db, svc.get_member, db, namespace, user)
    return member is not None and member.role == Role.ADMIN.label


@router.put(BASE + "/members/{user}/capacities/{capacity}", dependencies=[CanOwn])
async def grant_capacity(
    namespace: str, user: str, capacity: str, request: Request, db: Db, who: Caller
) -> MemberOut:
    """Let a member review as ``capacity`` (technical, business, legal, …) here. Service
    accounts cannot hold capacities."""
    settings: Settings = request.app.state.settings
    member = await run(
        db, svc.grant_capacity, db, who.name, namespace, user, capacity, settings.capacities
    )
    return MemberOut.of(member)


@router.delete(BASE + "/members/{user}/capacities/{capacity}", dependencies=[CanOwn])
async def revoke_capacity(namespace: str, user: str, capacity: str, db: Db) -> MemberOut:
    return MemberOut.of(await run(db, svc.revoke_capacity, db, namespace, user, capacity))


@router.put(BASE + "/visibility", dependencies=[CanOwn])
async def set_visibility(namespace: str, body: VisibilityIn, db: Db) -> NamespaceOut:
    """``private``: members only. ``internal``: every signed-in user may read it."""
    return NamespaceOut.of(await run(db, svc.set_visibility, db, namespace, body.visibility))
