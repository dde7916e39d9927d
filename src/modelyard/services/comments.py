"""Comments on models and versions: added (with an audit event and ``comment.added``), listed
oldest first. Archived models and versions take comments too: why something was retired is
worth writing down next to it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, or_, select

from modelyard.db.engine import Database
from modelyard.db.tables import CommentRow, ModelRow
from modelyard.db.types import utcnow
from modelyard.domain.comments import Comment, check_body
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    fingerprint,
)
from modelyard.domain.records import Page

__all__ = ["Comment", "Page", "add_comment", "list_comments"]
from modelyard.services import audit
from modelyard.services.lookup import model_row, version_row


def add_comment(
    db: Database, actor: str, namespace: str, name: str, body: str, version: int | None = None
) -> Comment:
    """Comment on ``namespace/name`` (or its version ``version``)."""
    text = check_body(body)
    with db.write() as s:
        model = model_row(s, namespace, name)
        v = version_row(s, model, version) if version is not None else None
        row = CommentRow(
            id=uuid.uuid4(), model_id=model.id, version_id=v.id if v else None,
            version_number=version, author=actor, body=text, created_at=utcnow(),
        )  # fmt: skip
        s.add(row)
        s.flush()
        comment = _record(model, row)
        audit.record(
            s, actor, "comment.added", comment.target, namespace=namespace,
            after={"id": comment.id, "body": text},
        )  # fmt: skip
        return comment


def list_comments(
    db: Database,
    namespace: str,
    name: str,
    version: int | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Page[Comment]:
    """A model's comments and its versions' (``version``: only that version's), oldest first."""
    size = clamp_page_size(page_size)
    query = fingerprint("comments", namespace, name, version)
    with db.read() as s:
        model = model_row(s, namespace, name)
        stmt = select(CommentRow).where(CommentRow.model_id == model.id)
        if version is not None:
            stmt = stmt.where(CommentRow.version_id == version_row(s, model, version).id)
        if page_token:
            stmt = stmt.where(_after(decode_page_token(page_token, query, 2)))
        order = (CommentRow.created_at, CommentRow.id)
        rows = list(s.scalars(stmt.order_by(*order).limit(size + 1)))
        items = [_record(model, r) for r in rows[:size]]
    if len(rows) <= size:
        return Page(items, None)
    last = rows[size - 1]
    return Page(items, encode_page_token((last.created_at, str(last.id)), query))


def _after(key: tuple[Any, ...]) -> Any:
    when, last = key
    try:
        last_id = uuid.UUID(str(last))
    except ValueError:
        raise InvalidInputError(
            "PAGE_TOKEN_INVALID", "page_token does not belong to this query"
        ) from None
    return or_(
        CommentRow.created_at > when,
        and_(CommentRow.created_at == when, CommentRow.id > last_id),
    )


def _record(model: ModelRow, row: CommentRow) -> Comment:
    return Comment(
        str(row.id), model.namespace, model.name, row.version_number, row.author, row.body,
        row.created_at,
    )  # fmt: skip
