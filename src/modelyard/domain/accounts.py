"""Records of identity and access returned by the services (plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class User:
    """A person (``kind='user'``) or a service account (``kind='service'``)."""

    name: str
    kind: str
    display_name: str
    email: str
    admin: bool
    disabled: bool
    owner_namespace: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ApiToken:
    """What may be shown of a token: never the token itself (see ``IssuedToken``)."""

    id: str
    name: str
    user: str
    prefix: str
    last_four: str
    scopes: list[str]
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_by: str
    created_at: datetime

    @property
    def hint(self) -> str:
        return f"{self.prefix}…{self.last_four}"


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``secret`` is the token itself, shown this once and never again."""

    token: ApiToken
    secret: str


@dataclass(frozen=True)
class Member:
    namespace: str
    user: str
    kind: str
    role: str
    capacities: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Identity:
    """Who the caller is (``whoami``): the user, how they signed in, and where they belong."""

    user: User
    via: str
    token: ApiToken | None
    memberships: list[Member]
