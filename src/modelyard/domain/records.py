"""Domain objects returned by services (plain dataclasses; no ORM, no pydantic)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Namespace:
    name: str
    description: str
    archived: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    visibility: str = "private"  # private: members only; internal: every signed-in user


@dataclass(frozen=True)
class Model:
    namespace: str
    name: str
    description: str
    tags: dict[str, str]
    risk_level: str
    risk_reason: str
    aliases: dict[str, int]
    archived: bool
    latest_version: int | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @property
    def full_name(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Version:
    namespace: str
    name: str
    version: int
    description: str
    tags: dict[str, str]
    metrics: dict[str, float]
    stage: str
    status: str
    aliases: list[str]
    risk_level: str
    manifest_digest: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    # Inherited from the datasets it was trained on, directly or through derived_from
    # (services/inheritance.py); computed when read.
    classifications: list[str] = field(default_factory=list)
    revoked_datasets: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return f"{self.namespace}/{self.name}@{self.version}"


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T] = field(default_factory=list)
    next_page_token: str | None = None
