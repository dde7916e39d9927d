from __future__ import annotations

import pytest

from modelyard.db.engine import Database
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.services import models, namespaces
from tests.factories import ACTOR


def test_create_and_get_a_namespace(db: Database) -> None:
    created = namespaces.create_namespace(db, "alice", "risk-team", "Fraud and credit risk")
    got = namespaces.get_namespace(db, "risk-team")
    assert got == created
    assert (got.name, got.description, got.created_by, got.archived) == (
        "risk-team",
        "Fraud and credit risk",
        "alice",
        False,
    )
    assert got.created_at.utcoffset() is not None


def test_duplicate_namespace_is_refused(db: Database) -> None:
    namespaces.create_namespace(db, ACTOR, "risk-team")
    with pytest.raises(ConflictError) as info:
        namespaces.create_namespace(db, ACTOR, "risk-team")
    assert info.value.code == "NAMESPACE_EXISTS"


def test_invalid_namespace_name_is_refused_before_the_database(db: Database) -> None:
    with pytest.raises(InvalidInputError) as info:
        namespaces.create_namespace(db, ACTOR, "Risk Team")
    assert info.value.code == "NAME_INVALID"


def test_unknown_namespace_is_not_found(db: Database) -> None:
    with pytest.raises(NotFoundError) as info:
        namespaces.get_namespace(db, "nowhere")
    assert info.value.code == "NAMESPACE_NOT_FOUND"


def test_update_changes_the_description_and_keeps_it_when_omitted(db: Database) -> None:
    created = namespaces.create_namespace(db, ACTOR, "team", "old")
    updated = namespaces.update_namespace(db, ACTOR, "team", "new")
    assert updated.description == "new"
    assert updated.updated_at >= created.updated_at
    assert namespaces.update_namespace(db, ACTOR, "team", None).description == "new"


def test_archive_is_idempotent_and_refuses_new_models(db: Database) -> None:
    namespaces.create_namespace(db, ACTOR, "team")
    first = namespaces.archive_namespace(db, ACTOR, "team")
    again = namespaces.archive_namespace(db, ACTOR, "team")
    assert first.archived
    assert again.archived
    assert again.updated_at == first.updated_at
    with pytest.raises(ConflictError) as info:
        models.create_model(db, ACTOR, "team", "fraud")
    assert info.value.code == "NAMESPACE_ARCHIVED"


def test_list_walks_every_namespace_once_in_name_order(db: Database) -> None:
    names = ["b-team", "a.team", "a-team", "c", "a", "z9", "a_team"]
    for name in names:
        namespaces.create_namespace(db, ACTOR, name)
    seen: list[str] = []
    token = None
    while True:
        page = namespaces.list_namespaces(db, page_size=3, page_token=token)
        assert len(page.items) <= 3
        seen += [ns.name for ns in page.items]
        token = page.next_page_token
        if token is None:
            break
    assert seen == sorted(names)  # byte order on both databases: '-' < '.' < '_'


def test_list_refuses_a_token_from_another_list(db: Database) -> None:
    from modelyard.domain.pagination import encode_page_token

    with pytest.raises(InvalidInputError) as info:
        namespaces.list_namespaces(db, page_token=encode_page_token(("a",), "models"))
    assert info.value.code == "PAGE_TOKEN_INVALID"
