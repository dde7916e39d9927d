"""The audit log in the database: written with each change, gapless under concurrency, and
tampering found by ``verify`` (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, NamespaceRow, OutboxEventRow
from modelyard.domain.audit import GENESIS, chain_hash
from modelyard.services import audit, models, namespaces


def _events(db: Database) -> list[AuditEventRow]:
    with db.read() as s:
        return list(s.scalars(select(AuditEventRow).order_by(AuditEventRow.seq)))


def _write(db: Database, n: int, actor: str = "alice") -> None:
    for i in range(n):
        with db.write() as s:
            audit.record(s, actor, "test.done", f"t{i}", namespace="ns", after={"i": i})


def test_an_event_commits_with_its_change_and_its_outbox_event(db: Database) -> None:
    namespaces.create_namespace(db, "alice", "risk")
    events = _events(db)
    assert [(e.seq, e.action, e.target, e.actor) for e in events] == [
        (1, "namespace.created", "risk", "alice")
    ]
    with db.read() as s:
        outbox = list(s.scalars(select(OutboxEventRow)))
    assert [(o.seq, o.event_id, o.type) for o in outbox] == [
        (1, events[0].event_id, "namespace.created")
    ]
    assert outbox[0].payload["data"]["after"]["name"] == "risk"
    assert audit.verify(db).ok


def test_a_failed_transaction_leaves_no_event(db: Database) -> None:
    def change() -> None:
        with db.write() as s:
            audit.record(s, "alice", "test.done", "t")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        change()
    assert _events(db) == []
    assert audit.head(db)["seq"] == 0


def test_every_field_of_an_event_is_in_its_hash_as_verify_reads_it(db: Database) -> None:
    """The writer hashes a body it builds of JSON types (db/audit.py); verify recomputes the
    hash from the stored row: ids, times, nested values and the outbox payload agree."""
    ids = (uuid.uuid4(), uuid.uuid4())
    token = audit.bind_request(request_id="req-1", actor_id=ids[0], token_id=ids[1])
    try:
        with db.write() as s:
            audit.record(
                s,
                "alice",
                "test.done",
                "t",
                namespace="ns",
                before={"when": datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=2)))},
                after={"id": ids[0], "tags": {"k": "é"}, "n": [1, 2.5, None]},
            )
    finally:
        audit.reset(token)
    (event,) = _events(db)
    assert (event.actor_id, event.token_id, event.request_id) == (*ids, "req-1")
    assert event.before == {"when": "2026-01-01T22:00:00.000000+00:00"}
    assert event.after == {"id": str(ids[0]), "tags": {"k": "é"}, "n": [1, 2.5, None]}
    row = audit.event_dict(event)
    assert event.hash == chain_hash(GENESIS, row)
    with db.read() as s:
        (outbox,) = s.scalars(select(OutboxEventRow))
    assert outbox.payload["timestamp"] == row["at"]
    assert outbox.payload["data"] == {"before": event.before, "after": event.after}
    assert audit.verify(db).ok


def test_audit_only_events_have_no_outbox_row(db: Database) -> None:
    with db.write() as s:
        audit.record(s, "mallory", "access.denied", "risk", event=False)
    with db.read() as s:
        assert list(s.scalars(select(OutboxEventRow))) == []
    assert [e.action for e in _events(db)] == ["access.denied"]


def test_concurrent_writers_get_a_gapless_chain(db: Database) -> None:
    threads, each = 8, 10
    start = threading.Barrier(threads)

    def work(t: int) -> None:
        start.wait()
        _write(db, each, actor=f"user{t}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    assert [e.seq for e in _events(db)] == list(range(1, threads * each + 1))
    result = audit.verify(db)
    assert result.ok
    assert result.checked == threads * each
    assert audit.head(db)["seq"] == threads * each


def _tamper(db: Database, sql: str) -> None:
    with db.engine.begin() as conn:
        for statement in sql.split(";"):
            conn.execute(text(statement))


@pytest.mark.parametrize(
    ("sql", "seq", "problem"),
    [
        ("UPDATE audit_events SET actor = 'bob' WHERE seq = 3", 3, "hash"),
        ("UPDATE audit_events SET after = NULL WHERE seq = 2", 2, "hash"),
        ("DELETE FROM audit_events WHERE seq = 4", 4, "gap"),
        ("DELETE FROM audit_events WHERE seq = 6", 6, "head"),
        ("UPDATE audit_head SET seq = 5", 5, "head"),
        # reorder: rows 2 and 3 swap places (numbers exchanged)
        (
            "UPDATE audit_events SET seq = -1 WHERE seq = 2;"
            "UPDATE audit_events SET seq = 2 WHERE seq = 3;"
            "UPDATE audit_events SET seq = 3 WHERE seq = -1",
            2,
            "prev_hash",
        ),
    ],
)
def test_verify_names_the_first_broken_link(db: Database, sql: str, seq: int, problem: str) -> None:
    _write(db, 6)
    assert audit.verify(db).ok
    _tamper(db, sql)
    result = audit.verify(db)
    assert (result.ok, result.seq, result.problem) == (False, seq, problem)


def test_an_export_verifies_offline_and_its_tampering_is_found(db: Database) -> None:
    _write(db, 4)
    lines = list(audit.export_jsonl(audit.iter_events(db, audit.AuditFilter())))
    head = audit.head(db)
    assert audit.verify_lines(lines, (head["seq"], head["hash"])).ok
    lines[1] = lines[1].replace('"t1"', '"t9"')
    assert audit.verify_lines(lines).problem == "hash"


def test_list_filters_and_pages_newest_first(db: Database) -> None:
    _write(db, 5)
    with db.write() as s:
        audit.record(s, "bob", "other.thing", "x", namespace="elsewhere")
    page, token = audit.list_events(db, audit.AuditFilter(action="test.*"), page_size=3)
    assert [e["seq"] for e in page] == [5, 4, 3]
    assert token
    rest, token2 = audit.list_events(db, audit.AuditFilter(action="test.*"), 3, token)
    assert [e["seq"] for e in rest] == [2, 1]
    assert token2 is None
    only_bob, _ = audit.list_events(db, audit.AuditFilter(actor="bob"))
    assert [e["action"] for e in only_bob] == ["other.thing"]


def test_model_changes_record_before_and_after(db: Database) -> None:
    namespaces.create_namespace(db, "alice", "risk")
    models.create_model(db, "alice", "risk", "churn", description="v1")
    models.update_model(db, "bob", "risk", "churn", description="v2")
    models.set_risk(db, "carol", "risk", "churn", "high", "PII")
    update, risk = _events(db)[-2:]
    assert (update.action, update.actor, update.before, update.after) == (
        "model.updated",
        "bob",
        {"description": "v1"},
        {"description": "v2"},
    )
    assert (risk.action, risk.target) == ("risk.changed", "risk/churn")
    assert risk.before == {"risk_level": "unassessed", "risk_reason": ""}
    assert risk.after == {"risk_level": "high", "risk_reason": "PII"}
    with db.read() as s:
        assert s.scalars(select(NamespaceRow.name)).all() == ["risk"]
