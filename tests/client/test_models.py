from __future__ import annotations

import pytest

from modelyard.client import Client, ConflictError, InvalidInputError, Model, NotFoundError


def test_create_model_returns_the_model_with_tags(client: Client, fraud: str) -> None:
    m = client.get_model(fraud)
    assert isinstance(m, Model)
    assert (m.full_name, m.description, m.tags) == (fraud, "Card fraud scores", {"team": "fraud"})
    assert (m.risk_level, m.latest_version, m.aliases) == ("unassessed", None, {})


def test_create_model_twice_raises_model_exists(client: Client, fraud: str) -> None:
    with pytest.raises(ConflictError) as err:
        client.create_model(fraud)
    assert err.value.code == "MODEL_EXISTS"


def test_malformed_model_name_is_refused_before_any_request(client: Client) -> None:
    with pytest.raises(InvalidInputError) as err:
        client.get_model("no-slash")
    assert err.value.code == "REFERENCE_INVALID"
    with pytest.raises(InvalidInputError) as err:
        client.get_model("risk-team/Upper")
    assert err.value.code == "NAME_INVALID"


def test_get_missing_model_raises_not_found(client: Client, fraud: str) -> None:
    with pytest.raises(NotFoundError) as err:
        client.get_model("risk-team/absent")
    assert err.value.code == "MODEL_NOT_FOUND"
    assert err.value.message


def test_update_model_changes_the_description(client: Client, fraud: str) -> None:
    assert client.update_model(fraud, description="# Fraud\nnew").description == "# Fraud\nnew"
    assert client.update_model(fraud).description == "# Fraud\nnew"


def test_archived_model_accepts_no_changes(client: Client, fraud: str) -> None:
    assert client.archive_model(fraud).archived is True
    with pytest.raises(ConflictError) as err:
        client.update_model(fraud, description="x")
    assert err.value.code == "MODEL_ARCHIVED"


def test_set_model_risk_records_level_and_reason(client: Client, fraud: str) -> None:
    m = client.set_model_risk(fraud, "high", "scores card holders")
    assert (m.risk_level, m.risk_reason) == ("high", "scores card holders")


def test_set_model_risk_refuses_an_unknown_level(client: Client, fraud: str) -> None:
    with pytest.raises(InvalidInputError):
        client.set_model_risk(fraud, "extreme", "because")


def test_model_tags_are_set_replaced_and_removed(client: Client, fraud: str) -> None:
    assert client.set_model_tag(fraud, "owner", "ana").tags == {"team": "fraud", "owner": "ana"}
    assert client.set_model_tag(fraud, "owner", "bo").tags["owner"] == "bo"
    assert client.remove_model_tag(fraud, "owner").tags == {"team": "fraud"}
    with pytest.raises(NotFoundError) as err:
        client.remove_model_tag(fraud, "owner")
    assert err.value.code == "TAG_NOT_FOUND"


def test_aliases_are_set_moved_and_removed(client: Client, fraud: str) -> None:
    client.create_version(fraud)
    client.create_version(fraud)
    assert client.set_alias(fraud, "champion", 1).aliases == {"champion": 1}
    assert client.set_alias(fraud, "champion", 2).aliases == {"champion": 2}
    assert client.remove_alias(fraud, "champion").aliases == {}
    with pytest.raises(NotFoundError) as err:
        client.remove_alias(fraud, "champion")
    assert err.value.code == "ALIAS_NOT_FOUND"


def test_reserved_alias_is_refused_with_its_code(client: Client, fraud: str) -> None:
    client.create_version(fraud)
    with pytest.raises(InvalidInputError) as err:
        client.set_alias(fraud, "production", 1)
    assert err.value.code == "ALIAS_RESERVED"


def test_search_models_filters_and_pages(client: Client, fraud: str) -> None:
    client.create_model("risk-team/churn", tags={"team": "growth"})
    client.create_model("risk-team/credit", tags={"team": "fraud"})
    page = client.search_models(filter="tags.team = 'fraud'", order_by="name", page_size=1)
    assert [m.name for m in page.items] == ["credit"]
    rest = client.search_models(
        filter="tags.team = 'fraud'", order_by="name", page_size=1, page_token=page.next_page_token
    )
    assert [m.name for m in rest.items] == ["fraud"]


def test_search_models_by_free_text(client: Client, fraud: str) -> None:
    client.create_model("risk-team/churn", description="who leaves")
    assert [m.name for m in client.search_models(q="card").items] == ["fraud"]


def test_search_models_reports_a_bad_filter_position(client: Client, fraud: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        client.search_models(filter="name = ")
    assert err.value.code == "FILTER_INVALID"
    assert "position" in err.value.details


def test_search_models_leaves_archived_out_unless_asked(client: Client, fraud: str) -> None:
    client.archive_model(fraud)
    assert client.search_models().items == []
    assert [m.name for m in client.search_models(include_archived=True).items] == ["fraud"]


def test_iter_models_walks_every_page(client: Client, fraud: str) -> None:
    for i in range(4):
        client.create_model(f"risk-team/m{i}")
    names = [m.name for m in client.iter_models(order_by="name", page_size=2)]
    assert names == ["fraud", "m0", "m1", "m2", "m3"]
