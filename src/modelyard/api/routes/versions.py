"""/api/v1/models/{ns}/{name}/versions, /api/v1/versions (search) and /api/v1/resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from modelyard.api.access import (
    Caller,
    CanManage,
    CanRead,
    CanReadReference,
    CanWrite,
)
from modelyard.api.deps import Actor, Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.routes.models import FilterQ, Key, OrderQ, TextQ, TokenQ
from modelyard.api.schemas import PageOut, TagValue, VersionCreate, VersionOut, VersionUpdate
from modelyard.domain import access
from modelyard.domain.lineage import Upstream
from modelyard.services import models, references, search, versions

router = APIRouter(prefix="/api/v1", tags=["versions"], responses=ERROR_RESPONSES)

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number")]
BASE = "/models/{namespace}/{name}/versions"


@router.post(BASE, status_code=201, dependencies=[CanWrite])
async def create_version(
    namespace: str, name: str, body: VersionCreate, db: Db, actor: Actor
) -> VersionOut:
    v = await run(
        db,
        versions.create_version,
        db,
        actor,
        namespace,
        name,
        body.description,
        body.tags,
        body.metrics,
        manifest=body.manifest.to_manifest() if body.manifest is not None else None,
        metric_details=[m.model_dump() for m in body.metric_details],
        ingredients=body.ingredients.to_domain() if body.ingredients is not None else None,
        upstream=_upstream(body),
        card=body.card,
    )
    return VersionOut.of(v)


def _upstream(body: VersionCreate) -> Upstream | None:
    if not (body.derived_from or body.depends_on):
        return None
    return Upstream(tuple(body.derived_from), tuple(body.depends_on))


@router.get(BASE, dependencies=[CanRead])
async def list_versions(
    namespace: str,
    name: str,
    db: Db,
    filter: FilterQ = None,
    q: TextQ = None,
    order_by: OrderQ = None,
    page_size: int | None = None,
    page_token: TokenQ = None,
    include_archived: bool = False,
) -> PageOut[VersionOut]:
    await run(
        db, models.get_model, db, namespace, name
    )  # MODEL_NOT_FOUND rather than an empty page
    page = await run(
        db,
        search.search_versions,
        db,
        filter,
        q,
        order_by or "version DESC",
        page_size,
        page_token,
        include_archived,
        model=(namespace, name),
    )
    return PageOut(
        items=[VersionOut.of(v) for v in page.items], next_page_token=page.next_page_token
    )


@router.get(BASE + "/{version}", dependencies=[CanRead])
async def get_version(namespace: str, name: str, version: Number, db: Db) -> VersionOut:
    return VersionOut.of(await run(db, versions.get_version, db, namespace, name, version))


@router.patch(BASE + "/{version}", dependencies=[CanWrite])
async def update_version(
    namespace: str, name: str, version: Number, body: VersionUpdate, db: Db, actor: Actor
) -> VersionOut:
    v = await run(
        db,
        versions.update_version,
        db,
        actor,
        namespace,
        name,
        version,
        body.description,
        body.metrics,
        [m.model_dump() for m in body.metric_details],
    )
    return VersionOut.of(v)


@router.post(BASE + "/{version}/archive", dependencies=[CanManage])
async def archive_version(
    namespace: str, name: str, version: Number, db: Db, actor: Actor
) -> VersionOut:
    return VersionOut.of(
        await run(db, versions.archive_version, db, actor, namespace, name, version)
    )


@router.put(BASE + "/{version}/tags/{key:path}", dependencies=[CanWrite])
async def set_version_tag(
    namespace: str, name: str, version: Number, key: Key, body: TagValue, db: Db, actor: Actor
) -> VersionOut:
    v = await run(
        db, versions.set_version_tag, db, actor, namespace, name, version, key, body.value
    )
    return VersionOut.of(v)


@router.delete(BASE + "/{version}/tags/{key:path}", dependencies=[CanWrite])
async def remove_version_tag(
    namespace: str, name: str, version: Number, key: Key, db: Db, actor: Actor
) -> VersionOut:
    return VersionOut.of(
        await run(db, versions.remove_version_tag, db, actor, namespace, name, version, key)
    )


@router.get("/versions")
async def search_versions(
    db: Db,
    who: Caller,
    filter: FilterQ = None,
    q: TextQ = None,
    order_by: OrderQ = None,
    page_size: int | None = None,
    page_token: TokenQ = None,
    include_archived: bool = False,
) -> PageOut[VersionOut]:
    """Versions across every model the caller may read."""
    page = await run(
        db,
        search.search_versions,
        db,
        filter,
        q,
        order_by,
        page_size,
        page_token,
        include_archived,
        readable=access.readable(who),
    )
    return PageOut(
        items=[VersionOut.of(v) for v in page.items], next_page_token=page.next_page_token
    )


@router.get("/resolve", dependencies=[CanReadReference])
async def resolve(
    db: Db,
    ref: Annotated[
        str,
        Query(
            max_length=300, description="namespace/name@REF", examples=["risk-team/fraud@champion"]
        ),
    ],
) -> VersionOut:
    return VersionOut.of(await run(db, references.resolve, db, ref))
