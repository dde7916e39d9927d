"""Free-text search (``q``) on both databases.

Documents are normalised to lower-case word tokens before they are stored, and the query is
split the same way, so both engines see the same words: every query word must prefix-match a
word of the document (AND). SQLite answers through the FTS5 table ``search_fts`` (kept in step
with ``search_documents`` by triggers from the migration), PostgreSQL through the GIN index on
``to_tsvector('simple', body)``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, func, insert, literal_column, select, text
from sqlalchemy.orm import Session

from modelyard.db.tables import SearchDocumentRow

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" and "-" split words on both engines
MAX_QUERY_WORDS = 16


def words(text_: str) -> list[str]:
    return _WORD.findall(text_.lower())


def document_body(*parts: str) -> str:
    return " ".join(w for part in parts for w in words(part))


def put_document(session: Session, entity_id: uuid.UUID, kind: str, *parts: str) -> None:
    session.execute(delete(SearchDocumentRow).where(SearchDocumentRow.entity_id == entity_id))
    session.execute(
        insert(SearchDocumentRow).values(entity_id=entity_id, kind=kind, body=document_body(*parts))
    )


def matching_ids(dialect: str, kind: str, query: str) -> ColumnElement[bool] | Any:
    """A subquery of entity ids whose document matches every word of ``query``."""
    terms = words(query)[:MAX_QUERY_WORDS]
    docs = SearchDocumentRow
    if not terms:
        return select(docs.entity_id).where(docs.kind == kind)
    if dialect == "sqlite":
        match = " AND ".join(f'"{t}"*' for t in terms)
        fts: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(text("search_fts"))
            .where(text("search_fts MATCH :fts_query").bindparams(fts_query=match))
        )
        return select(docs.entity_id).where(docs.kind == kind, docs.id.in_(fts))
    tsquery = " & ".join(f"{t}:*" for t in terms)
    return select(docs.entity_id).where(
        docs.kind == kind,
        func.to_tsvector(literal_column("'simple'"), docs.body).bool_op("@@")(
            func.to_tsquery(literal_column("'simple'"), tsquery)
        ),
    )
