"""References: how users name a version.

    namespace/name            the latest version
    namespace/name@7          version number 7
    namespace/name@champion   an alias
    namespace/name@production the newest version in a stage
    namespace/name@latest     the newest version that is not archived
    namespace/name@sha256:<64 hex>  the version whose manifest has this digest

``parse_reference`` turns the text into a ``Reference``; the services resolve it against the
database. API, SDK and CLI all go through this one parser. A name that is not one of the
built-in stages parses as an alias; resolving it falls back to a stage of that name (one the
policy adds, ``@canary``) when the model has no such alias (services/references.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.lifecycle import DEFAULT_STAGES, MAX_VERSION_NUMBER
from modelyard.domain.names import ALIAS_RE, check_name

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}\Z")  # \Z: "$" would accept a trailing newline


class RefKind(StrEnum):
    LATEST = "latest"
    NUMBER = "number"
    ALIAS = "alias"
    STAGE = "stage"
    DIGEST = "digest"


@dataclass(frozen=True)
class Reference:
    namespace: str
    name: str
    kind: RefKind
    value: str

    @property
    def model(self) -> str:
        return f"{self.namespace}/{self.name}"

    def __str__(self) -> str:
        return f"{self.model}@{self.value}"


def _invalid(text: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        "REFERENCE_INVALID",
        f"invalid reference {text!r}: {why}; "
        "expected namespace/name[@version|alias|stage|latest|sha256:…]",
        reference=text,
    )


def parse_model_name(text: str) -> tuple[str, str]:
    """Split ``namespace/name`` and check both parts."""
    parts = text.split("/")
    if len(parts) != 2:
        raise _invalid(text, "a model is named namespace/name")
    return check_name("namespace", parts[0]), check_name("model", parts[1])


def parse_reference(text: str, stages: tuple[str, ...] = DEFAULT_STAGES) -> Reference:
    model, sep, ref = text.partition("@")
    try:
        namespace, name = parse_model_name(model)
    except InvalidInputError as exc:
        raise _invalid(text, exc.message) from exc
    if not sep or ref == "latest":
        return Reference(namespace, name, RefKind.LATEST, "latest")
    return Reference(namespace, name, _kind_of(text, ref, stages), ref)


def _kind_of(text: str, ref: str, stages: tuple[str, ...]) -> RefKind:
    if ref.isdigit() and ref.isascii():
        # Length first: int() refuses strings of over 4300 digits with a ValueError.
        if len(ref) > 10 or not 1 <= int(ref) <= MAX_VERSION_NUMBER:
            raise _invalid(text, f"version numbers run from 1 to {MAX_VERSION_NUMBER}")
        return RefKind.NUMBER
    if ref.startswith("sha256:"):
        if not DIGEST_RE.match(ref):
            raise _invalid(text, "a digest is sha256: and 64 lower-case hex digits")
        return RefKind.DIGEST
    if ref in stages:
        return RefKind.STAGE
    if ALIAS_RE.match(ref):
        return RefKind.ALIAS
    raise _invalid(text, f"{ref!r} is not a version number, alias, stage or digest")
