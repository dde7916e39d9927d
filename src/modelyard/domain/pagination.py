"""Keyset pagination: ``page_size`` (clamped) + opaque ``page_token`` -> ``next_page_token``.

A page token carries the sort key of the last row returned and a fingerprint of the query it
belongs to. The next page is "rows strictly after that key" in the same order, so pages never
skip or repeat rows when rows are inserted meanwhile (unlike OFFSET). A token reused with another
query, or tampered with, is refused with PAGE_TOKEN_INVALID.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from modelyard.domain.errors import InvalidInputError

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000

ORDERABLE = ("name", "namespace", "created_at", "updated_at", "version", "risk")


@dataclass(frozen=True)
class OrderItem:
    field: str
    descending: bool = False


def clamp_page_size(page_size: int | None) -> int:
    if page_size is None:
        return DEFAULT_PAGE_SIZE
    return max(1, min(MAX_PAGE_SIZE, page_size))


def parse_order_by(
    text: str | None, allowed: tuple[str, ...], default: str
) -> tuple[OrderItem, ...]:
    """``"updated_at DESC, name"`` -> order items. Unknown fields get ORDER_BY_INVALID."""
    items: list[OrderItem] = []
    for part in (text or default).split(","):
        words = part.split()
        if not words or len(words) > 2:
            raise _order_error(text, "each item is FIELD [ASC|DESC]", allowed)
        field = words[0].lower()
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if field not in allowed or direction not in ("ASC", "DESC"):
            raise _order_error(text, f"cannot order by {part.strip()!r}", allowed)
        if any(item.field == field for item in items):
            raise _order_error(text, f"{field!r} appears twice", allowed)
        items.append(OrderItem(field, direction == "DESC"))
    return tuple(items)


def _order_error(text: str | None, why: str, allowed: tuple[str, ...]) -> InvalidInputError:
    return InvalidInputError(
        "ORDER_BY_INVALID",
        f"invalid order_by {text!r}: {why}; fields: {', '.join(allowed)} with ASC or DESC",
        order_by=text,
        allowed=list(allowed),
    )


def fingerprint(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _encode_value(value: Any) -> Any:
    return {"t": value.isoformat()} if isinstance(value, datetime) else value


# Every integer sort key (version number, risk rank) lives in a 32-bit column; a larger value
# from a forged token would overflow the database driver (a 500) instead of matching nothing.
_INT_KEY_RANGE = range(-(2**31), 2**31)


def _decode_value(value: Any) -> Any:
    """A token is client input: refuse values no database can compare (ValueError)."""
    if isinstance(value, dict) and set(value) == {"t"}:
        when = datetime.fromisoformat(value["t"])
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    if isinstance(value, int) and value not in _INT_KEY_RANGE:
        raise ValueError("integer sort key out of range")
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL in a sort key")
    return value


def encode_page_token(key: tuple[Any, ...], query_fingerprint: str) -> str:
    payload = {"k": [_encode_value(v) for v in key], "q": query_fingerprint}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str, query_fingerprint: str, width: int) -> tuple[Any, ...]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        key = tuple(_decode_value(v) for v in payload["k"])
        ok = payload["q"] == query_fingerprint and len(key) == width
    # RecursionError: deeply nested JSON; OverflowError: a time that leaves the calendar in UTC
    except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
        ok = False
    if not ok:
        raise InvalidInputError(
            "PAGE_TOKEN_INVALID", "page_token does not belong to this query; start from page one"
        )
    return key
