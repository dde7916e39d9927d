"""/api/v1/models/{ns}/{name}/comments and …/versions/{n}/comments: discussion next to the
evidence. Anyone who may read the model reads them; members of the namespace (and global
admins) add them, with a token scoped for ``write`` or ``approve`` (reviewers comment too)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from modelyard.api.access import Caller, CanRead, authorize
from modelyard.api.deps import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.governance_schemas import CommentCreate, CommentOut
from modelyard.api.routes.models import TokenQ
from modelyard.api.routes.versions import Number
from modelyard.api.schemas import PageOut
from modelyard.db.engine import Database
from modelyard.domain import access
from modelyard.domain.access import Principal
from modelyard.domain.errors import ForbiddenError
from modelyard.services import comments

router = APIRouter(prefix="/api/v1/models", tags=["governance"], responses=ERROR_RESPONSES)

MODEL = "/{namespace}/{name}/comments"
VERSION = "/{namespace}/{name}/versions/{version}/comments"


async def _may_comment(
    request: Request, db: Database, who: Principal, namespace: str, name: str
) -> None:
    await authorize(request, db, who, access.READ, namespace, name)
    member = who.is_admin or namespace in who.roles
    scoped = who.scope_allows("write", namespace, name) or who.scope_allows(
        "approve", namespace, name
    )
    if not (member and scoped):
        raise ForbiddenError(
            "PERMISSION_DENIED",
            f"{who.name} may not comment on {namespace}/{name}: it needs to be a member of"
            f" {namespace} and a token scope for 'write' or 'approve'",
            permission="comment",
            target=f"{namespace}/{name}",
        )


def _page(page: comments.Page[comments.Comment]) -> PageOut[CommentOut]:
    return PageOut(
        items=[CommentOut.of(c) for c in page.items], next_page_token=page.next_page_token
    )


@router.post(MODEL, status_code=201)
async def comment_on_model(
    namespace: str, name: str, body: CommentCreate, request: Request, db: Db, who: Caller
) -> CommentOut:
    await _may_comment(request, db, who, namespace, name)
    return CommentOut.of(
        await run(db, comments.add_comment, db, who.name, namespace, name, body.body)
    )


@router.get(MODEL, dependencies=[CanRead])
async def list_model_comments(
    namespace: str, name: str, db: Db, page_size: int | None = None, page_token: TokenQ = None
) -> PageOut[CommentOut]:
    """The model's comments and its versions', oldest first."""
    return _page(
        await run(db, comments.list_comments, db, namespace, name, None, page_size, page_token)
    )


@router.post(VERSION, status_code=201)
async def comment_on_version(
    namespace: str,
    name: str,
    version: Number,
    body: CommentCreate,
    request: Request,
    db: Db,
    who: Caller,
) -> CommentOut:
    await _may_comment(request, db, who, namespace, name)
    return CommentOut.of(
        await run(db, comments.add_comment, db, who.name, namespace, name, body.body, version)
    )


@router.get(VERSION, dependencies=[CanRead])
async def list_version_comments(
    namespace: str,
    name: str,
    version: Number,
    db: Db,
    page_size: int | None = None,
    page_token: TokenQ = None,
) -> PageOut[CommentOut]:
    return _page(
        await run(db, comments.list_comments, db, namespace, name, version, page_size, page_token)
    )
