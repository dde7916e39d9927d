"""Free-text search (``q``) on both databases.

Documents are normalised to lower-case word tokens before they are stored, and the query is
split the same way, so both engines see the same words: every query word must prefix-match a
word of the document (AND). PostgreSQL answers through the GIN index on
``to_tsvector('simple', body)``, which it keeps in step with every write itself.

SQLite answers through the FTS5 table ``search_fts``, which holds the documents up to a
watermark (``search_fts_watermark.indexed_up_to``, migration 0014). A new document is not
indexed by its own transaction (FTS5 writes a segment per transaction: about an eighth of a
version creation's CPU and 4 of its 31 write-ahead-log pages, docs/architecture.md): the
server's background thread (``db/fts_indexer.py``) indexes new documents in batches and moves
the watermark. The documents above it (the tail: the last fraction of a second's, or all that
CLI commands wrote while no server ran) are matched here word by word (``instr``, below), on
a range of ``search_documents``' rowids. Both halves are read in the same statement, so in the
same snapshot: a document is in exactly one of them, and a search sees a version the moment
its creation commits.

    search_documents  id:  1 ............................ w | w+1 ...... newest
                           in search_fts (MATCH)            | tail (instr per word)

The tail test is exact because bodies are stored normalised (``document_body``: lower-case
words joined by single spaces) and query words come from the same ``words()``: a word of the
body starts with the query word exactly when ``' ' || body`` contains ``' ' || word``
(``instr``, case-sensitive like the rest of the comparison).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import ColumnElement, TextClause, delete, func, insert, literal_column, select, text
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
        return _sqlite_matching_ids(kind, terms)
    tsquery = " & ".join(f"{t}:*" for t in terms)
    return select(docs.entity_id).where(
        docs.kind == kind,
        func.to_tsvector(literal_column("'simple'"), docs.body).bool_op("@@")(
            func.to_tsquery(literal_column("'simple'"), tsquery)
        ),
    )


def _sqlite_query(words_: int) -> TextClause:
    """The SQLite free-text subquery for ``words_`` query words: the indexed documents that
    FTS5 matches, and the tail's whose body holds every word after a space. Plain SQL made
    once per word count: built from SQLAlchemy constructs on every search it cost 220 µs of
    CPU (the FTS5 query alone: 110), binding this costs 35."""
    # instr, not LIKE: a bound LIKE pattern makes SQLite prepare the whole statement again on
    # every run (its LIKE optimisation plans with the pattern's value), 0.18 instead of
    # 0.02 ms for a version search; instr also needs no escaping.
    each_word = "".join(f" AND instr(' ' || body, :fts_word{i}) > 0" for i in range(words_))
    return text(
        "SELECT entity_id FROM search_documents WHERE kind = :fts_kind AND id IN"
        " (SELECT rowid FROM search_fts WHERE search_fts MATCH :fts_query)"
        " UNION ALL SELECT entity_id FROM search_documents WHERE kind = :fts_kind"
        f" AND id > (SELECT indexed_up_to FROM search_fts_watermark){each_word}"
    )


_SQLITE_QUERIES = [_sqlite_query(n) for n in range(MAX_QUERY_WORDS + 1)]


def _sqlite_matching_ids(kind: str, terms: list[str]) -> Any:
    words_ = {f"fts_word{i}": f" {t}" for i, t in enumerate(terms)}
    match = " AND ".join(f'"{t}"*' for t in terms)
    query = _SQLITE_QUERIES[len(terms)].bindparams(fts_kind=kind, fts_query=match, **words_)
    return query.columns(SearchDocumentRow.entity_id)
