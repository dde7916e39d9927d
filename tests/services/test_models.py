from __future__ import annotations

import pytest

from modelyard.db.engine import Database
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.lifecycle import RISK_LEVELS
from modelyard.services import aliases, models, versions
from tests import factories
from tests.factories import ACTOR


def test_create_and_get_a_model(db: Database) -> None:
    factories.namespace(db, "risk-team")
    created = models.create_model(
        db, "alice", "risk-team", "fraud", "# Fraud\nDetects fraud.", {"team": "payments"}
    )
    got = models.get_model(db, "risk-team", "fraud")
    assert got == created
    assert got.full_name == "risk-team/fraud"
    assert got.description == "# Fraud\nDetects fraud."
    assert got.tags == {"team": "payments"}
    assert (got.risk_level, got.risk_reason) == ("unassessed", "")
    assert (got.aliases, got.archived, got.latest_version) == ({}, False, None)
    assert (got.created_by, got.updated_by) == ("alice", "alice")


def test_duplicate_model_is_refused_but_the_name_is_free_in_another_namespace(
    db: Database,
) -> None:
    factories.model(db, "team-a/fraud")
    with pytest.raises(ConflictError) as info:
        factories.model(db, "team-a/fraud")
    assert info.value.code == "MODEL_EXISTS"
    assert factories.model(db, "team-b/fraud").namespace == "team-b"


def test_model_in_a_missing_namespace_is_not_found(db: Database) -> None:
    with pytest.raises(NotFoundError) as info:
        models.create_model(db, ACTOR, "nowhere", "fraud")
    assert info.value.code == "NAMESPACE_NOT_FOUND"


@pytest.mark.parametrize(("namespace", "name"), [("team", "Fraud"), ("Team", "fraud")])
def test_invalid_names_are_refused(db: Database, namespace: str, name: str) -> None:
    factories.namespace(db, "team")
    with pytest.raises(InvalidInputError) as info:
        models.create_model(db, ACTOR, namespace, name)
    assert info.value.code == "NAME_INVALID"


def test_invalid_tag_at_creation_creates_nothing(db: Database) -> None:
    factories.namespace(db, "team")
    with pytest.raises(InvalidInputError):
        models.create_model(db, ACTOR, "team", "fraud", tags={"bad key": "x"})
    with pytest.raises(NotFoundError):
        models.get_model(db, "team", "fraud")


def test_unknown_model_is_not_found(db: Database) -> None:
    factories.namespace(db, "team")
    with pytest.raises(NotFoundError) as info:
        models.get_model(db, "team", "ghost")
    assert info.value.code == "MODEL_NOT_FOUND"


def test_update_description_records_who_and_when(db: Database) -> None:
    created = factories.model(db, "team/fraud", description="old")
    updated = models.update_model(db, "bob", "team", "fraud", description="new")
    assert updated.description == "new"
    assert updated.updated_by == "bob"
    assert updated.updated_at > created.updated_at
    assert updated.created_by == created.created_by


def test_update_without_changes_keeps_updated_at(db: Database) -> None:
    created = factories.model(db, "team/fraud", description="same")
    assert models.update_model(db, "bob", "team", "fraud", description="same") == created
    assert models.update_model(db, "bob", "team", "fraud") == created


def test_tags_are_set_replaced_and_removed(db: Database) -> None:
    factories.model(db, "team/fraud", tags={"a": "1"})
    assert models.set_model_tag(db, ACTOR, "team", "fraud", "b", "2").tags == {"a": "1", "b": "2"}
    assert models.set_model_tag(db, ACTOR, "team", "fraud", "a", "9").tags == {"a": "9", "b": "2"}
    assert models.remove_model_tag(db, ACTOR, "team", "fraud", "a").tags == {"b": "2"}
    assert models.get_model(db, "team", "fraud").tags == {"b": "2"}


def test_tag_keys_are_case_sensitive(db: Database) -> None:
    factories.model(db, "team/fraud")
    models.set_model_tag(db, ACTOR, "team", "fraud", "Team", "upper")
    tagged = models.set_model_tag(db, ACTOR, "team", "fraud", "team", "lower")
    assert tagged.tags == {"Team": "upper", "team": "lower"}


def test_removing_a_missing_tag_is_tag_not_found(db: Database) -> None:
    factories.model(db, "team/fraud")
    with pytest.raises(NotFoundError) as info:
        models.remove_model_tag(db, ACTOR, "team", "fraud", "nope")
    assert info.value.code == "TAG_NOT_FOUND"


def test_invalid_tag_is_refused(db: Database) -> None:
    factories.model(db, "team/fraud")
    with pytest.raises(InvalidInputError) as info:
        models.set_model_tag(db, ACTOR, "team", "fraud", "no spaces", "x")
    assert info.value.code == "NAME_INVALID"


def test_risk_level_is_set_with_a_reason(db: Database) -> None:
    factories.model(db, "team/fraud")
    for level in RISK_LEVELS:
        changed = models.set_risk(db, "carol", "team", "fraud", level, f"{level}: credit")
        assert (changed.risk_level, changed.risk_reason, changed.updated_by) == (
            level,
            f"{level}: credit",
            "carol",
        )
        assert models.get_model(db, "team", "fraud").risk_level == level


def test_risk_level_needs_a_known_level_and_a_reason(db: Database) -> None:
    factories.model(db, "team/fraud")
    with pytest.raises(InvalidInputError) as info:
        models.set_risk(db, ACTOR, "team", "fraud", "extreme", "why")
    assert info.value.code == "VALIDATION_FAILED"
    with pytest.raises(InvalidInputError) as info:
        models.set_risk(db, ACTOR, "team", "fraud", "high", "   ")
    assert info.value.code == "VALIDATION_FAILED"
    assert models.get_model(db, "team", "fraud").risk_level == "unassessed"


def test_versions_carry_their_models_risk_level(db: Database) -> None:
    model = factories.model(db, "team/fraud", risk="high")
    assert factories.version(db, model).risk_level == "high"
    models.set_risk(db, ACTOR, "team", "fraud", "low", "retrained on safer data")
    assert versions.get_version(db, "team", "fraud", 1).risk_level == "low"


def test_archive_keeps_the_model_readable_and_is_idempotent(db: Database) -> None:
    factories.model(db, "team/fraud")
    first = models.archive_model(db, "dave", "team", "fraud")
    again = models.archive_model(db, "erin", "team", "fraud")
    assert first.archived
    assert again.archived
    assert again.updated_by == "dave"
    assert models.get_model(db, "team", "fraud").archived


def test_archived_model_accepts_no_changes(db: Database) -> None:
    model = factories.model(db, "team/fraud")
    factories.version(db, model)
    models.archive_model(db, ACTOR, "team", "fraud")
    changes = [
        lambda: versions.create_version(db, ACTOR, "team", "fraud"),
        lambda: models.update_model(db, ACTOR, "team", "fraud", description="x"),
        lambda: models.set_model_tag(db, ACTOR, "team", "fraud", "k", "v"),
        lambda: models.remove_model_tag(db, ACTOR, "team", "fraud", "k"),
        lambda: models.set_risk(db, ACTOR, "team", "fraud", "high", "why"),
        lambda: aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 1),
        lambda: versions.update_version(db, ACTOR, "team", "fraud", 1, description="x"),
        lambda: versions.set_version_tag(db, ACTOR, "team", "fraud", 1, "k", "v"),
    ]
    for change in changes:
        with pytest.raises(ConflictError) as info:
            change()
        assert info.value.code == "MODEL_ARCHIVED"
    assert models.get_model(db, "team", "fraud").latest_version == 1


def test_archived_model_still_refuses_its_name(db: Database) -> None:
    factories.model(db, "team/fraud")
    models.archive_model(db, ACTOR, "team", "fraud")
    with pytest.raises(ConflictError) as info:
        factories.model(db, "team/fraud")
    assert info.value.code == "MODEL_EXISTS"
