"""/api/v1/models: models, their tags, aliases and risk level; search over models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from modelyard.api.access import Caller, CanManage, CanRead, CanWrite, authorize
from modelyard.api.deps import Actor, Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.responses import as_json
from modelyard.api.schemas import (
    AliasTarget,
    ModelCreate,
    ModelOut,
    ModelUpdate,
    PageOut,
    RiskUpdate,
    TagValue,
)
from modelyard.domain import access
from modelyard.domain.names import check_name
from modelyard.services import aliases, models, search

router = APIRouter(prefix="/api/v1/models", tags=["models"], responses=ERROR_RESPONSES)

FilterQ = Annotated[
    str | None,
    Query(max_length=4000, description="Filter, e.g. `risk = 'high' AND tags.team = 'fraud'`"),
]
TextQ = Annotated[
    str | None, Query(max_length=1000, description="Free text over names, descriptions, tags")
]
OrderQ = Annotated[str | None, Query(max_length=200, description="e.g. `updated_at DESC, name`")]
TokenQ = Annotated[str | None, Query(max_length=4096)]
Key = Annotated[str, Path(max_length=200)]


@router.post("", status_code=201, response_model=ModelOut)
async def create_model(body: ModelCreate, request: Request, db: Db, who: Caller) -> Response:
    check_name("namespace", body.namespace)  # bad names are NAME_INVALID, before any look-up
    check_name("model", body.name)
    await authorize(request, db, who, access.WRITE, body.namespace, body.name, creating=True)
    m = await run(
        db,
        models.create_model,
        db,
        who.name,
        body.namespace,
        body.name,
        body.description,
        body.tags,
    )
    return as_json(ModelOut.of(m), 201)


@router.get("", response_model=PageOut[ModelOut])
async def search_models(
    db: Db,
    who: Caller,
    filter: FilterQ = None,
    q: TextQ = None,
    order_by: OrderQ = None,
    page_size: int | None = None,
    page_token: TokenQ = None,
    include_archived: bool = False,
) -> Response:
    page = await run(
        db,
        search.search_models,
        db,
        filter,
        q,
        order_by,
        page_size,
        page_token,
        include_archived,
        access.readable(who),
    )
    items = [ModelOut.of(m) for m in page.items]
    return as_json(PageOut[ModelOut](items=items, next_page_token=page.next_page_token))


@router.get("/{namespace}/{name}", dependencies=[CanRead], response_model=ModelOut)
async def get_model(namespace: str, name: str, db: Db) -> Response:
    return as_json(ModelOut.of(await run(db, models.get_model, db, namespace, name)))


@router.patch("/{namespace}/{name}", dependencies=[CanWrite])
async def update_model(
    namespace: str, name: str, body: ModelUpdate, db: Db, actor: Actor
) -> ModelOut:
    return ModelOut.of(
        await run(db, models.update_model, db, actor, namespace, name, body.description)
    )


@router.post("/{namespace}/{name}/archive", dependencies=[CanManage])
async def archive_model(namespace: str, name: str, db: Db, actor: Actor) -> ModelOut:
    return ModelOut.of(await run(db, models.archive_model, db, actor, namespace, name))


@router.put("/{namespace}/{name}/risk", dependencies=[CanManage])
async def set_risk(
    namespace: str, name: str, body: RiskUpdate, request: Request, db: Db, actor: Actor
) -> ModelOut:
    """Set the risk level with a reason (maintainers). Pending transition requests of the model
    are worked out again: a raised level supersedes the votes cast before it."""
    policy = request.app.state.policy
    return ModelOut.of(
        await run(db, models.set_risk, db, actor, namespace, name, body.level, body.reason, policy)
    )


@router.put("/{namespace}/{name}/tags/{key:path}", dependencies=[CanWrite])
async def set_tag(
    namespace: str, name: str, key: Key, body: TagValue, db: Db, actor: Actor
) -> ModelOut:
    return ModelOut.of(
        await run(db, models.set_model_tag, db, actor, namespace, name, key, body.value)
    )


@router.delete("/{namespace}/{name}/tags/{key:path}", dependencies=[CanWrite])
async def remove_tag(namespace: str, name: str, key: Key, db: Db, actor: Actor) -> ModelOut:
    return ModelOut.of(await run(db, models.remove_model_tag, db, actor, namespace, name, key))


@router.put("/{namespace}/{name}/aliases/{alias}", dependencies=[CanWrite])
async def set_alias(
    namespace: str,
    name: str,
    alias: Key,
    body: AliasTarget,
    request: Request,
    db: Db,
    actor: Actor,
) -> ModelOut:
    """Point ``alias`` at a version. ``latest`` and stage names (the built-in ones and any
    the policy adds) are reserved: ``@STAGE`` names the newest version in that stage."""
    stages = request.app.state.policy.stages
    model = await run(
        db, aliases.set_alias, db, actor, namespace, name, alias, body.version, stages
    )
    return ModelOut.of(model)


@router.delete("/{namespace}/{name}/aliases/{alias}", dependencies=[CanWrite])
async def remove_alias(namespace: str, name: str, alias: Key, db: Db, actor: Actor) -> ModelOut:
    return ModelOut.of(await run(db, aliases.remove_alias, db, actor, namespace, name, alias))
