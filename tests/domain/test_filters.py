from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.filters import (
    MAX_COMPARISONS,
    MAX_FILTER_LENGTH,
    BoolOp,
    Comparison,
    Filter,
    parse_filter,
)
from modelyard.domain.lifecycle import MAX_VERSION_NUMBER


def cmp(field: str, op: str, value: object, tag_key: str | None = None) -> Comparison:
    """A comparison, position ignored (see ``strip``)."""
    return Comparison(field, op, value, tag_key)  # type: ignore[arg-type]


def strip(node: Filter | None) -> Filter | None:
    """The AST without positions, so structure can be compared with ``==``."""
    if node is None or isinstance(node, Comparison):
        return node and Comparison(node.field, node.op, node.value, node.tag_key)
    return BoolOp(node.op, tuple(strip(item) for item in node.items))  # type: ignore[misc]


def error_of(text: str) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        parse_filter(text)
    assert info.value.code == "FILTER_INVALID"
    return info.value


# --- what parses -------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_blank_filter_means_everything(text: str) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">="])
def test_symbol_operators(op: str) -> None:
    assert strip(parse_filter(f"name {op} 'fraud'")) == cmp("name", op, "fraud")


def test_sql_style_not_equal_is_not_equal() -> None:
    assert strip(parse_filter("name <> 'a'")) == cmp("name", "!=", "a")


@pytest.mark.parametrize("op", ["LIKE", "ILIKE", "like", "iLike"])
def test_like_operators_are_case_insensitive_keywords(op: str) -> None:
    assert strip(parse_filter(f"description {op} '%fraud%'")) == cmp(
        "description", op.upper(), "%fraud%"
    )


def test_in_and_not_in_take_a_list() -> None:
    assert strip(parse_filter("stage IN ('staging', 'production')")) == cmp(
        "stage", "IN", ("staging", "production")
    )
    assert strip(parse_filter("version not in (1,2 , 3)")) == cmp("version", "NOT IN", (1, 2, 3))
    assert strip(parse_filter("risk IN ('high')")) == cmp("risk", "IN", ("high",))


@pytest.mark.parametrize(
    "field", ["name", "namespace", "description", "stage", "risk", "alias", "NAME", "Stage"]
)
def test_every_text_field_parses_and_field_names_ignore_case(field: str) -> None:
    assert strip(parse_filter(f"{field} = 'x'")) == cmp(field.lower(), "=", "x")


def test_tag_fields_keep_the_key_as_written() -> None:
    assert strip(parse_filter("tags.Team = 'fraud'")) == cmp("tags", "=", "fraud", "Team")
    assert strip(parse_filter("TAGS.mlflow.source:type/x-y = 'a'")) == cmp(
        "tags", "=", "a", "mlflow.source:type/x-y"
    )


def test_and_binds_tighter_than_or() -> None:
    a, b, c = cmp("name", "=", "a"), cmp("name", "=", "b"), cmp("name", "=", "c")
    assert strip(parse_filter("name='a' OR name='b' AND name='c'")) == BoolOp(
        "OR", (a, BoolOp("AND", (b, c)))
    )
    assert strip(parse_filter("name='a' AND name='b' OR name='c'")) == BoolOp(
        "OR", (BoolOp("AND", (a, b)), c)
    )


def test_parentheses_override_precedence() -> None:
    a, b, c = cmp("name", "=", "a"), cmp("name", "=", "b"), cmp("name", "=", "c")
    assert strip(parse_filter("(name='a' OR name='b') AND name='c'")) == BoolOp(
        "AND", (BoolOp("OR", (a, b)), c)
    )
    assert strip(parse_filter("((name = 'a'))")) == a


def test_chains_of_one_operator_are_flat() -> None:
    node = parse_filter("name='a' or name='b' OR name='c' Or name='d'")
    assert isinstance(node, BoolOp)
    assert node.op == "OR"
    assert len(node.items) == 4


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'plain'", "plain"),
        ('"double"', "double"),
        ("'it''s'", "it's"),
        ('"say ""hi"""', 'say "hi"'),
        ("'say \"hi\"'", 'say "hi"'),
        ('"it\'s"', "it's"),
        ("''", ""),
        ("'AND OR ( ) , = <'", "AND OR ( ) , = <"),
        ("'ünïcödé ✓'", "ünïcödé ✓"),
        (r"'back\slash%'", "back\\slash%"),
    ],
)
def test_quoted_strings(literal: str, value: str) -> None:
    assert strip(parse_filter(f"description = {literal}")) == cmp("description", "=", value)


@pytest.mark.parametrize(("literal", "value"), [("7", 7), ("-1", -1), ("007", 7), ("0", 0)])
def test_version_takes_whole_numbers(literal: str, value: int) -> None:
    assert strip(parse_filter(f"version >= {literal}")) == cmp("version", ">=", value)


def test_version_bounds_are_the_version_number_range() -> None:
    assert strip(parse_filter(f"version < {MAX_VERSION_NUMBER}")) == cmp(
        "version", "<", MAX_VERSION_NUMBER
    )


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("'2026-11-27'", datetime(2026, 11, 27, tzinfo=UTC)),
        ("'2026-11-27T10:30:00'", datetime(2026, 11, 27, 10, 30, tzinfo=UTC)),
        ("'2026-11-27T10:30:00Z'", datetime(2026, 11, 27, 10, 30, tzinfo=UTC)),
        ("'2026-11-27 10:30:00.123456+00:00'", datetime(2026, 11, 27, 10, 30, 0, 123456, UTC)),
        ("'2026-11-27T12:30:00+02:00'", datetime(2026, 11, 27, 10, 30, tzinfo=UTC)),
        ('"2026-11-27T05:30:00-05:00"', datetime(2026, 11, 27, 10, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_are_iso8601_and_normalised_to_utc(literal: str, expected: datetime) -> None:
    node = parse_filter(f"created_at > {literal}")
    assert isinstance(node, Comparison)
    assert node.value == expected
    assert isinstance(node.value, datetime)
    assert node.value.utcoffset() == timedelta(0)


def test_timestamp_lists_parse_each_value() -> None:
    node = parse_filter("updated_at IN ('2026-01-01', '2026-01-02T00:00:00+01:00')")
    assert isinstance(node, Comparison)
    assert node.value == (
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 2, tzinfo=timezone(timedelta(hours=1))),
    )


@pytest.mark.parametrize(
    ("literal", "pattern"),
    [("'a\\\\'", "a\\\\"), ("'100\\%'", "100\\%"), ("'\\_x'", "\\_x"), ("'a\\b'", "a\\b")],
)
def test_like_patterns_keep_their_escapes(literal: str, pattern: str) -> None:
    assert strip(parse_filter(f"name LIKE {literal}")) == cmp("name", "LIKE", pattern)


def test_whitespace_is_free_around_tokens() -> None:
    assert strip(parse_filter("  (name='a')AND(version>=2)  ")) == BoolOp(
        "AND", (cmp("name", "=", "a"), cmp("version", ">=", 2))
    )
    assert strip(parse_filter("name\n=\t'a'")) == cmp("name", "=", "a")


def test_comparisons_record_the_position_of_their_field() -> None:
    node = parse_filter("name = 'a' AND  risk >= 'medium'")
    assert isinstance(node, BoolOp)
    assert [item.position for item in node.items] == [0, 16]  # type: ignore[union-attr]


def test_filter_of_maximum_length_parses() -> None:
    text = "name IN (" + ",".join(["'abcdefgh'"] * 360) + ")"
    text += " " * (MAX_FILTER_LENGTH - len(text))
    assert len(text) == MAX_FILTER_LENGTH
    assert isinstance(parse_filter(text), Comparison)


# --- errors: every one names the 0-based position at fault -------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "says"),
    [
        ("colour = 'red'", 0, "unknown field 'colour'"),
        ("name = 'a' AND colour = 'red'", 15, "unknown field"),
        ("tags = 'x'", 0, "unknown field"),
        ("tags. = 'x'", 0, "invalid tag key"),
        ("name = 'a' OR tags.-x = 'y'", 14, "invalid tag key"),
        ("name 'fraud'", 5, "expected an operator"),
        ("name", 4, "expected an operator"),
        ("name = 'a' AND version", 22, "expected an operator"),
        ("name NOT LIKE 'a'", 9, "expected IN after NOT"),
        ("name =", 6, "expected a quoted string or a number"),
        ("name = ", 7, "expected a quoted string or a number"),
        ("name == 'a'", 6, "expected a quoted string or a number"),
        ("stage = production", 8, "expected a quoted string or a number"),
        ("name = 'abc", 7, "unterminated string"),
        ('name = "abc', 7, "unterminated string"),
        ("name = 'it''s", 7, "unterminated string"),
        ("name = 'a' AND description = 'b", 29, "unterminated string"),
        ("name = 'a' garbage", 11, "expected AND, OR or end of filter"),
        ("name = 'a' )", 11, "expected AND, OR or end of filter"),
        ("name = 'a' 'b'", 11, "expected AND, OR or end of filter"),
        ("name = 'a' AND", 14, "expected a field name"),
        ("name = 'a' OR ", 14, "expected a field name"),
        ("AND name = 'a'", 0, "unknown field 'AND'"),
        ("= 'a'", 0, "expected a field name"),
        ("(name = 'a'", 11, "expected ')'"),
        ("(name = 'a' OR (name = 'b')", 27, "expected ')'"),
        ("()", 1, "expected a field name"),
        ("name IN 'a'", 8, "expected '(' after IN"),
        ("name NOT IN 'a'", 12, "expected '(' after NOT IN"),
        ("name IN ('a' 'b')", 13, "expected ',' or ')'"),
        ("name IN ('a',)", 13, "expected a quoted string or a number"),
        ("name IN ()", 9, "expected a quoted string or a number"),
        ("name IN ('a'", 12, "expected ',' or ')'"),
        ("name = 7", 7, "name takes a quoted string"),
        ("tags.team = 7", 12, "takes a quoted string"),
        ("version = '7'", 10, "version takes a whole number"),
        ("version = 1.5", 10, "version takes a whole number"),
        (f"version = {MAX_VERSION_NUMBER + 1}", 10, "version"),
        (f"version > -{MAX_VERSION_NUMBER + 1}", 10, "version"),
        ("version = 99999999999999999999999", 10, "version"),
        ("version IN (1, 2.5)", 15, "whole number"),
        ("created_at > 'yesterday'", 13, "ISO 8601"),
        ("created_at > '2026-13-01'", 13, "ISO 8601"),
        ("updated_at < 12", 13, "ISO 8601"),
        ("created_at IN ('2026-01-01', 'soon')", 29, "ISO 8601"),
        ("created_at > '9999-12-31T23:59:59-01:00'", 13, "ISO 8601"),
        ("created_at > '0001-01-01T00:00:00+01:00'", 13, "ISO 8601"),
        ("version LIKE 1", 8, "LIKE compares text"),
        ("version ILIKE 1", 8, "ILIKE compares text"),
        ("created_at LIKE '2026-01-01'", 11, "LIKE compares text"),
        ("name = 'a' AND version LIKE 2", 23, "LIKE compares text"),
        ("description LIKE 'abc\\'", 17, "LIKE pattern ends in a lone '\\'"),
        ("name ILIKE '\\'", 11, "ILIKE pattern ends in a lone"),
        ("name LIKE '\\\\\\'", 10, "ends in a lone"),
        ("name ~ 'a'", 5, "unexpected character '~'"),
        ("name = 'a' && version = 1", 11, "unexpected character '&'"),
        ("name = 1e5", 7, "unexpected character '1'"),
        ("name = 'a'; DROP TABLE models", 10, "unexpected character ';'"),
    ],
)
def test_errors_point_at_the_offending_position(text: str, position: int, says: str) -> None:
    err = error_of(text)
    assert err.details["position"] == position, err.message
    assert says in err.message
    assert f"position {position}" in err.message
    assert err.details["filter"] == text
    assert err.details["pointer"].splitlines()[-1] == " " * position + "^"


def test_nul_character_is_refused_at_its_position() -> None:
    err = error_of("name = 'a\x00b'")
    assert err.details["position"] == 9
    assert "NUL" in err.message


def test_filter_longer_than_the_maximum_is_refused() -> None:
    err = error_of("name = '" + "a" * MAX_FILTER_LENGTH + "'")
    assert err.details["position"] == MAX_FILTER_LENGTH


def test_deep_nesting_is_refused_not_a_crash() -> None:
    depth = 1000
    err = error_of("(" * depth + "name = 'a'" + ")" * depth)
    assert "nested" in err.message
    assert 0 < err.details["position"] < depth


def test_at_most_max_comparisons_and_the_next_is_refused_where_it_starts() -> None:
    unit = "tags.a = 'x'"
    allowed = " AND ".join([unit] * MAX_COMPARISONS)
    node = parse_filter(allowed)
    assert isinstance(node, BoolOp)
    assert len(node.items) == MAX_COMPARISONS
    err = error_of(allowed + " OR " + unit)
    assert err.details["position"] == len(allowed) + len(" OR ")
    assert "IN" in err.message


def test_moderate_nesting_parses() -> None:
    assert strip(parse_filter("(" * 20 + "name = 'a'" + ")" * 20)) == cmp("name", "=", "a")
