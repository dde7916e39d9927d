"""SQLite: new search documents enter the free-text index from a background thread, in batches.

A version creation only inserts its row into ``search_documents``; the FTS5 table
``search_fts`` would write a new segment for every transaction that adds to it (about 70 µs
of CPU and 4 of 31 write-ahead-log pages per creation), so the server adds the new documents
from this thread instead, many per transaction. ``search_fts_watermark.indexed_up_to``
(migration 0014) says how far it got: every document with an id at or below it is in
``search_fts``, the ones above it are read from ``search_documents`` by the search itself
(``db/fulltext.py``), so no search ever waits for this thread.

    creation ── INSERT search_documents (id n) ──> pending: id > indexed_up_to, found by instr
    this thread, every interval ── INSERT search_fts ... WHERE id > indexed_up_to
                                   ── indexed_up_to := highest id indexed ──> found by MATCH

A round is a write transaction of the Database's own (its writer lock, ``BEGIN IMMEDIATE``),
so it orders with every other write: a document is either above the watermark or in the index,
never neither. CLI commands and tests run no such thread: their documents stay pending (found
all the same) until a server starts and indexes them. PostgreSQL needs none of this.
"""

from __future__ import annotations

from sqlalchemy import column, exists, select, table, text

from modelyard.db.engine import Database
from modelyard.db.periodic import Periodic
from modelyard.db.tables import SearchDocumentRow

# Measured (docs/architecture.md): a round costs ~0.8 ms of CPU for one document and 1.7 ms
# for 250 (7 µs each, against ~70 in each creation's transaction); at the server's ~1,000
# sequential creations a second a quarter of a second makes rounds of a few hundred, and the
# search's tail of documents not indexed yet stays as short.
INTERVAL_SECONDS = 0.25
# The most documents one transaction indexes: a backlog (documents written by CLI commands
# while no server ran) goes in several short transactions, not one that holds the writer long.
BATCH = 2000

# Migration 0014's one row: every document with an id up to it is in search_fts.
_WATERMARK = table("search_fts_watermark", column("indexed_up_to"))
_PENDING = select(
    exists().where(SearchDocumentRow.id > select(_WATERMARK.c.indexed_up_to).scalar_subquery())
)
_LAST_OF_BATCH = text(
    "SELECT max(id) FROM (SELECT id FROM search_documents "
    "WHERE id > (SELECT indexed_up_to FROM search_fts_watermark) ORDER BY id LIMIT :batch)"
)
_INDEX = text(
    "INSERT INTO search_fts(rowid, body) SELECT id, body FROM search_documents "
    "WHERE id > (SELECT indexed_up_to FROM search_fts_watermark) AND id <= :last ORDER BY id"
)
_MOVE = text("UPDATE search_fts_watermark SET indexed_up_to = :last")


def index_batch(db: Database, batch: int = BATCH) -> int:
    """Index up to ``batch`` pending documents in one write transaction; how many it did
    (none on PostgreSQL, which indexes every document in its own transaction)."""
    if db.dialect != "sqlite":
        return 0
    if not db.peek(_PENDING):  # no writer lock when there is nothing to do (idle rounds)
        return 0
    with db.write() as s:
        last = s.scalar(_LAST_OF_BATCH, {"batch": batch})
        if last is None:  # indexed meanwhile (another process's server)
            return 0
        done = s.execute(_INDEX, {"last": last})
        s.execute(_MOVE, {"last": last})
        return int(done.rowcount)  # type: ignore[attr-defined]


def index_pending(db: Database, batch: int = BATCH) -> int:
    """Index every pending document, ``batch`` per transaction; how many it did."""
    total = 0
    while (done := index_batch(db, batch)) == batch:
        total += done
    return total + done


class FtsIndexer(Periodic):
    """Indexes pending documents every ``interval`` seconds, and once more when stopped."""

    def __init__(self, db: Database, interval: float = INTERVAL_SECONDS) -> None:
        super().__init__("fts-indexer", lambda: index_pending(db), interval, last_round=True)
        self.db = db
