"""The audit chain's head as a version creation moves it on SQLite (db/audit.py ``Head``): one
compare-and-set UPDATE while this process was the last to append, a read of the head whenever
anyone else appended in between or the last append rolled back. The chain stays whole either
way (SQLite and PostgreSQL: PostgreSQL reads the head every time)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from modelyard.db import audit as chain
from modelyard.db import engine
from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow
from modelyard.services import audit, versions
from tests import factories


def _create(db: Database, model: str) -> None:
    ns, _, name = model.partition("/")
    versions.create_version(db, "alice", ns, name, description="d", tags={"k": "v"})


def _seqs(db: Database) -> list[int]:
    with db.read() as s:
        return list(s.scalars(select(AuditEventRow.seq).order_by(AuditEventRow.seq)))


@pytest.fixture
def head_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many times a flush read the head."""
    reads: list[int] = []
    real = chain._head

    def counted(session: object) -> tuple[int, str]:
        reads.append(1)
        return real(session)  # type: ignore[arg-type]

    monkeypatch.setattr(chain, "_head", counted)
    return reads


def test_creations_back_to_back_read_the_head_once(db: Database, head_reads: list[int]) -> None:
    if db.dialect != "sqlite":
        pytest.skip("PostgreSQL locks and reads the head in every transaction")
    model = factories.model(db, "team/fraud")
    head_reads.clear()
    for _ in range(5):
        _create(db, f"{model.namespace}/{model.name}")
    assert len(head_reads) == 1  # the first creation; the next four moved it from where it was
    assert audit.verify(db).ok


def test_an_append_by_another_writer_in_between_is_read_not_overwritten(
    db: Database, head_reads: list[int]
) -> None:
    model = factories.model(db, "team/fraud")
    ref = f"{model.namespace}/{model.name}"
    _create(db, ref)
    factories.namespace(db, "other")  # a Session write: not through the holder
    other = Database(db.engine)  # another Database on the same file (another worker's)
    try:
        _create(other, ref)
    finally:
        other.dispose()
    head_reads.clear()
    _create(db, ref)
    assert head_reads  # the holder was stale: the head was read
    seqs = _seqs(db)
    assert seqs == list(range(1, len(seqs) + 1))
    assert audit.verify(db).ok


def test_after_an_append_that_rolled_back_the_next_one_links_to_what_committed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("write_prepared is write() on PostgreSQL")
    model = factories.model(db, "team/fraud")
    ref = f"{model.namespace}/{model.name}"
    _create(db, ref)
    real = engine._driver

    def refuse_commit(sql: str, call: object) -> None:
        if sql == "COMMIT":
            raise RuntimeError("the disk is full")
        real(sql, call)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_driver", refuse_commit)
    with pytest.raises(RuntimeError):
        _create(db, ref)  # flushed (the holder moved), then rolled back
    monkeypatch.setattr(engine, "_driver", real)
    _create(db, ref)
    seqs = _seqs(db)
    assert seqs == list(range(1, len(seqs) + 1))
    assert audit.verify(db).ok
