"""SQLite indexes new search documents from a background thread (db/fts_indexer.py) and the
search reads the documents it has not reached from ``search_documents`` (db/fulltext.py): every
answer is the same before any indexing round, halfway and after, for new, changed and archived
versions and models, on both databases; the FTS5 index stays consistent with its documents."""

from __future__ import annotations

import threading
import time

import anyio
import pytest
from sqlalchemy import text

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.db.fts_indexer import FtsIndexer, index_batch, index_pending
from modelyard.services import models, search, versions
from modelyard.settings import Settings
from tests import factories
from tests.factories import ACTOR
from tests.services.test_search import build, model_names, version_refs

QUERIES = [
    "fraud", "detect", "card fraud", "card churn", "payments", "tier", "growth", "alpha",
    "real-time", "v2", "v3", "accurate", "ish", "100", "tuned", "fraud tuned", "detector",
    "2026", "q2", "churn first", "nothing-like-this", "fra det", "d", "1",
]  # fmt: skip


def _pending(db: Database) -> int:
    """Documents above the watermark (SQLite), not in search_fts yet."""
    with db.read() as s:
        sql = ("SELECT count(*) FROM search_documents"
               " WHERE id > (SELECT indexed_up_to FROM search_fts_watermark)")  # fmt: skip
        return int(s.scalar(text(sql)) or 0)


def _indexed(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(text("SELECT count(*) FROM search_fts_idx")) or 0)


def _consistent(db: Database) -> None:
    """FTS5's own check: with ``rank`` 1 it compares the index with every row of
    ``search_documents``, so it passes only when everything is indexed, each once, with the
    body it has now."""
    assert index_pending(db) >= 0
    with db.write() as s:
        s.execute(text("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)"))


def _answers(db: Database) -> dict[str, list[str]]:
    out = {}
    for q in QUERIES:
        out[f"models {q}"] = sorted(model_names(search.search_models(db, q=q, page_size=1000)))
        out[f"versions {q}"] = sorted(
            version_refs(search.search_versions(db, q=q, page_size=1000, include_archived=True))
        )
    return out


def test_a_version_is_found_the_moment_it_is_created_and_after_indexing(db: Database) -> None:
    model = factories.model(db, "risk/churn", "predicts attrition")
    factories.version(db, model, "gradient boosting", {"team": "growth"})
    found = lambda q: version_refs(search.search_versions(db, q=q))  # noqa: E731
    assert found("gradient grow") == ["risk/churn@1"]
    if db.dialect == "sqlite":
        assert _pending(db) == 2  # the model's document and the version's
    assert index_pending(db) == (2 if db.dialect == "sqlite" else 0)
    if db.dialect == "sqlite":
        assert _pending(db) == 0
    assert found("gradient grow") == ["risk/churn@1"]
    assert found("boost churn") == ["risk/churn@1"]
    assert found("boosting attrition") == []  # the model's description is not the version's


def test_every_answer_is_the_same_before_halfway_and_after_indexing(db: Database) -> None:
    build(db)
    before = _answers(db)
    assert before["models fraud"]  # the queries do find things
    assert before["versions tuned"]
    if db.dialect == "sqlite":
        assert index_batch(db, batch=5) == 5  # some documents indexed, the rest pending
        assert _pending(db) > 0
    assert _answers(db) == before
    index_pending(db)
    assert _answers(db) == before


def test_changes_to_indexed_and_pending_documents_are_searched_right(db: Database) -> None:
    fd = factories.model(db, "alpha/fraud", "detects fraud", {"team": "payments"})
    for description in ("baseline", "tuned", "newest"):
        factories.version(db, fd, description, {"data": "q1"})
    index_pending(db)  # versions 1-3 indexed; version 3's document has the highest id
    versions.set_version_tag(db, ACTOR, "alpha", "fraud", 3, "data", "q4")  # its id is free
    factories.version(db, fd, "pending one", {"data": "q1"})  # not indexed yet
    factories.version(db, fd, "pending two")

    versions.update_version(db, ACTOR, "alpha", "fraud", 1, description="retrained")  # indexed
    versions.set_version_tag(db, ACTOR, "alpha", "fraud", 4, "owner", "ops")  # pending
    versions.update_version(db, ACTOR, "alpha", "fraud", 5, description="renamed")  # pending
    versions.archive_version(db, ACTOR, "alpha", "fraud", 2)  # indexed
    models.update_model(db, ACTOR, "alpha", "fraud", description="finds card abuse")
    factories.version(db, fd, "after the changes", {"data": "q4"})

    expected = {
        "baseline": [],
        "retrained": ["alpha/fraud@1"],
        "tuned": [],  # archived
        "q4": ["alpha/fraud@3", "alpha/fraud@6"],
        "q1": ["alpha/fraud@1", "alpha/fraud@4"],
        "ops pending": ["alpha/fraud@4"],
        "renamed": ["alpha/fraud@5"],
        "pending": ["alpha/fraud@4"],
    }
    found = lambda q: sorted(version_refs(search.search_versions(db, q=q)))  # noqa: E731
    for round_ in ("before indexing", "after indexing"):
        assert {q: found(q) for q in expected} == expected, round_
        assert model_names(search.search_models(db, q="abuse")) == ["alpha/fraud"], round_
        assert model_names(search.search_models(db, q="detects")) == [], round_
        assert sorted(version_refs(search.search_versions(db, q="tuned", include_archived=True)))\
            == ["alpha/fraud@2"], round_  # fmt: skip
        index_pending(db)
    if db.dialect == "sqlite":
        _consistent(db)


def test_the_index_stays_consistent_through_direct_changes(db: Database) -> None:
    """The triggers of migration 0014, on rows below and above the watermark and on the rows
    with the highest ids (whose ids SQLite gives again to the next row)."""
    if db.dialect != "sqlite":
        pytest.skip("the FTS5 index is SQLite's")
    fd = factories.model(db, "alpha/fraud", "detects fraud")
    for n in range(6):
        factories.version(db, fd, f"version number{n}")
    index_batch(db, batch=4)  # the model's document and versions 1-3 indexed
    with db.write() as s:
        ids = list(s.scalars(text("SELECT id FROM search_documents ORDER BY id")))
        update = text("UPDATE search_documents SET body = :body WHERE id = :id")
        s.execute(update, {"id": ids[1], "body": "changed indexed"})
        s.execute(update, {"id": ids[5], "body": "changed pending"})
        s.execute(text("DELETE FROM search_documents WHERE id IN (:a, :b)"),
                  {"a": ids[2], "b": ids[6]})  # fmt: skip
    with db.write() as s:
        s.execute(text("INSERT INTO search_fts(search_fts) VALUES ('integrity-check')"))
    found = lambda q: sorted(version_refs(search.search_versions(db, q=q)))  # noqa: E731
    assert found("changed") == ["alpha/fraud@1", "alpha/fraud@5"]
    assert found("number") == ["alpha/fraud@3", "alpha/fraud@4"]
    index_pending(db)
    assert found("changed") == ["alpha/fraud@1", "alpha/fraud@5"]
    assert found("number") == ["alpha/fraud@3", "alpha/fraud@4"]

    with db.write() as s:  # the documents with the highest ids go, indexed: new rows reuse ids
        s.execute(text("DELETE FROM search_documents WHERE id >= :id"), {"id": ids[3]})
    factories.version(db, fd, "reused identity")
    with db.read() as s:
        assert s.scalar(text("SELECT max(id) FROM search_documents")) == ids[2]  # taken again
    assert _pending(db) == 1
    assert found("reused") == ["alpha/fraud@7"]
    _consistent(db)
    assert found("reused") == ["alpha/fraud@7"]


def test_a_backlog_is_indexed_in_batches(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL indexes every document in its own transaction")
    fd = factories.model(db, "alpha/fraud")
    factories.versions_of(db, fd, 6)
    assert index_batch(db, batch=3) == 3
    assert _pending(db) == 4
    assert index_pending(db, batch=3) == 4
    assert _pending(db) == 0
    assert index_batch(db) == 0  # nothing to do: no write transaction
    _consistent(db)


def test_postgresql_has_nothing_to_index(db: Database) -> None:
    if db.dialect == "sqlite":
        pytest.skip("PostgreSQL")
    factories.model(db, "alpha/fraud", "detects fraud")
    assert index_pending(db) == 0
    assert model_names(search.search_models(db, q="detect")) == ["alpha/fraud"]


def test_the_indexer_thread_indexes_until_stopped_and_once_more(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the FTS5 index is SQLite's")
    indexer = FtsIndexer(db, interval=0.02)
    indexer.start()
    try:
        factories.model(db, "alpha/fraud", "detects fraud")
        deadline = time.monotonic() + 30
        while _pending(db) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _pending(db) == 0
        assert _indexed(db) > 0
    finally:
        indexer.stop()
    assert not [t for t in threading.enumerate() if t.name == "fts-indexer"]

    idle = FtsIndexer(db, interval=3600)  # no round but the last one, on stop
    idle.start()
    factories.model(db, "alpha/churn", "predicts churn")
    assert _pending(db) == 1
    idle.stop()
    assert _pending(db) == 0


def test_the_server_runs_the_indexer_while_it_serves(settings: Settings, db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL keeps its own index")
    factories.model(db, "alpha/fraud", "written before the server started")
    app = create_app(settings, db)

    async def serve_briefly() -> list[str]:
        async with app.router.lifespan_context(app):
            return [t.name for t in threading.enumerate()]

    running = anyio.run(serve_briefly)
    assert "fts-indexer" in running
    assert "fts-indexer" not in [t.name for t in threading.enumerate()]
    assert _pending(db) == 0  # the backlog, indexed by the round on the way out at the latest
