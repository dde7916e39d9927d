"""Naming rules for namespaces, models, aliases and tag keys.

One rule, enforced here, before anything reaches a database, so SQLite and PostgreSQL behave
identically (no collation or case-folding differences can arise: names are lower case ASCII).

    namespace, model   ^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$     1-64 chars, no ".."
    alias              ^[a-z][a-z0-9_-]{0,62}$                       starts with a letter
    tag key            ^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$          1-128 chars

The patterns end in ``\\Z``, not ``$``: ``$`` also matches before a trailing newline, which
would let ``"name\\n"`` through.
"""

from __future__ import annotations

import re

from modelyard.domain.errors import InvalidInputError

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?\Z")
ALIAS_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}\Z")
TAG_KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}\Z")
TAG_VALUE_MAX = 5000

NAME_RULE = (
    "1-64 characters: lower-case letters, digits, '.', '_' and '-'; "
    "starting and ending with a letter or digit; no '..'"
)


def check_name(kind: str, value: str) -> str:
    """Return ``value`` if it is a valid namespace or model name, else raise NAME_INVALID."""
    if not NAME_RE.match(value) or ".." in value:
        raise InvalidInputError(
            "NAME_INVALID", f"invalid {kind} name {value!r}: {NAME_RULE}", kind=kind, value=value
        )
    return value


def check_alias(value: str, reserved: frozenset[str]) -> str:
    if value.isascii() and value.isdigit():  # ``@7`` always means version 7
        raise InvalidInputError(
            "ALIAS_RESERVED", f"alias {value!r} is reserved: numbers name versions", value=value
        )
    if not ALIAS_RE.match(value):
        raise InvalidInputError(
            "NAME_INVALID",
            f"invalid alias {value!r}: 1-63 characters, lower-case letters, digits, '_' and '-', "
            "starting with a letter",
            kind="alias",
            value=value,
        )
    if value in reserved:
        raise InvalidInputError(
            "ALIAS_RESERVED", f"alias {value!r} is reserved", value=value, reserved=sorted(reserved)
        )
    return value


def check_tag(key: str, value: str) -> None:
    if not TAG_KEY_RE.match(key):
        raise InvalidInputError(
            "NAME_INVALID",
            f"invalid tag key {key!r}: 1-128 characters from A-Z a-z 0-9 _ . : / -",
            kind="tag",
            value=key,
        )
    if len(value) > TAG_VALUE_MAX:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"tag {key!r} value is longer than {TAG_VALUE_MAX} characters"
        )


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        check_tag(key, value)
    return tags
