from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import text

from modelyard.db import queries
from modelyard.db.engine import Database
from modelyard.db.tables import VersionRow
from modelyard.domain.errors import InvalidInputError, NotFoundError
from modelyard.domain.lineage import Upstream
from modelyard.services import models, references, versions
from tests import factories
from tests.factories import ACTOR


def digest_of(content: bytes) -> str:
    return "sha256:" + hashlib.sha256(content).hexdigest()


@pytest.fixture
def fraud(db: Database) -> None:
    """team/fraud with versions 1-4 (4 archived), @champion on 2, 3 in staging."""
    model = factories.model(db, "team/fraud")
    for n in range(1, 5):
        factories.version(db, model, manifest_digest=digest_of(f"manifest {n}".encode()))
    factories.alias(db, model, "champion", 2)
    _put_in_stage(db, 3, "staging")
    versions.archive_version(db, ACTOR, "team", "fraud", 4)


def _put_in_stage(db: Database, number: int, stage: str) -> None:
    # Stages are read-only until the governance capability adds transitions; set it directly.
    with db.write() as s:
        row = s.query(VersionRow).filter_by(model_name="fraud", number=number).one()
        row.stage = stage


@pytest.mark.usefixtures("fraud")
def test_resolve_every_kind_of_reference(db: Database) -> None:
    cases = [
        ("team/fraud", 3),
        ("team/fraud@latest", 3),
        ("team/fraud@1", 1),
        ("team/fraud@2", 2),
        ("team/fraud@4", 4),  # a number names an archived version too
        ("team/fraud@champion", 2),
        ("team/fraud@development", 2),
        ("team/fraud@staging", 3),
        (f"team/fraud@{digest_of(b'manifest 1')}", 1),
        (f"team/fraud@{digest_of(b'manifest 4')}", 4),  # so does a digest
    ]
    for reference, number in cases:
        version = references.resolve(db, reference)
        assert (version.namespace, version.name, version.version) == ("team", "fraud", number), (
            reference
        )


@pytest.mark.usefixtures("fraud")
def test_resolved_version_carries_aliases_and_risk(db: Database) -> None:
    version = references.resolve(db, "team/fraud@champion")
    assert version.aliases == ["champion"]
    assert version.risk_level == "unassessed"


@pytest.mark.usefixtures("fraud")
def test_latest_skips_archived_versions(db: Database) -> None:
    versions.archive_version(db, ACTOR, "team", "fraud", 3)
    assert references.resolve(db, "team/fraud").version == 2
    assert references.resolve(db, "team/fraud@latest").version == 2


@pytest.mark.usefixtures("fraud")
def test_moving_an_alias_moves_what_it_resolves_to(db: Database) -> None:
    factories.alias(db, models.get_model(db, "team", "fraud"), "champion", 3)
    assert references.resolve(db, "team/fraud@champion").version == 3


@pytest.mark.usefixtures("fraud")
def test_references_that_name_nothing_are_not_found(db: Database) -> None:
    cases = [
        ("team/fraud@challenger", "ALIAS_NOT_FOUND"),
        ("team/fraud@production", "VERSION_NOT_FOUND"),
        ("team/fraud@5", "VERSION_NOT_FOUND"),
        (f"team/fraud@{digest_of(b'never pushed')}", "VERSION_NOT_FOUND"),
        ("team/ghost", "MODEL_NOT_FOUND"),
        ("team/ghost@1", "MODEL_NOT_FOUND"),
        ("team/ghost@champion", "MODEL_NOT_FOUND"),
        ("nowhere/fraud@1", "MODEL_NOT_FOUND"),
    ]
    for reference, code in cases:
        with pytest.raises(NotFoundError) as info:
            references.resolve(db, reference)
        assert info.value.code == code, reference


def test_model_without_versions_has_no_latest(db: Database) -> None:
    factories.model(db, "team/empty")
    with pytest.raises(NotFoundError) as info:
        references.resolve(db, "team/empty")
    assert info.value.code == "VERSION_NOT_FOUND"


@pytest.mark.parametrize(
    "reference", ["team", "team/Fraud", "team/fraud@", "team/fraud@0", "team/fraud@sha256:x"]
)
def test_malformed_reference_is_refused_before_the_database(db: Database, reference: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        references.resolve(db, reference)
    assert info.value.code == "REFERENCE_INVALID"


@pytest.mark.usefixtures("fraud")
def test_resolve_gives_the_record_a_full_read_gives(db: Database) -> None:
    """The one prepared read of the common case and the full read (a version with upstream
    links, whose inherited data needs more queries) give the same records as get_version."""
    derived = versions.create_version(
        db, ACTOR, "team", "fraud", "d", {"k": "v"}, upstream=Upstream(("team/fraud@1",), ())
    )
    for number in (1, 2, derived.version):
        assert references.resolve(db, f"team/fraud@{number}") == versions.get_version(
            db, "team", "fraud", number
        )
    assert references.resolve(db, "team/fraud@champion") == versions.get_version(
        db, "team", "fraud", 2
    )


@pytest.mark.usefixtures("fraud")
def test_a_stage_the_policy_adds_resolves_like_a_built_in_one(db: Database) -> None:
    _put_in_stage(db, 1, "canary")
    assert references.resolve(db, "team/fraud@canary").version == 1
    _put_in_stage(db, 3, "canary")
    assert references.resolve(db, "team/fraud@canary").version == 3  # the newest in it
    with pytest.raises(NotFoundError) as info:
        references.resolve(db, "team/fraud@shadow")  # neither an alias nor a stage
    assert info.value.code == "ALIAS_NOT_FOUND"


@pytest.mark.usefixtures("fraud")
def test_an_alias_comes_before_a_stage_of_the_same_name(db: Database) -> None:
    _put_in_stage(db, 3, "canary")
    factories.alias(db, models.get_model(db, "team", "fraud"), "canary", 1)  # made before
    assert references.resolve(db, "team/fraud@canary").version == 1


def _plan(db: Database, statement: Any) -> list[str]:
    sql = str(statement.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.read() as s:
        return [row[-1] for row in s.execute(text("EXPLAIN QUERY PLAN " + sql))]


@pytest.mark.usefixtures("fraud")
def test_an_alias_is_looked_up_by_its_key_not_by_walking_the_versions(db: Database) -> None:
    """SQLite keeps no statistics: joined on ``version_id`` alone, a resolve by alias read
    every version of the model to find the one the alias names."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's query plan")
    plan = _plan(
        db, queries.VERSION_BY_ALIAS.params(namespace="team", name="fraud", alias="champion")
    )
    assert any(p.startswith("SEARCH aliases") and "(model_id=? AND alias=?)" in p for p in plan)
    assert not any(p.startswith("SEARCH versions") and "(model_id=?)" in p for p in plan), plan


@pytest.mark.usefixtures("fraud")
def test_a_number_and_the_latest_are_found_by_the_versions_key_in_their_model(
    db: Database,
) -> None:
    """By number: not every version of every model of that name. Latest: the model's versions
    from the newest down, not all of them sorted (each with its tags and aliases read)."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's query plan")
    model = {"namespace": "team", "name": "fraud"}
    by_number = _plan(db, queries.VERSION_BY_NUMBER.params(number=2, **model))
    latest = _plan(db, queries.LATEST_VERSION.params(**model))
    assert any("versions USING INDEX" in p and "(model_id=? AND number=?)" in p for p in by_number)
    assert any("versions USING INDEX sqlite_autoindex_versions_2 (model_id=?)" in p for p in latest)
    assert not any("TEMP B-TREE" in p for p in latest), latest


@pytest.mark.usefixtures("fraud")
def test_the_newest_in_a_stage_is_the_end_of_the_models_stage_index(db: Database) -> None:
    """Not every version of every model in that stage (``stage = ?`` alone), nor every version
    of the model in it sorted: the last entry of (model_id, stage, number)."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's query plan")
    plan = _plan(
        db, queries.NEWEST_IN_STAGE.params(namespace="team", name="fraud", stage="development")
    )
    stage_index = "SEARCH versions USING INDEX ix_versions_model_id_stage (model_id=? AND stage=?)"
    assert stage_index in plan, plan
    assert not any("TEMP B-TREE" in p or "(stage=?)" in p for p in plan), plan
