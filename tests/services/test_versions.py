from __future__ import annotations

import json
import math
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from modelyard.db.engine import Database
from modelyard.db.tables import AuditEventRow, VersionRow
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.lifecycle import INITIAL_STAGE, MAX_VERSION_NUMBER
from modelyard.services import models, search, versions
from tests import factories
from tests.factories import ACTOR


def test_versions_are_numbered_from_one_per_model(db: Database) -> None:
    fraud, churn = factories.model(db, "team/fraud"), factories.model(db, "team/churn")
    assert [v.version for v in factories.versions_of(db, fraud, 3)] == [1, 2, 3]
    assert factories.version(db, churn).version == 1
    assert models.get_model(db, "team", "fraud").latest_version == 3


def test_new_version_starts_in_development_and_records_its_maker(db: Database) -> None:
    model = factories.model(db, "team/fraud", risk="medium")
    created = versions.create_version(
        db, "alice", "team", "fraud", "first cut", {"data": "2026-q3"}, {"auc": 0.91, "n": 3}
    )
    got = versions.get_version(db, "team", "fraud", 1)
    assert got == created
    assert got.stage == INITIAL_STAGE == "development"
    assert (got.namespace, got.name, got.reference) == ("team", "fraud", "team/fraud@1")
    assert (got.description, got.tags, got.metrics) == (
        "first cut",
        {"data": "2026-q3"},
        {"auc": 0.91, "n": 3.0},
    )
    assert (got.created_by, got.risk_level, got.aliases) == ("alice", "medium", [])
    assert got.status != "archived"
    assert model.latest_version is None


def test_versions_and_their_audit_events_get_time_ordered_ids(db: Database) -> None:
    # uuid7 (db/types.py): appended at the right edge of the unique indexes on these ids.
    factories.model(db, "team/fraud")
    versions.create_version(db, "alice", "team", "fraud", "plain")  # without a Session
    time.sleep(0.002)  # (ids of one millisecond are in random order)
    versions.create_version(db, "alice", "team", "fraud", "carded", card="# fraud")  # with one
    with db.read() as s:
        ids = s.scalars(select(VersionRow.id).order_by(VersionRow.number)).all()
        events = s.scalars(
            select(AuditEventRow.event_id)
            .where(AuditEventRow.action == "version.created")
            .order_by(AuditEventRow.seq)
        ).all()
    assert [i.version for i in [*ids, *events]] == [7, 7, 7, 7]
    assert ids == sorted(ids)
    assert events == sorted(events)


def test_creating_a_version_in_a_missing_model_is_not_found(db: Database) -> None:
    factories.namespace(db, "team")
    with pytest.raises(NotFoundError) as info:
        versions.create_version(db, ACTOR, "team", "ghost")
    assert info.value.code == "MODEL_NOT_FOUND"


def test_unknown_version_number_is_not_found(db: Database) -> None:
    factories.versions_of(db, factories.model(db, "team/fraud"), 3)
    for number in [0, -1, 4, MAX_VERSION_NUMBER, MAX_VERSION_NUMBER + 1, 10**12]:
        with pytest.raises(NotFoundError) as info:
            versions.get_version(db, "team", "fraud", number)
        assert info.value.code == "VERSION_NOT_FOUND", number
        with pytest.raises(NotFoundError) as info:
            versions.archive_version(db, ACTOR, "team", "fraud", number)
        assert info.value.code == "VERSION_NOT_FOUND", number


def test_version_numbers_are_never_reused_after_archive(db: Database) -> None:
    model = factories.model(db, "team/fraud")
    factories.versions_of(db, model, 3)
    versions.archive_version(db, ACTOR, "team", "fraud", 3)
    assert factories.version(db, model).version == 4
    versions.archive_version(db, ACTOR, "team", "fraud", 4)
    versions.archive_version(db, ACTOR, "team", "fraud", 2)
    assert factories.version(db, model).version == 5


def test_a_failed_creation_leaves_no_gap(db: Database) -> None:
    model = factories.model(db, "team/fraud")
    factories.version(db, model)
    with pytest.raises(InvalidInputError):
        versions.create_version(db, ACTOR, "team", "fraud", metrics={"auc": math.nan})
    with pytest.raises(InvalidInputError):
        versions.create_version(db, ACTOR, "team", "fraud", tags={"bad key": "v"})
    assert factories.version(db, model).version == 2


def test_archived_version_leaves_latest_and_default_search(db: Database) -> None:
    model = factories.model(db, "team/fraud")
    factories.versions_of(db, model, 3)
    archived = versions.archive_version(db, ACTOR, "team", "fraud", 3)
    assert archived.status == "archived"
    assert models.get_model(db, "team", "fraud").latest_version == 2
    listed = search.search_versions(db, model=("team", "fraud"), order_by="version")
    assert [v.version for v in listed.items] == [1, 2]
    everything = search.search_versions(
        db, model=("team", "fraud"), order_by="version", include_archived=True
    )
    assert [v.version for v in everything.items] == [1, 2, 3]
    assert versions.get_version(db, "team", "fraud", 3).status == "archived"


def test_archiving_every_version_leaves_no_latest(db: Database) -> None:
    model = factories.model(db, "team/fraud")
    factories.version(db, model)
    versions.archive_version(db, ACTOR, "team", "fraud", 1)
    assert models.get_model(db, "team", "fraud").latest_version is None


def test_archive_version_is_idempotent(db: Database) -> None:
    factories.version(db, factories.model(db, "team/fraud"))
    first = versions.archive_version(db, ACTOR, "team", "fraud", 1)
    assert versions.archive_version(db, ACTOR, "team", "fraud", 1) == first


def test_archived_version_accepts_no_changes(db: Database) -> None:
    factories.version(db, factories.model(db, "team/fraud"), tags={"k": "v"})
    versions.archive_version(db, ACTOR, "team", "fraud", 1)
    changes = [
        lambda: versions.update_version(db, ACTOR, "team", "fraud", 1, description="x"),
        lambda: versions.set_version_tag(db, ACTOR, "team", "fraud", 1, "k", "w"),
        lambda: versions.remove_version_tag(db, ACTOR, "team", "fraud", 1, "k"),
    ]
    for change in changes:
        with pytest.raises(ConflictError) as info:
            change()
        assert info.value.code == "VERSION_ARCHIVED"


def test_update_changes_description_and_merges_metrics(db: Database) -> None:
    created = factories.version(
        db, factories.model(db, "team/fraud"), description="old", metrics={"auc": 0.8, "f1": 0.5}
    )
    updated = versions.update_version(
        db, ACTOR, "team", "fraud", 1, description="new", metrics={"auc": 0.9, "loss": 2}
    )
    assert updated.description == "new"
    assert updated.metrics == {"auc": 0.9, "f1": 0.5, "loss": 2.0}
    assert updated.updated_at > created.updated_at
    assert versions.get_version(db, "team", "fraud", 1) == updated
    assert (updated.stage, updated.created_at) == (created.stage, created.created_at)


def test_metrics_must_be_finite_numbers_under_valid_keys(db: Database) -> None:
    factories.model(db, "team/fraud")
    cases: list[dict[str, object]] = [
        {"auc": math.nan},
        {"auc": math.inf},
        {"auc": -math.inf},
        {"auc": True},
        {"auc": "0.9"},
        {"auc": None},
        {"auc": [0.9]},
        {"bad key": 0.9},
    ]
    for metrics in cases:
        with pytest.raises(InvalidInputError):
            versions.create_version(db, ACTOR, "team", "fraud", metrics=metrics)
    assert factories.version(db, models.get_model(db, "team", "fraud")).version == 1


def test_too_many_metrics_are_refused(db: Database) -> None:
    factories.model(db, "team/fraud")
    many = {f"m{i}": float(i) for i in range(versions.MAX_METRICS + 1)}
    with pytest.raises(InvalidInputError) as info:
        versions.create_version(db, ACTOR, "team", "fraud", metrics=many)
    assert info.value.code == "VALIDATION_FAILED"


def test_version_tags_are_set_replaced_and_removed(db: Database) -> None:
    factories.version(db, factories.model(db, "team/fraud"), tags={"a": "1"})
    assert versions.set_version_tag(db, ACTOR, "team", "fraud", 1, "b", "2").tags == {
        "a": "1",
        "b": "2",
    }
    assert versions.set_version_tag(db, ACTOR, "team", "fraud", 1, "a", "9").tags["a"] == "9"
    assert versions.remove_version_tag(db, ACTOR, "team", "fraud", 1, "a").tags == {"b": "2"}
    with pytest.raises(NotFoundError) as info:
        versions.remove_version_tag(db, ACTOR, "team", "fraud", 1, "a")
    assert info.value.code == "TAG_NOT_FOUND"


def test_tags_of_one_version_do_not_touch_another(db: Database) -> None:
    model = factories.model(db, "team/fraud")
    factories.versions_of(db, model, 2)
    versions.set_version_tag(db, ACTOR, "team", "fraud", 1, "k", "v")
    assert versions.get_version(db, "team", "fraud", 2).tags == {}
    assert models.get_model(db, "team", "fraud").tags == {}


def test_a_plain_creation_on_sqlite_runs_without_a_session(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No files, metrics, provenance or card: ``Database.write_prepared`` (no ORM Session) on
    SQLite, with the same record and audit event; anything else, and a model that cannot take
    a version (the error is named in a Session), still uses ``write()``."""
    if db.dialect != "sqlite":
        pytest.skip("write_prepared is write() on PostgreSQL")
    factories.model(db, "team/fraud")
    factories.model(db, "team/old")
    models.archive_model(db, ACTOR, "team", "old")
    sessions: list[str] = []
    write = db.write

    def counted():  # type: ignore[no-untyped-def]
        sessions.append("write")
        return write()

    monkeypatch.setattr(db, "write", counted)
    made = versions.create_version(db, "ann", "team", "fraud", "d", {"k": "v"})
    assert sessions == []
    assert made == versions.get_version(db, "team", "fraud", 1)
    versions.create_version(db, "ann", "team", "fraud", metrics={"auc": 0.5})
    assert sessions == ["write"]
    with pytest.raises(ConflictError):
        versions.create_version(db, "ann", "team", "old")
    with pytest.raises(NotFoundError):
        versions.create_version(db, "ann", "team", "nope")
    assert sessions == ["write"] * 3
    assert [v.version for v in search.search_versions(db, "name = 'fraud'").items] == [2, 1]


def test_a_creation_without_a_session_writes_what_one_with_a_session_writes(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same rows (version, tags, search document, model counter) and the same audit and
    outbox events, whichever way the transaction is run."""
    factories.model(db, "team/lean")
    factories.model(db, "team/full")
    args = ("ann", "team")
    versions.create_version(db, *args, "lean", "d", {"k": "v", "a/b": "é"})
    monkeypatch.setattr(db, "write_prepared", db.write)
    versions.create_version(db, *args, "full", "d", {"k": "v", "a/b": "é"})
    lean = _written(db, "lean")
    assert all(lean)  # every query found its rows
    assert lean == _written(db, "full")


def _written(db: Database, model: str) -> list[Any]:
    queries = (
        "SELECT v.number, v.description, v.stage, v.status, v.metrics, v.created_by,"
        " v.manifest_digest, v.archived_at, v.created_at = v.updated_at FROM versions v"
        " WHERE v.model_name = :m",
        "SELECT t.key, t.value FROM version_tags t JOIN versions v ON v.id = t.version_id"
        " WHERE v.model_name = :m ORDER BY t.key",
        "SELECT d.kind, d.body FROM search_documents d JOIN versions v ON v.id = d.entity_id"
        " WHERE v.model_name = :m",
        "SELECT version_counter, updated_at = (SELECT created_at FROM versions v"
        " WHERE v.model_name = :m) FROM models WHERE name = :m",
        "SELECT actor, action, target, namespace, before, after, request_id FROM audit_events"
        " WHERE target LIKE :like",
        "SELECT type, target, namespace FROM outbox_events WHERE target LIKE :like",
    )
    with db.read() as s:
        found = [
            [tuple(r) for r in s.execute(text(q), {"m": model, "like": f"team/{model}@%"})]
            for q in queries
        ]
    return json.loads(json.dumps(found, default=str).replace(model, "M"))
