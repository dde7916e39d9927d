"""/api/v1/models/{ns}/{name}/versions, /api/v1/versions (search) and /api/v1/resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from modelyard.api.access import (
    ASSUMED_GENERATION,
    Caller,
    CanManage,
    CanRead,
    CanReadReference,
    CanWrite,
    authorize,
)
from modelyard.api.deps import Actor, Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.responses import as_json
from modelyard.api.routes.models import FilterQ, Key, OrderQ, TextQ, TokenQ
from modelyard.api.schemas import PageOut, TagValue, VersionCreate, VersionOut, VersionUpdate
from modelyard.domain import access
from modelyard.domain.access import Principal
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.lineage import Upstream
from modelyard.domain.names import NAME_RE
from modelyard.domain.records import Page, Version
from modelyard.domain.references import parse_reference
from modelyard.services import models, references, search, versions

router = APIRouter(prefix="/api/v1", tags=["versions"], responses=ERROR_RESPONSES)

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number")]
BASE = "/models/{namespace}/{name}/versions"


@router.post(BASE, status_code=201, dependencies=[CanWrite], response_model=VersionOut)
async def create_version(
    namespace: str, name: str, body: VersionCreate, request: Request, db: Db, who: Caller
) -> Response:
    await _may_read_upstream(request, db, who, body)
    actor = who.name
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
        stage=request.app.state.policy.initial_stage,
        access_generation=request.scope.get("state", {}).get(ASSUMED_GENERATION),
    )
    return as_json(VersionOut.of(v), 201)


async def _may_read_upstream(request: Request, db: Db, who: Principal, body: VersionCreate) -> None:
    """A version may only name, as its sources and training data, what its author may read;
    anything else is as missing to them as it is in every other answer."""
    for text in (*body.derived_from, *body.depends_on):
        try:
            ref = parse_reference(text)
        except InvalidInputError:
            continue  # the service answers REFERENCE_INVALID
        await authorize(request, db, who, access.READ, ref.namespace, ref.name)
    datasets = body.ingredients.data if body.ingredients and body.ingredients.data else []
    for data in datasets:
        namespace = (data.dataset or "").partition("/")[0]
        if NAME_RE.match(namespace):
            await authorize(request, db, who, access.READ, namespace)


def _page(page: Page[Version]) -> Response:
    items = [VersionOut.of(v) for v in page.items]
    return as_json(PageOut[VersionOut](items=items, next_page_token=page.next_page_token))


def _upstream(body: VersionCreate) -> Upstream | None:
    if not (body.derived_from or body.depends_on):
        return None
    return Upstream(tuple(body.derived_from), tuple(body.depends_on))


@router.get(BASE, dependencies=[CanRead], response_model=PageOut[VersionOut])
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
) -> Response:
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
    return _page(page)


@router.get(BASE + "/{version}", dependencies=[CanRead], response_model=VersionOut)
async def get_version(namespace: str, name: str, version: Number, db: Db) -> Response:
    return as_json(VersionOut.of(await run(db, versions.get_version, db, namespace, name, version)))


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


@router.get("/versions", response_model=PageOut[VersionOut])
async def search_versions(
    db: Db,
    who: Caller,
    filter: FilterQ = None,
    q: TextQ = None,
    order_by: OrderQ = None,
    page_size: int | None = None,
    page_token: TokenQ = None,
    include_archived: bool = False,
) -> Response:
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
    return _page(page)


@router.get("/resolve", dependencies=[CanReadReference], response_model=VersionOut)
async def resolve(
    db: Db,
    ref: Annotated[
        str,
        Query(
            max_length=300, description="namespace/name@REF", examples=["risk-team/fraud@champion"]
        ),
    ],
) -> Response:
    return as_json(VersionOut.of(await run(db, references.resolve, db, ref)))
