from __future__ import annotations

import pytest

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.lifecycle import DEFAULT_STAGES, RESERVED_ALIASES
from modelyard.domain.names import (
    TAG_VALUE_MAX,
    check_alias,
    check_name,
    check_tag,
    check_tags,
)

VALID_NAMES = [
    "a",
    "7",
    "ab",
    "risk-team",
    "fraud.detector",
    "fraud_detector",
    "a-b.c_d",
    "x" * 64,
    "a" + "-" * 62 + "z",
    "v1.2.3",
    "0day",
]
INVALID_NAMES = [
    "",
    "x" * 65,
    "Risk-team",
    "FRAUD",
    "fraudDetector",
    "-lead",
    "trail-",
    ".hidden",
    "trail.",
    "_lead",
    "trail_",
    "a..b",
    "a...b",
    "a/b",
    "a b",
    " a",
    "a ",
    "café",
    "a\n",
    "\na",
    "a\tb",
    "a@b",
    "a:b",
    "a%b",
    "\uff41",  # full-width a
    "\u0661",  # Arabic-Indic digit one
]


@pytest.mark.parametrize("name", VALID_NAMES)
def test_check_name_accepts_valid_names(name: str) -> None:
    assert check_name("model", name) == name


@pytest.mark.parametrize("name", INVALID_NAMES)
def test_check_name_refuses_invalid_names_with_name_invalid(name: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_name("namespace", name)
    assert info.value.code == "NAME_INVALID"
    assert info.value.details == {"kind": "namespace", "value": name}


def test_name_length_boundary_is_64() -> None:
    assert check_name("model", "a" * 64)
    with pytest.raises(InvalidInputError):
        check_name("model", "a" * 65)


def test_name_error_message_states_the_rule() -> None:
    with pytest.raises(InvalidInputError) as info:
        check_name("model", "Bad")
    assert "lower-case" in info.value.message
    assert "'..'" in info.value.message


@pytest.mark.parametrize("alias", ["champion", "c", "blue-green", "a_b", "v2", "a" * 63])
def test_check_alias_accepts_valid_aliases(alias: str) -> None:
    assert check_alias(alias, RESERVED_ALIASES) == alias


@pytest.mark.parametrize(
    "alias",
    ["", "Champion", "2nd", "-a", "_a", "a.b", "a/b", "a b", "a" * 64, "champion\n", "sha256:ab"],
)
def test_check_alias_refuses_malformed_aliases(alias: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_alias(alias, RESERVED_ALIASES)
    assert info.value.code == "NAME_INVALID"
    assert info.value.details["kind"] == "alias"


@pytest.mark.parametrize("alias", ["latest", "sha256", *DEFAULT_STAGES])
def test_check_alias_refuses_reserved_words(alias: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_alias(alias, RESERVED_ALIASES)
    assert info.value.code == "ALIAS_RESERVED"
    assert info.value.details["value"] == alias


@pytest.mark.parametrize("alias", ["1", "7", "42", "007"])
def test_check_alias_refuses_numbers_as_reserved(alias: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_alias(alias, RESERVED_ALIASES)
    assert info.value.code == "ALIAS_RESERVED"


def test_check_alias_honours_a_custom_reserved_set() -> None:
    assert check_alias("production", frozenset({"latest"})) == "production"
    with pytest.raises(InvalidInputError):
        check_alias("canary", frozenset({"canary"}))


@pytest.mark.parametrize(
    "key", ["team", "Team", "_private", "0x", "mlflow.source", "a:b/c-d", "k" * 128]
)
def test_check_tag_accepts_valid_keys(key: str) -> None:
    check_tag(key, "value")


@pytest.mark.parametrize("key", ["", "k" * 129, ".dot", "-dash", "a b", "a=b", "key\n", "é"])
def test_check_tag_refuses_invalid_keys(key: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_tag(key, "v")
    assert info.value.code == "NAME_INVALID"
    assert info.value.details["kind"] == "tag"


def test_check_tag_value_length_boundary() -> None:
    check_tag("k", "v" * TAG_VALUE_MAX)
    with pytest.raises(InvalidInputError) as info:
        check_tag("k", "v" * (TAG_VALUE_MAX + 1))
    assert info.value.code == "VALIDATION_FAILED"


def test_check_tags_accepts_empty_values_and_any_text() -> None:
    tags = {"team": "", "note": "ünïcödé, spaces and = signs"}
    assert check_tags(tags) is tags


def test_check_tags_refuses_when_any_key_is_bad() -> None:
    with pytest.raises(InvalidInputError):
        check_tags({"good": "1", "bad key": "2"})
