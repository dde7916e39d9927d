from __future__ import annotations

import pytest

from modelyard.db.engine import Database
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.lifecycle import DEFAULT_STAGES
from modelyard.services import aliases, models, versions
from tests import factories
from tests.factories import ACTOR


@pytest.fixture
def fraud(db: Database) -> None:
    factories.versions_of(db, factories.model(db, "team/fraud"), 3)


@pytest.mark.usefixtures("fraud")
def test_alias_points_at_one_version_and_shows_on_model_and_version(db: Database) -> None:
    model = aliases.set_alias(db, "alice", "team", "fraud", "champion", 2)
    assert model.aliases == {"champion": 2}
    assert versions.get_version(db, "team", "fraud", 2).aliases == ["champion"]
    assert versions.get_version(db, "team", "fraud", 1).aliases == []
    assert model.updated_by == "alice"


@pytest.mark.usefixtures("fraud")
def test_setting_an_existing_alias_moves_it(db: Database) -> None:
    aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 1)
    moved = aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 3)
    assert moved.aliases == {"champion": 3}
    assert versions.get_version(db, "team", "fraud", 1).aliases == []
    assert versions.get_version(db, "team", "fraud", 3).aliases == ["champion"]


@pytest.mark.usefixtures("fraud")
def test_one_version_may_carry_several_aliases_listed_in_order(db: Database) -> None:
    for name in ("stable", "champion", "blue"):
        aliases.set_alias(db, ACTOR, "team", "fraud", name, 2)
    assert versions.get_version(db, "team", "fraud", 2).aliases == ["blue", "champion", "stable"]
    assert models.get_model(db, "team", "fraud").aliases == {
        "blue": 2,
        "champion": 2,
        "stable": 2,
    }


@pytest.mark.usefixtures("fraud")
def test_aliases_belong_to_their_model(db: Database) -> None:
    churn = factories.model(db, "team/churn")
    factories.version(db, churn)
    aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 3)
    aliases.set_alias(db, ACTOR, "team", "churn", "champion", 1)
    assert models.get_model(db, "team", "fraud").aliases == {"champion": 3}
    assert models.get_model(db, "team", "churn").aliases == {"champion": 1}


@pytest.mark.usefixtures("fraud")
def test_remove_alias(db: Database) -> None:
    aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 2)
    assert aliases.remove_alias(db, ACTOR, "team", "fraud", "champion").aliases == {}
    assert versions.get_version(db, "team", "fraud", 2).aliases == []
    with pytest.raises(NotFoundError) as info:
        aliases.remove_alias(db, ACTOR, "team", "fraud", "champion")
    assert info.value.code == "ALIAS_NOT_FOUND"


@pytest.mark.usefixtures("fraud")
def test_reserved_and_malformed_aliases_are_refused(db: Database) -> None:
    reserved = ["latest", "sha256", "1", "42", *DEFAULT_STAGES]
    malformed = ["Champion", "2nd", "a.b", "", "x" * 64]
    cases = [(a, "ALIAS_RESERVED") for a in reserved] + [(a, "NAME_INVALID") for a in malformed]
    for alias, code in cases:
        with pytest.raises(InvalidInputError) as info:
            aliases.set_alias(db, ACTOR, "team", "fraud", alias, 1)
        assert info.value.code == code, alias
    assert models.get_model(db, "team", "fraud").aliases == {}


@pytest.mark.usefixtures("fraud")
def test_alias_to_a_missing_version_is_not_found(db: Database) -> None:
    with pytest.raises(NotFoundError) as info:
        aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 4)
    assert info.value.code == "VERSION_NOT_FOUND"
    with pytest.raises(NotFoundError) as info:
        aliases.set_alias(db, ACTOR, "team", "ghost", "champion", 1)
    assert info.value.code == "MODEL_NOT_FOUND"


@pytest.mark.usefixtures("fraud")
def test_alias_to_an_archived_version_is_refused(db: Database) -> None:
    versions.archive_version(db, ACTOR, "team", "fraud", 2)
    with pytest.raises(ConflictError) as info:
        aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 2)
    assert info.value.code == "VERSION_ARCHIVED"
    assert models.get_model(db, "team", "fraud").aliases == {}


@pytest.mark.usefixtures("fraud")
def test_aliases_of_an_archived_model_cannot_change(db: Database) -> None:
    aliases.set_alias(db, ACTOR, "team", "fraud", "champion", 2)
    models.archive_model(db, ACTOR, "team", "fraud")
    with pytest.raises(ConflictError) as info:
        aliases.remove_alias(db, ACTOR, "team", "fraud", "champion")
    assert info.value.code == "MODEL_ARCHIVED"
    assert models.get_model(db, "team", "fraud").aliases == {"champion": 2}
