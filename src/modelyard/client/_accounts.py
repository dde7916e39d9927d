"""Wire JSON -> identity records (``modelyard.domain.accounts``), with datetimes parsed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelyard.domain.accounts import ApiToken, Identity, IssuedToken, Member, User
from modelyard.domain.records import Page


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def user(data: dict[str, Any]) -> User:
    return User(
        name=data["name"],
        kind=data["kind"],
        display_name=data["display_name"],
        email=data["email"],
        admin=data["admin"],
        disabled=data["disabled"],
        owner_namespace=data.get("owner_namespace"),
        created_by=data["created_by"],
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
    )


def users_page(data: dict[str, Any]) -> Page[User]:
    return Page([user(u) for u in data["items"]], data.get("next_page_token"))


def token(data: dict[str, Any]) -> ApiToken:
    prefix, _, last_four = str(data["hint"]).partition("…")
    return ApiToken(
        id=data["id"],
        name=data["name"],
        user=data["user"],
        prefix=prefix,
        last_four=last_four,
        scopes=list(data["scopes"]),
        expires_at=_time(data.get("expires_at")),
        revoked_at=_time(data.get("revoked_at")),
        last_used_at=_time(data.get("last_used_at")),
        created_by=data["created_by"],
        created_at=datetime.fromisoformat(data["created_at"]),
    )


def tokens(data: list[dict[str, Any]]) -> list[ApiToken]:
    return [token(t) for t in data]


def issued(data: dict[str, Any]) -> IssuedToken:
    return IssuedToken(token(data), str(data["token"]))


def member(data: dict[str, Any]) -> Member:
    return Member(
        data["namespace"], data["user"], data["kind"], data["role"], list(data["capacities"])
    )


def members(data: list[dict[str, Any]]) -> list[Member]:
    return [member(m) for m in data]


def identity(data: dict[str, Any]) -> Identity:
    return Identity(
        user=user(data["user"]),
        via=data["via"],
        token=token(data["token"]) if data.get("token") else None,
        memberships=members(data["memberships"]),
    )
