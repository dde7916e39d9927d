"""/api/v1/inventory: every model the caller may read, as JSON, CSV or HTML.

Not paged: it is an export (ten thousand models take well under the five seconds the
inventory promises; see benchmarks/inventory.py). Work runs in the thread pool on both
databases, so a large export never stalls the event loop.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from modelyard.api.access import Caller
from modelyard.api.calls import Db
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.routes.models import FilterQ, TextQ
from modelyard.db.engine import Database
from modelyard.db.types import utcnow
from modelyard.domain import access
from modelyard.domain.access import Readable
from modelyard.domain.inventory import MEDIA_TYPES, render
from modelyard.services import inventory as svc

router = APIRouter(prefix="/api/v1", tags=["inventory"], responses=ERROR_RESPONSES)

_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The inventory: {generated_at, count, models: [...]} as JSON, or CSV or"
        " HTML with one row per model",
        "content": {media: {} for media in MEDIA_TYPES.values()},
    }
}


@router.get("/inventory", response_class=Response, responses=_DOC)
async def inventory(
    db: Db,
    who: Caller,
    filter: FilterQ = None,
    q: TextQ = None,
    include_archived: bool = False,
    format: Literal["json", "csv", "html"] = "json",
) -> Response:
    """Every model (filters as in search) with namespace, owners, risk level, production and
    other stages, datasets and classifications, dependencies, consumers, completeness, last
    approval and scan status (null until governance and scanning record them)."""
    readable = access.readable(who)
    text = await run_in_threadpool(_export, db, filter, q, include_archived, readable, format)
    headers = {"Content-Disposition": f'inline; filename="modelyard-inventory.{format}"'}
    return Response(text, media_type=MEDIA_TYPES[format], headers=headers)


def _export(
    db: Database,
    filter: str | None,
    q: str | None,
    include_archived: bool,
    readable: Readable,
    fmt: str,
) -> str:
    entries = svc.inventory(db, filter, q, include_archived, readable)
    return render(entries, fmt, utcnow())
