from __future__ import annotations

from datetime import datetime

import pytest

from modelyard.client import Client, ConflictError, Namespace, NotFoundError


def test_create_namespace_returns_a_typed_record(client: Client) -> None:
    ns = client.create_namespace("risk-team", description="Risk models")
    assert isinstance(ns, Namespace)
    assert (ns.name, ns.description, ns.archived) == ("risk-team", "Risk models", False)
    assert isinstance(ns.created_at, datetime)
    assert ns.created_at.tzinfo is not None


def test_get_namespace_returns_what_create_stored(client: Client) -> None:
    created = client.create_namespace("risk-team")
    assert client.get_namespace("risk-team") == created


def test_create_namespace_twice_raises_conflict_with_code(client: Client) -> None:
    client.create_namespace("risk-team")
    with pytest.raises(ConflictError) as err:
        client.create_namespace("risk-team")
    assert err.value.code == "NAMESPACE_EXISTS"
    assert err.value.status == 409


def test_get_missing_namespace_raises_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError) as err:
        client.get_namespace("nobody")
    assert err.value.code == "NAMESPACE_NOT_FOUND"


def test_list_namespaces_pages_with_tokens(client: Client) -> None:
    for name in ("a-team", "b-team", "c-team"):
        client.create_namespace(name)
    first = client.list_namespaces(page_size=2)
    assert [n.name for n in first.items] == ["a-team", "b-team"]
    assert first.next_page_token
    second = client.list_namespaces(page_size=2, page_token=first.next_page_token)
    assert [n.name for n in second.items] == ["c-team"]
    assert second.next_page_token is None


def test_iter_namespaces_walks_every_page(client: Client) -> None:
    names = [f"team-{i}" for i in range(5)]
    for name in names:
        client.create_namespace(name)
    assert [n.name for n in client.iter_namespaces(page_size=2)] == names


def test_update_namespace_changes_only_what_is_given(client: Client) -> None:
    client.create_namespace("risk-team", description="old")
    assert client.update_namespace("risk-team", description="new").description == "new"
    assert client.update_namespace("risk-team").description == "new"


def test_archive_namespace_refuses_new_models(client: Client) -> None:
    client.create_namespace("risk-team")
    assert client.archive_namespace("risk-team").archived is True
    with pytest.raises(ConflictError) as err:
        client.create_model("risk-team/fraud")
    assert err.value.code == "NAMESPACE_ARCHIVED"
