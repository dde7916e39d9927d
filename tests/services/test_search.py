"""Search over models and versions: every filter field and operator, boolean logic, order_by,
keyset pages and free text, with the same expectations on SQLite and PostgreSQL.

Each test builds one small catalogue and checks many queries against it (a catalogue per query
would multiply the database work); ``expect`` reports every mismatch at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone
from typing import Any

import pytest

from modelyard.db.engine import Database
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.lifecycle import RISK_LEVELS
from modelyard.domain.records import Model, Page, Version
from modelyard.services import aliases, models, search, versions
from tests import factories
from tests.factories import ACTOR

RANK = {level: rank for rank, level in enumerate(RISK_LEVELS)}


@dataclass
class Catalogue:
    models: dict[str, Model]  # by "namespace/name", as read back after building
    versions: dict[str, Version]  # by "namespace/name@number"


def build(db: Database) -> Catalogue:
    """Five models in two namespaces; names that differ only in '-', '.', '_' and length.

    alpha/fraud-detector  high        team=payments tier=1   v1 v2(@champion) v3
    alpha/fraud.v2        medium      team=Payments          v1
    alpha/fraud_v3        low         (no tags)
    alpha/churn           unassessed  team=growth            v1(@stable)
    beta/fraud            high        Team=x
    """
    factories.model(
        db,
        "alpha/fraud-detector",
        "Detects card Fraud in real time",
        {"team": "payments", "tier": "1"},
        "high",
    )
    factories.model(db, "alpha/fraud.v2", "fraud model, second generation", {"team": "Payments"})
    models.set_risk(db, ACTOR, "alpha", "fraud.v2", "medium", "internal use")
    factories.model(db, "alpha/fraud_v3", "", risk="low")
    factories.model(db, "alpha/churn", "Predicts customer churn", {"team": "growth"})
    factories.model(db, "beta/fraud", "100% accurate_ish", {"Team": "x"}, "high")
    fd = models.get_model(db, "alpha", "fraud-detector")
    factories.version(db, fd, "baseline", {"data": "2026-q1"})
    factories.version(db, fd, "Tuned")
    factories.version(db, fd, "tuned again", {"data": "2026-q2"})
    factories.version(db, models.get_model(db, "alpha", "churn"), "first churn")
    factories.version(db, models.get_model(db, "alpha", "fraud.v2"), "v2 first")
    aliases.set_alias(db, ACTOR, "alpha", "fraud-detector", "champion", 2)
    aliases.set_alias(db, ACTOR, "alpha", "churn", "stable", 1)
    everything = search.search_models(db, page_size=1000)
    every_version = search.search_versions(db, page_size=1000)
    return Catalogue(
        {m.full_name: m for m in everything.items},
        {v.reference: v for v in every_version.items},
    )


def model_names(page: Page[Model]) -> list[str]:
    return [m.full_name for m in page.items]


def version_refs(page: Page[Version]) -> list[str]:
    return [v.reference for v in page.items]


def expect(
    run: Callable[[str], list[str]], cases: Sequence[tuple[str, Sequence[str]]], ordered: bool
) -> None:
    """Run every filter; fail once, listing every filter whose result differs."""
    wrong = []
    for text, expected in cases:
        got = run(text)
        same = got == list(expected) if ordered else sorted(got) == sorted(expected)
        if not same:
            wrong.append(f"{text!r}: got {got}, expected {list(expected)}")
    assert not wrong, "\n".join(wrong)


def models_matching(db: Database) -> Callable[[str], list[str]]:
    return lambda text: model_names(search.search_models(db, filter=text, page_size=1000))


def versions_matching(db: Database) -> Callable[[str], list[str]]:
    return lambda text: version_refs(search.search_versions(db, filter=text, page_size=1000))


FD, FV2, FV3, CHURN, BETA = (
    "alpha/fraud-detector",
    "alpha/fraud.v2",
    "alpha/fraud_v3",
    "alpha/churn",
    "beta/fraud",
)
ALL = [FD, FV2, FV3, CHURN, BETA]


# --- filters over models ------------------------------------------------------------------------


def test_model_filters_on_name_and_namespace(db: Database) -> None:
    build(db)
    cases = [
        ("name = 'churn'", [CHURN]),
        ("name != 'churn'", [FD, FV2, FV3, BETA]),
        ("name IN ('churn', 'fraud')", [CHURN, BETA]),
        ("name NOT IN ('churn', 'fraud')", [FD, FV2, FV3]),
        ("name < 'fraud-detector'", [CHURN, BETA]),
        ("name <= 'fraud'", [CHURN, BETA]),
        ("name > 'fraud.v2'", [FV3]),
        ("name >= 'fraud.v2'", [FV2, FV3]),
        ("name LIKE 'fraud%'", [FD, FV2, FV3, BETA]),
        ("name LIKE 'fraud_v%'", [FV2, FV3]),
        (r"name LIKE 'fraud\_v%'", [FV3]),
        ("name LIKE 'FRAUD%'", []),
        ("name ILIKE 'FRAUD%'", [FD, FV2, FV3, BETA]),
        ("name ILIKE 'Fraud.V2'", [FV2]),
        ('NAME = "churn"', [CHURN]),
        ("namespace = 'beta'", [BETA]),
        ("namespace != 'alpha'", [BETA]),
        ("namespace IN ('alpha')", [FD, FV2, FV3, CHURN]),
        ("namespace LIKE 'al%'", [FD, FV2, FV3, CHURN]),
        ("namespace > 'alpha'", [BETA]),
    ]
    expect(models_matching(db), cases, ordered=False)


def test_model_filters_on_description_like_is_case_sensitive_ilike_is_not(db: Database) -> None:
    build(db)
    cases = [
        ("description LIKE '%Fraud%'", [FD]),
        ("description LIKE '%fraud%'", [FV2]),
        ("description ILIKE '%fraud%'", [FD, FV2]),
        ("description ILIKE '%FRAUD%'", [FD, FV2]),
        ("description LIKE 'detects%'", []),
        ("description ILIKE 'detects%'", [FD]),
        (r"description LIKE '100\%%'", [BETA]),
        (r"description LIKE '%\_ish'", [BETA]),
        ("description LIKE '%_ish'", [BETA]),
        ("description = ''", [FV3]),
        ("description != ''", [FD, FV2, CHURN, BETA]),
        ("description = 'Predicts customer churn'", [CHURN]),
        ("description = 'predicts customer churn'", []),
    ]
    expect(models_matching(db), cases, ordered=False)


def test_like_escapes_mean_the_same_on_both_databases(db: Database) -> None:
    factories.model(db, "esc/slash", "ends in \\")
    factories.model(db, "esc/percent", "100% sure_thing")
    factories.model(db, "esc/plain", "100 percent surely")
    cases = [
        ("description LIKE '%\\\\'", ["esc/slash"]),
        ("description LIKE 'ends in \\\\'", ["esc/slash"]),
        ("description LIKE '100\\%%'", ["esc/percent"]),
        ("description LIKE '100%'", ["esc/percent", "esc/plain"]),
        ("description LIKE '%sure\\_%'", ["esc/percent"]),
        ("description LIKE '%sure_%'", ["esc/percent", "esc/plain"]),
        ("description ILIKE '%SURE\\_T%'", ["esc/percent"]),
    ]
    expect(models_matching(db), cases, ordered=False)
    with pytest.raises(InvalidInputError) as info:
        search.search_models(db, filter="description LIKE 'ends in \\'")
    assert info.value.code == "FILTER_INVALID"


def test_model_filters_on_tags_need_the_tag_and_keep_key_case(db: Database) -> None:
    build(db)
    cases = [
        ("tags.team = 'payments'", [FD]),
        ("tags.team = 'Payments'", [FV2]),
        ("tags.team ILIKE 'payments'", [FD, FV2]),
        ("tags.team LIKE 'P%'", [FV2]),
        ("tags.team != 'payments'", [FV2, CHURN]),
        ("tags.team IN ('growth', 'payments')", [FD, CHURN]),
        ("tags.team NOT IN ('growth')", [FD, FV2]),
        ("tags.team < 'h'", [FV2, CHURN]),  # byte order: 'P' < 'g' < 'h' < 'p'
        ("tags.team >= 'h'", [FD]),
        ("tags.Team = 'x'", [BETA]),
        ("tags.TEAM = 'x'", []),
        ("tags.tier = '1'", [FD]),
        ("tags.missing = 'x'", []),
        ("tags.missing != 'x'", []),
    ]
    expect(models_matching(db), cases, ordered=False)


def test_model_filters_on_risk_compare_by_rank(db: Database) -> None:
    build(db)
    cases = [
        ("risk = 'high'", [FD, BETA]),
        ("risk != 'high'", [FV2, FV3, CHURN]),
        ("risk >= 'medium'", [FD, FV2, BETA]),
        ("risk > 'medium'", [FD, BETA]),
        ("risk <= 'low'", [FV3, CHURN]),
        ("risk < 'low'", [CHURN]),
        ("risk > 'high'", []),
        ("risk >= 'unassessed'", ALL),
        ("risk IN ('low', 'medium')", [FV2, FV3]),
        ("risk NOT IN ('high', 'unassessed')", [FV2, FV3]),
        ("risk LIKE 'h%'", [FD, BETA]),
    ]
    expect(models_matching(db), cases, ordered=False)


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_risk_rank_comparison_with_an_unknown_level_is_a_filter_error(
    db: Database, op: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        search.search_models(db, filter=f"name = 'a' AND risk {op} 'extreme'")
    assert info.value.code == "FILTER_INVALID"
    assert info.value.details["position"] == 15


def test_model_filters_on_stage_alias_and_version_look_at_its_versions(db: Database) -> None:
    build(db)
    cases = [
        ("stage = 'development'", [FD, FV2, CHURN]),
        ("stage = 'production'", []),
        ("stage IN ('staging', 'development')", [FD, FV2, CHURN]),
        ("stage != 'development'", []),
        ("alias = 'champion'", [FD]),
        ("alias IN ('champion', 'stable')", [FD, CHURN]),
        ("alias != 'champion'", [CHURN]),
        ("alias LIKE 'st%'", [CHURN]),
        ("version = 3", [FD]),
        ("version >= 2", [FD]),
        ("version = 1", [FD, FV2, CHURN]),
        ("version < 1", []),
        ("version IN (2, 3)", [FD]),
        ("version NOT IN (1)", [FD]),
    ]
    expect(models_matching(db), cases, ordered=False)
    found = search.search_models(db, filter="alias = 'champion'").items
    assert [m.aliases for m in found] == [{"champion": 2}]  # aliases are part of the results


def test_model_filters_on_times(db: Database) -> None:
    cat = build(db)
    fv3 = cat.models[FV3]
    created = fv3.created_at.isoformat()
    cases = [
        (f"created_at = '{created}'", [FV3]),
        (f"created_at >= '{created}'", [FV3, CHURN, BETA]),
        (f"created_at > '{created}'", [CHURN, BETA]),
        (f"created_at < '{created}'", [FD, FV2]),
        (f"created_at <= '{created}'", [FD, FV2, FV3]),
        (f"created_at != '{created}'", [FD, FV2, CHURN, BETA]),
        (f"created_at IN ('{created}')", [FV3]),
        ("created_at > '2000-01-01'", ALL),
        ("created_at < '2000-01-01T00:00:00+05:00'", []),
        (f"updated_at = '{cat.models[CHURN].updated_at.isoformat()}'", [CHURN]),
        (f"updated_at > '{cat.models[BETA].updated_at.isoformat()}'", [FD, FV2, CHURN]),
    ]
    expect(models_matching(db), cases, ordered=False)


def test_times_compare_as_instants_whatever_their_offset(db: Database) -> None:
    cat = build(db)
    created = cat.models[FV3].created_at
    shifted = created.astimezone(timezone(timedelta(hours=-7, minutes=-30))).isoformat()
    naive_utc = created.replace(tzinfo=None).isoformat()
    expect(
        models_matching(db),
        [(f"created_at = '{shifted}'", [FV3]), (f"created_at = '{naive_utc}'", [FV3])],
        ordered=False,
    )


def test_and_binds_tighter_than_or_and_parentheses_group(db: Database) -> None:
    build(db)
    cases = [
        ("risk = 'high' OR namespace = 'alpha' AND name = 'churn'", [FD, BETA, CHURN]),
        ("(risk = 'high' OR namespace = 'alpha') AND name = 'churn'", [CHURN]),
        ("namespace = 'alpha' AND risk = 'high' OR name = 'fraud'", [FD, BETA]),
        ("namespace = 'alpha' AND (risk = 'high' OR name = 'fraud')", [FD]),
        (
            "(name = 'churn' OR (tags.team = 'payments' AND risk = 'high')) AND version = 1",
            [FD, CHURN],
        ),
        (
            "name = 'churn' and risk = 'unassessed' or name = 'fraud' and namespace = 'beta'",
            [CHURN, BETA],
        ),
    ]
    expect(models_matching(db), cases, ordered=False)


def test_archived_models_are_found_only_when_asked(db: Database) -> None:
    build(db)
    models.archive_model(db, ACTOR, "alpha", "churn")
    assert CHURN not in model_names(search.search_models(db))
    with_archived = search.search_models(db, include_archived=True)
    assert CHURN in model_names(with_archived)
    assert [m.archived for m in with_archived.items if m.full_name == CHURN] == [True]


# --- filters over versions ----------------------------------------------------------------------


def test_version_filters_on_every_field(db: Database) -> None:
    cat = build(db)
    fd = [f"{FD}@1", f"{FD}@2", f"{FD}@3"]
    churn, fv2 = f"{CHURN}@1", f"{FV2}@1"
    created = cat.versions[f"{FD}@3"].created_at.isoformat()
    cases = [
        ("name = 'fraud-detector'", fd),
        ("name LIKE 'fraud%'", [*fd, fv2]),
        ("name ILIKE 'CH%'", [churn]),
        ("namespace = 'alpha'", [*fd, churn, fv2]),
        ("namespace = 'beta'", []),
        ("description LIKE 'Tuned%'", [f"{FD}@2"]),
        ("description ILIKE 'tuned%'", [f"{FD}@2", f"{FD}@3"]),
        ("description = 'baseline'", [f"{FD}@1"]),
        ("tags.data = '2026-q1'", [f"{FD}@1"]),
        ("tags.data >= '2026-q1'", [f"{FD}@1", f"{FD}@3"]),
        ("tags.data != '2026-q1'", [f"{FD}@3"]),
        ("tags.team = 'payments'", []),  # model tags are not version tags
        ("stage = 'development'", [*fd, churn, fv2]),
        ("stage != 'development'", []),
        ("risk = 'high'", fd),
        ("risk >= 'medium'", [*fd, fv2]),
        ("risk < 'low'", [churn]),
        ("alias = 'champion'", [f"{FD}@2"]),
        ("alias IN ('champion', 'stable')", [f"{FD}@2", churn]),
        ("alias LIKE '%'", [f"{FD}@2", churn]),
        ("version = 2", [f"{FD}@2"]),
        ("version >= 2", [f"{FD}@2", f"{FD}@3"]),
        ("version != 1", [f"{FD}@2", f"{FD}@3"]),
        ("version NOT IN (1, 2)", [f"{FD}@3"]),
        (f"created_at >= '{created}'", [f"{FD}@3", churn, fv2]),
        (f"created_at < '{created}'", [f"{FD}@1", f"{FD}@2"]),
        (f"updated_at = '{cat.versions[churn].updated_at.isoformat()}'", [churn]),
        ("name = 'fraud-detector' AND (version = 1 OR alias = 'champion')", fd[:2]),
        ("name = 'fraud-detector' AND version = 1 OR alias = 'champion'", fd[:2]),
        ("name = 'churn' OR version = 3 AND risk = 'high'", [churn, f"{FD}@3"]),
    ]
    expect(versions_matching(db), cases, ordered=False)


def test_version_search_within_one_model(db: Database) -> None:
    build(db)
    page = search.search_versions(db, model=("alpha", "fraud-detector"), order_by="version DESC")
    assert version_refs(page) == [f"{FD}@3", f"{FD}@2", f"{FD}@1"]
    assert page.items[1].aliases == ["champion"]
    assert search.search_versions(db, model=("beta", "fraud")).items == []


def test_archived_versions_are_found_only_when_asked(db: Database) -> None:
    build(db)
    versions.archive_version(db, ACTOR, "alpha", "fraud-detector", 3)
    default = version_refs(search.search_versions(db, filter="name = 'fraud-detector'"))
    assert sorted(default) == [f"{FD}@1", f"{FD}@2"]
    everything = search.search_versions(db, filter="name = 'fraud-detector'", include_archived=True)
    assert sorted(version_refs(everything)) == [f"{FD}@1", f"{FD}@2", f"{FD}@3"]


def test_versions_of_an_archived_model_are_found_only_when_asked(db: Database) -> None:
    build(db)
    models.archive_model(db, ACTOR, "alpha", "churn")
    assert f"{CHURN}@1" not in version_refs(search.search_versions(db))
    assert search.search_versions(db, model=("alpha", "churn")).items == []
    with_archived = search.search_versions(db, model=("alpha", "churn"), include_archived=True)
    assert version_refs(with_archived) == [f"{CHURN}@1"]


# --- order_by -----------------------------------------------------------------------------------


def _model_key(field: str) -> Callable[[Model], Any]:
    if field == "risk":
        return lambda m: RANK[m.risk_level]
    return lambda m: getattr(m, field)


def _version_key(field: str) -> Callable[[Version], Any]:
    if field == "risk":
        return lambda v: RANK[v.risk_level]
    return lambda v: getattr(v, field)


def test_names_order_bytewise_on_both_databases_and_default_orders(db: Database) -> None:
    build(db)
    by_name = [m.name for m in search.search_models(db, order_by="name").items]
    assert by_name == ["churn", "fraud", "fraud-detector", "fraud.v2", "fraud_v3"]
    desc = [m.name for m in search.search_models(db, order_by="name DESC").items]
    assert desc == by_name[::-1]
    assert model_names(search.search_models(db)) == [CHURN, FD, FV2, FV3, BETA]
    newest_first = [v.created_at for v in search.search_versions(db).items]
    assert newest_first == sorted(newest_first, reverse=True)


def _check_orders(
    run: Callable[[str, int, str | None], Page[Any]],
    fields: Sequence[str],
    key: Callable[[str], Callable[[Any], Any]],
    count: int,
) -> None:
    """For each field both ways: sorted by it, and pages of 2 give exactly the one-page list."""
    for field in fields:
        for direction in ("ASC", "DESC"):
            order_by = f"{field} {direction}"
            whole = run(order_by, 1000, None).items
            keys = [key(field)(item) for item in whole]
            assert keys == sorted(keys, reverse=direction == "DESC"), order_by
            assert len(whole) == count, order_by
            paged = walk(lambda token, o=order_by: run(o, 2, token))
            assert paged == whole, order_by


def test_models_order_by_each_field_both_ways_and_pages_agree(db: Database) -> None:
    build(db)
    _check_orders(
        lambda order_by, size, token: search.search_models(
            db, order_by=order_by, page_size=size, page_token=token
        ),
        search.MODEL_ORDER,
        _model_key,
        len(ALL),
    )


def test_versions_order_by_each_field_both_ways_and_pages_agree(db: Database) -> None:
    build(db)
    _check_orders(
        lambda order_by, size, token: search.search_versions(
            db, order_by=order_by, page_size=size, page_token=token
        ),
        search.VERSION_ORDER,
        _version_key,
        5,
    )


def test_order_by_several_fields(db: Database) -> None:
    build(db)
    page = search.search_models(db, order_by="risk DESC, namespace DESC, name")
    assert model_names(page) == [BETA, FD, FV2, FV3, CHURN]
    versions_page = search.search_versions(db, order_by="name, version DESC")
    assert version_refs(versions_page) == [
        f"{CHURN}@1",
        f"{FD}@3",
        f"{FD}@2",
        f"{FD}@1",
        f"{FV2}@1",
    ]


def test_unknown_order_field_is_refused(db: Database) -> None:
    with pytest.raises(InvalidInputError) as info:
        search.search_models(db, order_by="version")
    assert info.value.code == "ORDER_BY_INVALID"
    with pytest.raises(InvalidInputError) as info:
        search.search_versions(db, order_by="description")
    assert info.value.code == "ORDER_BY_INVALID"


# --- keyset pages -------------------------------------------------------------------------------


def walk(fetch: Callable[[str | None], Page[Any]]) -> list[Any]:
    items: list[Any] = []
    token = None
    for _ in range(1000):
        page = fetch(token)
        items += page.items
        token = page.next_page_token
        if token is None:
            return items
    raise AssertionError("pages never end")


def test_walking_pages_returns_every_row_once_in_order(db: Database) -> None:
    build(db)
    for page_size in (1, 2, 4, 5, 6):
        pages = []
        token = None
        while True:
            page = search.search_models(db, page_size=page_size, page_token=token)
            pages.append(model_names(page))
            token = page.next_page_token
            if token is None:
                break
        assert [name for page in pages for name in page] == [CHURN, FD, FV2, FV3, BETA]
        assert all(len(p) == page_size for p in pages[:-1])
        assert 0 < len(pages[-1]) <= page_size
    assert len(search.search_models(db, page_size=0).items) == 1  # clamped
    assert len(search.search_models(db, page_size=-3).items) == 1
    assert len(search.search_models(db, page_size=10**9).items) == len(ALL)


def test_pages_stay_exact_when_rows_arrive_between_pages(db: Database) -> None:
    build(db)
    first = search.search_models(db, order_by="name", page_size=2)
    assert [m.name for m in first.items] == ["churn", "fraud"]
    factories.model(db, "gamma/aardvark")  # sorts before the cursor: not seen
    factories.model(db, "gamma/fraud")  # ties with the cursor's name: either side of it
    factories.model(db, "gamma/zebra")  # sorts after the cursor: seen
    rest = walk(
        lambda token: search.search_models(
            db, order_by="name", page_size=2, page_token=token or first.next_page_token
        )
    )
    seen = [m.full_name for m in first.items + rest]
    assert len(seen) == len(set(seen))
    assert set(ALL) <= set(seen)
    assert "gamma/aardvark" not in seen
    assert "gamma/zebra" in seen
    names = [m.name for m in first.items + rest]
    assert names == sorted(names)


def test_version_pages_stay_exact_when_versions_arrive(db: Database) -> None:
    build(db)
    first = search.search_versions(db, order_by="created_at", page_size=3)
    fd = models.get_model(db, "alpha", "fraud-detector")
    newer = factories.version(db, fd)
    rest = walk(
        lambda token: search.search_versions(
            db, order_by="created_at", page_size=3, page_token=token or first.next_page_token
        )
    )
    seen = version_refs(Page(first.items + rest))
    assert len(seen) == len(set(seen)) == 6
    assert seen[-1] == newer.reference


def test_page_token_is_refused_by_another_query(db: Database) -> None:
    build(db)
    token = search.search_models(db, filter="namespace = 'alpha'", page_size=1).next_page_token
    assert token is not None
    assert search.search_models(db, filter="namespace = 'alpha'", page_token=token).items
    others: list[Callable[[], object]] = [
        lambda: search.search_models(db, filter="namespace = 'beta'", page_token=token),
        lambda: search.search_models(db, page_token=token),
        lambda: search.search_models(
            db, filter="namespace = 'alpha'", order_by="name", page_token=token
        ),
        lambda: search.search_models(db, filter="namespace = 'alpha'", q="x", page_token=token),
        lambda: search.search_models(
            db, filter="namespace = 'alpha'", include_archived=True, page_token=token
        ),
        lambda: search.search_versions(db, filter="namespace = 'alpha'", page_token=token),
        lambda: search.search_models(db, filter="namespace = 'alpha'", page_token=token + "x"),
        lambda: search.search_models(db, filter="namespace = 'alpha'", page_token="garbage"),
    ]
    for other in others:
        with pytest.raises(InvalidInputError) as info:
            other()
        assert info.value.code == "PAGE_TOKEN_INVALID"


# --- free text ----------------------------------------------------------------------------------


def test_free_text_over_models(db: Database) -> None:
    build(db)
    run = lambda q: model_names(search.search_models(db, q=q, page_size=1000))  # noqa: E731
    cases = [
        ("fraud", [FD, FV2, FV3, BETA]),
        ("FRAUD", [FD, FV2, FV3, BETA]),
        ("detect", [FD]),  # prefix: detects, detector
        ("card fraud", [FD]),  # every word must match
        ("card churn", []),
        ("payments", [FD, FV2]),  # tag values, any case
        ("tier", [FD]),  # tag keys
        ("growth", [CHURN]),
        ("alpha", [FD, FV2, FV3, CHURN]),  # namespace
        ("real-time", [FD]),  # split like the documents: "real" "time"
        ("v2", [FV2]),
        ("v3", [FV3]),
        ("accurate", [BETA]),
        ("ish", [BETA]),
        ("100", [BETA]),
        ("fraud!!", [FD, FV2, FV3, BETA]),
        ("nothing-like-this", []),
        ("   ", ALL),
    ]
    expect(run, cases, ordered=False)


def test_free_text_over_versions_includes_model_names(db: Database) -> None:
    build(db)
    run = lambda q: version_refs(search.search_versions(db, q=q, page_size=1000))  # noqa: E731
    cases = [
        ("tuned", [f"{FD}@2", f"{FD}@3"]),
        ("fraud tuned", [f"{FD}@2", f"{FD}@3"]),
        ("detector", [f"{FD}@1", f"{FD}@2", f"{FD}@3"]),
        ("2026", [f"{FD}@1", f"{FD}@3"]),
        ("q2", [f"{FD}@3"]),
        ("churn first", [f"{CHURN}@1"]),
        ("payments", []),  # model tags are not part of a version's text
    ]
    expect(run, cases, ordered=False)


def test_free_text_combines_with_filter_and_order(db: Database) -> None:
    build(db)
    page = search.search_models(db, q="fraud", filter="risk = 'high'", order_by="namespace DESC")
    assert model_names(page) == [BETA, FD]


def test_free_text_follows_changes(db: Database) -> None:
    build(db)
    models.update_model(db, ACTOR, "alpha", "churn", description="Forecasts attrition")
    models.set_model_tag(db, ACTOR, "alpha", "churn", "owner", "marketing")
    models.remove_model_tag(db, ACTOR, "alpha", "churn", "team")
    versions.update_version(db, ACTOR, "alpha", "churn", 1, description="retrained")
    assert model_names(search.search_models(db, q="attrition")) == [CHURN]
    assert model_names(search.search_models(db, q="predicts")) == []
    assert model_names(search.search_models(db, q="marketing")) == [CHURN]
    assert model_names(search.search_models(db, q="growth")) == []
    assert version_refs(search.search_versions(db, q="retrained")) == [f"{CHURN}@1"]
    assert version_refs(search.search_versions(db, q="first")) == [f"{FV2}@1"]


def test_free_text_and_ilike_fold_case_beyond_ascii(db: Database) -> None:
    factories.model(db, "intl/translator", "Übersetzer für Betrugsfälle", {"Sprache": "Ärger"})
    factories.model(db, "intl/other", "nothing to see")
    for q in ("übersetzer", "ÜBERSETZ", "betrugsfälle", "FÜR", "sprache", "ärger", "ÄRGER"):
        assert model_names(search.search_models(db, q=q)) == ["intl/translator"], q
    cases = [
        ("description ILIKE 'übersetzer%'", ["intl/translator"]),
        ("description LIKE 'übersetzer%'", []),
        ("description LIKE 'Über%'", ["intl/translator"]),
        ("tags.Sprache ILIKE 'ärger'", ["intl/translator"]),
        ("tags.Sprache = 'ärger'", []),
    ]
    expect(models_matching(db), cases, ordered=False)
