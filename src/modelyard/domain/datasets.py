"""Registered datasets: ``namespace/name@version`` references, classifications, status.

    namespace/name@version   one registered dataset version, e.g. risk-team/transactions@2026-10
    namespace/name           its newest active version (pinned when a version records it)

A dataset version's uri and digest never change. Its classifications (``pii``,
``special-category``, ``confidential``…) may be corrected, and every version trained on it
(directly or through ``derived_from``) inherits them at once: inheritance is computed when read,
never copied. ``revoked`` (with a reason) flags every such version.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.names import check_name

DATASET_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
CLASSIFICATION_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}\Z")
STATUSES: tuple[str, ...] = ("active", "revoked")
WELL_KNOWN_CLASSIFICATIONS: tuple[str, ...] = (
    "pii",
    "special-category",
    "confidential",
    "public",
    "restricted",
)
MAX_CLASSIFICATIONS = 20


@dataclass(frozen=True)
class DatasetRef:
    namespace: str
    name: str
    version: str | None  # None: the newest active version

    def __str__(self) -> str:
        base = f"{self.namespace}/{self.name}"
        return base if self.version is None else f"{base}@{self.version}"


def _invalid(text: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        "REFERENCE_INVALID",
        f"invalid dataset reference {text!r}: {why}; expected namespace/name[@version]",
        reference=text,
    )


def check_dataset_version(value: str) -> str:
    if not isinstance(value, str) or not DATASET_VERSION_RE.match(value):
        raise InvalidInputError(
            "NAME_INVALID",
            f"invalid dataset version {str(value)[:100]!r}: 1-64 characters from A-Z a-z 0-9"
            " . _ -, starting with a letter or digit",
            kind="dataset version",
            value=str(value)[:100],
        )
    return value


def parse_dataset_ref(text: str) -> DatasetRef:
    base, sep, version = text.partition("@")
    parts = base.split("/")
    if len(parts) != 2:
        raise _invalid(text, "a dataset is named namespace/name")
    try:
        namespace, name = check_name("namespace", parts[0]), check_name("dataset", parts[1])
        return DatasetRef(namespace, name, check_dataset_version(version) if sep else None)
    except InvalidInputError as exc:
        raise _invalid(text, exc.message) from exc


def check_classifications(values: Iterable[str]) -> tuple[str, ...]:
    """Sorted and deduplicated; each one a short lower-case word (``pii``)."""
    found = sorted(set(values))
    if len(found) > MAX_CLASSIFICATIONS:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"at most {MAX_CLASSIFICATIONS} classifications"
        )
    for value in found:
        if not isinstance(value, str) or not CLASSIFICATION_RE.match(value):
            raise InvalidInputError(
                "NAME_INVALID",
                f"invalid classification {str(value)[:100]!r}: 1-32 characters, lower-case"
                " letters, digits and '-', starting with a letter",
                kind="classification",
                value=str(value)[:100],
            )
    return tuple(found)


@dataclass(frozen=True)
class Dataset:
    namespace: str
    name: str
    version: str
    uri: str
    digest: str | None
    size: int | None
    owner: str
    licence: str
    description: str
    classifications: tuple[str, ...]
    status: str
    revoked_reason: str
    revoked_at: datetime | None
    revoked_by: str
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def reference(self) -> str:
        return f"{self.namespace}/{self.name}@{self.version}"

    @property
    def revoked(self) -> bool:
        return self.status == "revoked"
