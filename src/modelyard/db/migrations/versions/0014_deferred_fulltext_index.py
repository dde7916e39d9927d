"""SQLite: documents enter the free-text index after their transaction, not in it

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27

An FTS5 table writes a new segment for every transaction that adds to it: about 70 µs of CPU
and 4 of the 31 write-ahead-log pages of a version creation. The trigger that indexed each new
search document is dropped; a background thread of the server (``db/fts_indexer.py``) indexes
new documents in batches instead, and the search reads the ones it has not reached yet from
``search_documents`` itself (``db/fulltext.py``), so a search still sees a version the moment it
is created.

``search_fts_watermark`` holds one row: ``indexed_up_to``, the id up to which every document
is in ``search_fts`` (seeded with the highest id: everything there is indexed already). The
delete and update triggers touch ``search_fts`` only for documents at or below it (an update of
a document not indexed yet needs nothing: the indexer reads its new body). SQLite gives a new
row the highest id plus one, so deleting the highest documents would let a new one take an id
at or below the watermark without being indexed: the triggers keep the watermark at or below
the highest id after every delete or update (the ids above it hold no row, so nothing is lost).

The downgrade indexes what is pending and makes the original triggers again. PostgreSQL's GIN
index is kept in step by PostgreSQL itself: nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WATERMARK = "(SELECT indexed_up_to FROM search_fts_watermark)"
# After a delete or an update: no id at or below the watermark may be free for a new row.
_NOT_ABOVE_THE_HIGHEST = (
    "UPDATE search_fts_watermark SET indexed_up_to = "
    "(SELECT coalesce(max(id), 0) FROM search_documents) "
    "WHERE indexed_up_to > (SELECT coalesce(max(id), 0) FROM search_documents); "
)
_DEFERRED_TRIGGERS = [
    "CREATE TRIGGER search_fts_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) "
    f"SELECT 'delete', old.id, old.body WHERE old.id <= {_WATERMARK}; "
    f"{_NOT_ABOVE_THE_HIGHEST}END",
    "CREATE TRIGGER search_fts_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) "
    f"SELECT 'delete', old.id, old.body WHERE old.id <= {_WATERMARK}; "
    f"INSERT INTO search_fts(rowid, body) SELECT new.id, new.body WHERE new.id <= {_WATERMARK}; "
    f"{_NOT_ABOVE_THE_HIGHEST}END",
]
# As migration 0010 made them.
_IMMEDIATE_TRIGGERS = [
    "CREATE TRIGGER search_fts_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_fts_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_fts_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE TABLE search_fts_watermark ("
        "id INTEGER PRIMARY KEY CHECK (id = 1), indexed_up_to INTEGER NOT NULL)"
    )
    op.execute(
        "INSERT INTO search_fts_watermark (id, indexed_up_to) "
        "SELECT 1, coalesce(max(id), 0) FROM search_documents"
    )
    _triggers(_DEFERRED_TRIGGERS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "INSERT INTO search_fts(rowid, body) SELECT id, body FROM search_documents "
        f"WHERE id > {_WATERMARK} ORDER BY id"
    )
    _triggers(_IMMEDIATE_TRIGGERS)
    op.execute("DROP TABLE search_fts_watermark")


def _triggers(statements: list[str]) -> None:
    for name in ("search_fts_ai", "search_fts_ad", "search_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for statement in statements:
        op.execute(statement)
