from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    OrderItem,
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    fingerprint,
    parse_order_by,
)

ALLOWED = ("name", "namespace", "created_at", "updated_at", "version", "risk")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, DEFAULT_PAGE_SIZE),
        (1, 1),
        (7, 7),
        (MAX_PAGE_SIZE, MAX_PAGE_SIZE),
        (MAX_PAGE_SIZE + 1, MAX_PAGE_SIZE),
        (10**9, MAX_PAGE_SIZE),
        (0, 1),
        (-5, 1),
    ],
)
def test_page_size_is_clamped(given: int | None, expected: int) -> None:
    assert clamp_page_size(given) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name", (OrderItem("name"),)),
        ("name ASC", (OrderItem("name"),)),
        ("name desc", (OrderItem("name", True),)),
        ("NAME Desc", (OrderItem("name", True),)),
        (
            "updated_at DESC, name",
            (OrderItem("updated_at", True), OrderItem("name")),
        ),
        (
            "  risk  DESC ,version,created_at asc ",
            (OrderItem("risk", True), OrderItem("version"), OrderItem("created_at")),
        ),
    ],
)
def test_parse_order_by(text: str, expected: tuple[OrderItem, ...]) -> None:
    assert parse_order_by(text, ALLOWED, "name") == expected


@pytest.mark.parametrize("field", ALLOWED)
def test_every_allowed_field_orders_both_ways(field: str) -> None:
    assert parse_order_by(f"{field} DESC", ALLOWED, "name") == (OrderItem(field, True),)
    assert parse_order_by(f"{field} ASC", ALLOWED, "name") == (OrderItem(field, False),)


@pytest.mark.parametrize("text", [None, ""])
def test_missing_order_by_uses_the_default(text: str | None) -> None:
    assert parse_order_by(text, ALLOWED, "created_at DESC") == (OrderItem("created_at", True),)


@pytest.mark.parametrize(
    "text",
    [
        "colour",
        "description",
        "tags.team",
        "name sideways",
        "name DESC extra",
        "name,",
        ",name",
        "name,,version",
        " ",
        "name, name DESC",
        "name; DROP TABLE models",
    ],
)
def test_bad_order_by_is_refused_with_the_allowed_fields(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_order_by(text, ALLOWED, "name")
    assert info.value.code == "ORDER_BY_INVALID"
    assert info.value.details == {"order_by": text, "allowed": list(ALLOWED)}


def test_order_by_limits_to_the_allowed_fields_of_the_query() -> None:
    with pytest.raises(InvalidInputError):
        parse_order_by("version", ("name",), "name")


def test_fingerprint_differs_per_query_and_is_stable() -> None:
    assert fingerprint("models", "name = 'a'", None) == fingerprint("models", "name = 'a'", None)
    assert fingerprint("models", "name = 'a'", None) != fingerprint("models", "name = 'b'", None)
    assert fingerprint("models", None) != fingerprint("versions", None)


@pytest.mark.parametrize(
    "key",
    [
        ("fraud", "00000000-0000-0000-0000-000000000001"),
        (3, 42, "id"),
        (datetime(2026, 11, 27, 10, 0, 0, 123456, tzinfo=UTC), "id"),
        ("ünïcödé/ünïcödé", "id"),
        ((), "id")[1:],
    ],
)
def test_page_token_round_trips_its_key(key: tuple[object, ...]) -> None:
    token = encode_page_token(key, "fp")
    assert decode_page_token(token, "fp", len(key)) == key


def test_page_token_is_url_safe_and_opaque() -> None:
    token = encode_page_token(("a/b?c&d=e", "id"), "fp")
    assert all(c.isalnum() or c in "-_" for c in token)
    assert "a/b" not in token


def test_page_token_from_another_query_is_refused() -> None:
    token = encode_page_token(("fraud", "id"), fingerprint("models", "name = 'a'"))
    with pytest.raises(InvalidInputError) as info:
        decode_page_token(token, fingerprint("models", "name = 'b'"), 2)
    assert info.value.code == "PAGE_TOKEN_INVALID"


def test_page_token_with_another_key_width_is_refused() -> None:
    token = encode_page_token(("fraud", "id"), "fp")
    with pytest.raises(InvalidInputError) as info:
        decode_page_token(token, "fp", 3)
    assert info.value.code == "PAGE_TOKEN_INVALID"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a token",
        "!!!!",
        "é",
        _b64(b"\xff\xfe"),
        _b64(b"null"),
        _b64(b"[]"),
        _b64(b'"string"'),
        _b64(b'{"k": 5, "q": "fp"}'),
        _b64(b'{"k": ["a"]}'),
        _b64(b'{"q": "fp"}'),
        _b64(b'{"k": [{"t": "not a time"}], "q": "fp"}'),
        _b64(b'{"k": [{"t": 5}], "q": "fp"}'),
        pytest.param(
            _b64(b'{"k": ' + b"[" * 3000 + b"]" * 3000 + b', "q": "fp"}'), id="deeply-nested"
        ),
        encode_page_token(("a",), "fp")[:-3],
    ],
)
def test_malformed_page_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        decode_page_token(token, "fp", 1)
    assert info.value.code == "PAGE_TOKEN_INVALID"


def test_decoded_tokens_reject_the_wrong_fingerprint_even_if_well_formed() -> None:
    raw = json.dumps({"k": ["a"], "q": "someone-elses"}).encode()
    with pytest.raises(InvalidInputError):
        decode_page_token(_b64(raw), "fp", 1)
