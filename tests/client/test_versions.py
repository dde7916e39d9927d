from __future__ import annotations

from datetime import datetime

import pytest

from modelyard.client import Client, ConflictError, InvalidInputError, NotFoundError, Version


def test_create_version_numbers_from_one(client: Client, fraud: str) -> None:
    v1 = client.create_version(fraud, description="first", tags={"data": "q1"}, metrics={"auc": 1})
    v2 = client.create_version(fraud)
    assert isinstance(v1, Version)
    assert (v1.version, v2.version) == (1, 2)
    assert (v1.reference, v1.stage, v1.tags) == ("risk-team/fraud@1", "development", {"data": "q1"})
    assert v1.metrics == {"auc": 1.0}
    assert isinstance(v1.metrics["auc"], float)
    assert isinstance(v1.created_at, datetime)


def test_create_version_of_missing_model_raises_not_found(client: Client, fraud: str) -> None:
    with pytest.raises(NotFoundError) as err:
        client.create_version("risk-team/absent")
    assert err.value.code == "MODEL_NOT_FOUND"


def test_get_version_by_number_alias_and_latest(client: Client, fraud: str) -> None:
    client.create_version(fraud, description="one")
    client.create_version(fraud, description="two")
    client.set_alias(fraud, "champion", 1)
    assert client.get_version("risk-team/fraud@2").description == "two"
    assert client.get_version("risk-team/fraud@champion").version == 1
    assert client.get_version("risk-team/fraud").version == 2
    assert client.get_version("risk-team/fraud@latest").version == 2


def test_get_missing_version_raises_version_not_found(client: Client, fraud: str) -> None:
    with pytest.raises(NotFoundError) as err:
        client.get_version("risk-team/fraud@9")
    assert err.value.code == "VERSION_NOT_FOUND"


def test_resolve_follows_a_stage_and_an_unknown_alias_is_not_found(
    client: Client, fraud: str
) -> None:
    client.create_version(fraud)
    assert client.resolve("risk-team/fraud@development").version == 1
    with pytest.raises(NotFoundError) as err:
        client.resolve("risk-team/fraud@nobody")
    assert err.value.code == "ALIAS_NOT_FOUND"


def test_malformed_reference_is_refused_before_any_request(client: Client) -> None:
    with pytest.raises(InvalidInputError) as err:
        client.resolve("risk-team/fraud@0")
    assert err.value.code == "REFERENCE_INVALID"


def test_list_versions_is_newest_first_and_pages(client: Client, fraud: str) -> None:
    for _ in range(3):
        client.create_version(fraud)
    first = client.list_versions(fraud, page_size=2)
    assert [v.version for v in first.items] == [3, 2]
    rest = client.list_versions(fraud, page_size=2, page_token=first.next_page_token)
    assert [v.version for v in rest.items] == [1]
    assert rest.next_page_token is None


def test_list_versions_of_missing_model_raises_not_found(client: Client, fraud: str) -> None:
    with pytest.raises(NotFoundError) as err:
        client.list_versions("risk-team/absent")
    assert err.value.code == "MODEL_NOT_FOUND"


def test_update_version_merges_metrics(client: Client, fraud: str) -> None:
    client.create_version(fraud, metrics={"auc": 0.9})
    v = client.update_version("risk-team/fraud@1", description="tuned", metrics={"f1": 0.5})
    assert (v.description, v.metrics) == ("tuned", {"auc": 0.9, "f1": 0.5})


def test_a_version_named_by_alias_is_changed_through_its_number(client: Client, fraud: str) -> None:
    client.create_version(fraud)
    client.create_version(fraud)
    client.set_alias(fraud, "champion", 1)
    assert client.set_version_tag("risk-team/fraud@champion", "ok", "yes").version == 1
    assert client.get_version("risk-team/fraud@1").tags == {"ok": "yes"}


def test_version_tags_are_set_and_removed(client: Client, fraud: str) -> None:
    client.create_version(fraud)
    assert client.set_version_tag("risk-team/fraud@1", "data", "q1").tags == {"data": "q1"}
    assert client.remove_version_tag("risk-team/fraud@1", "data").tags == {}
    with pytest.raises(NotFoundError) as err:
        client.remove_version_tag("risk-team/fraud@1", "data")
    assert err.value.code == "TAG_NOT_FOUND"


def test_archived_version_leaves_latest_and_accepts_no_changes(client: Client, fraud: str) -> None:
    client.create_version(fraud)
    client.create_version(fraud)
    assert client.archive_version("risk-team/fraud@2").status == "archived"
    assert client.resolve("risk-team/fraud").version == 1
    with pytest.raises(ConflictError) as err:
        client.set_version_tag("risk-team/fraud@2", "k", "v")
    assert err.value.code == "VERSION_ARCHIVED"


def test_search_versions_across_models(client: Client, fraud: str) -> None:
    client.create_model("risk-team/churn")
    client.create_version(fraud, tags={"data": "q1"})
    client.create_version("risk-team/churn", tags={"data": "q2"})
    page = client.search_versions(filter="tags.data = 'q2'")
    assert [v.reference for v in page.items] == ["risk-team/churn@1"]


def test_search_versions_finds_aliases(client: Client, fraud: str) -> None:
    client.create_version(fraud)
    client.create_version(fraud)
    client.set_alias(fraud, "champion", 2)
    found = client.search_versions(filter="alias = 'champion'").items
    assert [(v.version, v.aliases) for v in found] == [(2, ["champion"])]


def test_iter_versions_of_a_model_and_of_all(client: Client, fraud: str) -> None:
    client.create_model("risk-team/churn")
    for _ in range(3):
        client.create_version(fraud)
    client.create_version("risk-team/churn")
    assert [v.version for v in client.iter_versions(fraud, page_size=2)] == [3, 2, 1]
    everything = client.iter_versions(order_by="name, version", page_size=2)
    assert [v.reference for v in everything] == [
        "risk-team/churn@1",
        "risk-team/fraud@1",
        "risk-team/fraud@2",
        "risk-team/fraud@3",
    ]
