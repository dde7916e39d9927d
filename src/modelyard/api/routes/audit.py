"""/api/v1/audit: read, export and verify the audit log. Nothing here writes it.

Global admins read everything. A namespace's admins read the events of their namespace (they
must filter by it). Verifying the chain and reading its head cover every event, so they are for
global admins only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from modelyard.api.access import Caller, authorize, require_global
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.db.engine import Database
from modelyard.domain import access
from modelyard.domain.access import Principal
from modelyard.domain.errors import ForbiddenError
from modelyard.services import audit as svc

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=ERROR_RESPONSES)


class AuditEventOut(BaseModel):
    seq: int
    event_id: str
    at: str
    actor: str
    actor_id: str | None
    token_id: str | None
    action: str
    target: str
    namespace: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    prev_hash: str
    hash: str


class AuditPageOut(BaseModel):
    events: list[AuditEventOut]
    next_page_token: str | None


class VerificationOut(BaseModel):
    ok: bool
    checked: int
    last_seq: int
    last_hash: str
    seq: int | None
    problem: str | None
    message: str


class HeadOut(BaseModel):
    seq: int
    hash: str
    algorithm: str
    genesis: str


Text = Annotated[str | None, Query(max_length=300)]


def _filter(
    action: Text = None,
    actor: Text = None,
    target: Text = None,
    namespace: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> svc.AuditFilter:
    return svc.AuditFilter(action, actor, target, namespace, since, until)


Filter = Annotated[svc.AuditFilter, Depends(_filter)]


async def _may_read(request: Request, db: Database, who: Principal, f: svc.AuditFilter) -> None:
    if who.is_admin and who.has_global("read"):
        return
    if f.namespace is None:
        raise ForbiddenError(
            "PERMISSION_DENIED",
            f"{who.name} may read the audit log of namespaces they administer only: filter by"
            " namespace, or ask a global admin",
            permission="audit",
        )
    await authorize(request, db, who, access.OWN, f.namespace)


@router.get("/events")
async def list_events(
    request: Request,
    db: Db,
    who: Caller,
    f: Filter,
    order: Literal["newest", "oldest"] = "newest",
    page_size: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> AuditPageOut:
    """Events matching every filter given. ``action`` and ``target`` match exactly, or by
    prefix when they end in ``*`` (``transition.*``). Newest first unless ``order=oldest``."""
    await _may_read(request, db, who, f)
    events, token = await run(db, svc.list_events, db, f, page_size, page_token, order == "newest")
    return AuditPageOut(events=[AuditEventOut(**e) for e in events], next_page_token=token)


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Matching events, oldest first, as JSON Lines or CSV",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        }
    },
)
async def export(
    request: Request,
    db: Db,
    who: Caller,
    f: Filter,
    format: Literal["jsonl", "csv"] = "jsonl",
) -> StreamingResponse:
    """Every matching event, oldest first, streamed. A whole JSONL export (no filter) can be
    verified offline: ``modelyard audit verify --file export.jsonl``."""
    await _may_read(request, db, who, f)
    render = svc.export_jsonl if format == "jsonl" else svc.export_csv
    lines: Iterator[str] = render(svc.iter_events(db, f))
    media = "application/x-ndjson" if format == "jsonl" else "text/csv"
    headers = {"Content-Disposition": f'attachment; filename="modelyard-audit.{format}"'}
    return StreamingResponse(iterate_in_threadpool(lines), media_type=media, headers=headers)


@router.get("/verify")
async def verify(db: Db, who: Caller) -> VerificationOut:
    """Recompute the whole chain: every event's hash, every link, no gap, and that it ends at
    the head. Names the first broken link."""
    require_global(who, "read")
    result = await run_in_threadpool(svc.verify, db)
    return VerificationOut(**result.to_dict())


@router.get("/head")
async def head(db: Db, who: Caller) -> HeadOut:
    """The chain's last seq and hash, to anchor elsewhere (a ticket, a signed mail, another
    system): a later rewrite of the log cannot reproduce it."""
    require_global(who, "read")
    return HeadOut(**await run(db, svc.head, db))
