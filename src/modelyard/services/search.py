"""Search and list models and versions: filter language, free text, order, keyset pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from modelyard.db import fulltext
from modelyard.db.engine import Database
from modelyard.db.queries import VERSION_EXTRAS, VERSION_RECORD_COLUMNS
from modelyard.db.search import (
    MODELS,
    VERSIONS,
    Target,
    after_key,
    compile_filter,
    order_clauses,
    sort_key,
)
from modelyard.db.tables import ModelRow, VersionRow
from modelyard.db.visibility import readable_clause
from modelyard.domain.access import Readable
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.filters import parse_filter
from modelyard.domain.pagination import (
    OrderItem,
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    fingerprint,
    parse_order_by,
)
from modelyard.domain.records import Model, Page, Version
from modelyard.services.records import model_records, version_records

MODEL_ORDER = ("name", "namespace", "created_at", "updated_at", "risk")
VERSION_ORDER = ("name", "namespace", "created_at", "updated_at", "version", "risk")
_KEY_TYPES = {
    "name": str,
    "namespace": str,
    "risk": int,
    "version": int,
    "created_at": datetime,
    "updated_at": datetime,
}


def search_models(
    db: Database,
    filter: str | None = None,
    q: str | None = None,
    order_by: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
    include_archived: bool = False,
    readable: Readable | None = None,
) -> Page[Model]:
    """``readable``: only what the caller may read (``None``: everything)."""
    order = parse_order_by(order_by, MODEL_ORDER, "namespace, name")
    stmt = select(ModelRow.__table__)  # Core rows: no ORM entity loading on the hot path
    if not include_archived:
        stmt = stmt.where(ModelRow.archived_at.is_(None))
    if readable is not None:
        stmt = stmt.where(readable_clause(readable, ModelRow.namespace, ModelRow.name))
    with db.read() as s:
        stmt = _narrow(stmt, MODELS, db.dialect, filter, q)
        rows, token = _page(
            s, stmt, MODELS, order, page_size, page_token, (filter, q, order_by, include_archived)
        )
        return Page(model_records(s, rows), token)


def search_versions(
    db: Database,
    filter: str | None = None,
    q: str | None = None,
    order_by: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
    include_archived: bool = False,
    model: tuple[str, str] | None = None,
    readable: Readable | None = None,
) -> Page[Version]:
    order = parse_order_by(order_by, VERSION_ORDER, "created_at DESC")
    columns = (*VERSION_RECORD_COLUMNS, ModelRow.risk_level, *VERSION_EXTRAS)
    stmt: Select[Any] = select(*columns).join(
        ModelRow.__table__, ModelRow.id == VersionRow.model_id
    )
    if model is not None:
        stmt = stmt.where(VersionRow.namespace == model[0], VersionRow.model_name == model[1])
    if readable is not None:
        stmt = stmt.where(readable_clause(readable, VersionRow.namespace, VersionRow.model_name))
    if not include_archived:  # an archived model's versions are archived with it
        stmt = stmt.where(VersionRow.archived_at.is_(None), ModelRow.archived_at.is_(None))
    with db.read() as s:
        stmt = _narrow(stmt, VERSIONS, db.dialect, filter, q)
        rows, token = _page(
            s,
            stmt,
            VERSIONS,
            order,
            page_size,
            page_token,
            (filter, q, order_by, include_archived, model),
        )
        return Page(version_records(s, rows), token)


def _narrow(
    stmt: Select[Any], target: Target, dialect: str, filter: str | None, q: str | None
) -> Select[Any]:
    stmt = stmt.where(compile_filter(parse_filter(filter or ""), target))
    if q and q.strip():
        kind = "model" if target is MODELS else "version"
        stmt = stmt.where(target.id_column.in_(fulltext.matching_ids(dialect, kind, q)))
    return stmt


def _page(
    s: Any,
    stmt: Select[Any],
    target: Target,
    order: tuple[OrderItem, ...],
    page_size: int | None,
    page_token: str | None,
    query: tuple[Any, ...],
) -> tuple[list[Any], str | None]:
    size = clamp_page_size(page_size)
    print_ = fingerprint(target.kind, *query)
    if page_token:
        key = decode_page_token(page_token, print_, len(order) + 1)
        _check_key(key, order)
        stmt = stmt.where(after_key(order, target, key))
    stmt = stmt.order_by(*order_clauses(order, target)).limit(size + 1)
    result = list(s.connection().execute(stmt).all())  # Core rows: no ORM loading
    more = len(result) > size
    result = result[:size]
    token = None
    if more:
        *last, key = sort_key(result[-1], order, target)
        token = encode_page_token((*last, str(key)), print_)
    rows = [r if target is MODELS else (r, r.risk_level) for r in result]
    return rows, token


def _check_key(key: tuple[Any, ...], order: tuple[OrderItem, ...]) -> None:
    """A page token is client input: its values must have the types its order implies."""
    ok = all(
        isinstance(v, _KEY_TYPES[item.field]) and not isinstance(v, bool)
        for v, item in zip(key, order, strict=False)
    )
    try:
        uuid.UUID(str(key[-1]))
    except ValueError:
        ok = False
    if not ok:
        raise InvalidInputError(
            "PAGE_TOKEN_INVALID", "page_token is not valid; start from page one"
        )
