"""/api/v1/namespaces. Members, capacities and visibility are in ``routes/teams.py``."""

from __future__ import annotations

from fastapi import APIRouter, Query

from modelyard.api.access import Caller, CanManage, CanOwn, CanRead, check_can_create_namespace
from modelyard.api.deps import Actor, Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.schemas import NamespaceCreate, NamespaceOut, NamespaceUpdate, PageOut
from modelyard.domain import access
from modelyard.services import namespaces as svc

router = APIRouter(prefix="/api/v1/namespaces", tags=["namespaces"], responses=ERROR_RESPONSES)


@router.post("", status_code=201)
async def create_namespace(body: NamespaceCreate, db: Db, who: Caller) -> NamespaceOut:
    """Create a namespace (a team); its creator becomes its first admin."""
    check_can_create_namespace(who)
    ns = await run(
        db,
        svc.create_namespace,
        db,
        who.name,
        body.name,
        body.description,
        body.visibility,
        owner=who.user_id,
    )
    return NamespaceOut.of(ns)


@router.get("")
async def list_namespaces(
    db: Db,
    who: Caller,
    page_size: int | None = None,
    page_token: str | None = Query(None, max_length=4096),
) -> PageOut[NamespaceOut]:
    """The namespaces the caller may read."""
    page = await run(db, svc.list_namespaces, db, page_size, page_token, access.readable(who))
    return PageOut(
        items=[NamespaceOut.of(n) for n in page.items], next_page_token=page.next_page_token
    )


@router.get("/{namespace}", dependencies=[CanRead])
async def get_namespace(namespace: str, db: Db) -> NamespaceOut:
    return NamespaceOut.of(await run(db, svc.get_namespace, db, namespace))


@router.patch("/{namespace}", dependencies=[CanManage])
async def update_namespace(
    namespace: str, body: NamespaceUpdate, db: Db, actor: Actor
) -> NamespaceOut:
    return NamespaceOut.of(
        await run(db, svc.update_namespace, db, actor, namespace, body.description)
    )


@router.post("/{namespace}/archive", dependencies=[CanOwn])
async def archive_namespace(namespace: str, db: Db, actor: Actor) -> NamespaceOut:
    return NamespaceOut.of(await run(db, svc.archive_namespace, db, actor, namespace))
