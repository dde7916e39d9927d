"""Users, service accounts, tokens, teams (members, capacities, visibility) and whoami."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from modelyard.client import _accounts as accounts
from modelyard.client import _records as records
from modelyard.client._http import Http, segment
from modelyard.client._pages import every_item
from modelyard.domain.accounts import ApiToken, Identity, IssuedToken, Member, User
from modelyard.domain.records import Namespace, Page

API = "/api/v1"


def _user(name: str) -> str:
    return f"{API}/users/{segment(name)}"


def _members(namespace: str, user: str | None = None) -> str:
    path = f"{API}/namespaces/{segment(namespace)}/members"
    return path if user is None else f"{path}/{segment(user)}"


class IdentityMixin:
    _http: Http

    def whoami(self) -> Identity:
        """The caller: user, how they signed in (token scopes), namespaces, roles, capacities."""
        return self._http.call("GET", f"{API}/whoami", accounts.identity)

    # ----------------------------------------------------------------------------- users

    def create_user(
        self,
        name: str,
        password: str | None = None,
        display_name: str = "",
        email: str = "",
        admin: bool = False,
    ) -> User:
        """Create a person (global admins). Without a password they sign in with tokens."""
        body = {"name": name, "display_name": display_name, "email": email, "admin": admin}
        if password is not None:
            body["password"] = password
        return self._http.call("POST", f"{API}/users", accounts.user, json=body)

    def get_user(self, name: str) -> User:
        """Raises ``NotFoundError`` (USER_NOT_FOUND)."""
        return self._http.call("GET", _user(name), accounts.user)

    def list_users(
        self, kind: str | None = None, page_size: int | None = None, page_token: str | None = None
    ) -> Page[User]:
        """One page of users by name; ``kind`` ``user`` or ``service`` narrows it."""
        params = {"kind": kind, "page_size": page_size, "page_token": page_token}
        return self._http.call("GET", f"{API}/users", accounts.users_page, params=params)

    def iter_users(self, kind: str | None = None, page_size: int | None = None) -> Iterator[User]:
        return every_item(partial(self.list_users, kind, page_size))

    def update_user(
        self, name: str, display_name: str | None = None, email: str | None = None
    ) -> User:
        body = {
            k: v for k, v in {"display_name": display_name, "email": email}.items() if v is not None
        }
        return self._http.call("PATCH", _user(name), accounts.user, json=body)

    def set_password(self, name: str, password: str, current_password: str | None = None) -> None:
        """Your own (give ``current_password``), or anyone's as a global admin."""
        body = {"password": password, "current_password": current_password}
        self._http.call("PUT", _user(name) + "/password", _nothing, json=body)

    def set_admin(self, name: str, admin: bool) -> User:
        """Make or unmake a global admin (one always remains: LAST_ADMIN)."""
        return self._http.call("PUT", _user(name) + "/admin", accounts.user, json={"admin": admin})

    def disable_user(self, name: str) -> User:
        """Sessions end and tokens are refused from the next request."""
        return self._http.call("POST", _user(name) + "/disable", accounts.user)

    def enable_user(self, name: str) -> User:
        return self._http.call("POST", _user(name) + "/enable", accounts.user)

    def create_service_account(
        self, name: str, namespace: str, role: str = "contributor", display_name: str = ""
    ) -> User:
        """A machine user for CI, owned by ``namespace`` (whose admins manage it)."""
        body = {"name": name, "namespace": namespace, "role": role, "display_name": display_name}
        return self._http.call("POST", f"{API}/service-accounts", accounts.user, json=body)

    # ---------------------------------------------------------------------------- tokens

    def create_token(
        self,
        name: str,
        scopes: list[str] | None = None,
        expires_in_days: int | None = None,
        expires_at: datetime | None = None,
        service_account: str | None = None,
    ) -> IssuedToken:
        """A new token (``.secret`` is shown this once). Scopes ``ACTION:*``,
        ``ACTION:namespace`` or ``ACTION:namespace/model``; none: your full rights."""
        body: dict[str, Any] = {"name": name, "scopes": scopes or []}
        if expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        if expires_at is not None:
            body["expires_at"] = expires_at.isoformat()
        path = f"{API}/tokens"
        if service_account is not None:
            path = f"{API}/service-accounts/{segment(service_account)}/tokens"
        return self._http.call("POST", path, accounts.issued, json=body)

    def list_tokens(self, user: str | None = None, include_revoked: bool = False) -> list[ApiToken]:
        """Your tokens, or another account's you manage (never the tokens themselves)."""
        params = {"user": user, "include_revoked": include_revoked or None}
        return self._http.call("GET", f"{API}/tokens", accounts.tokens, params=params)

    def revoke_token(self, token_id: str) -> ApiToken:
        """Refused by the server from the next request on."""
        return self._http.call("DELETE", f"{API}/tokens/{segment(token_id)}", accounts.token)

    # ----------------------------------------------------------------------------- teams

    def list_members(self, namespace: str) -> list[Member]:
        return self._http.call("GET", _members(namespace), accounts.members)

    def set_member(self, namespace: str, user: str, role: str) -> Member:
        """Add ``user`` with ``role`` (viewer, contributor, maintainer, admin), or change it."""
        path = _members(namespace, user)
        return self._http.call("PUT", path, accounts.member, json={"role": role})

    def remove_member(self, namespace: str, user: str) -> None:
        self._http.call("DELETE", _members(namespace, user), _nothing)

    def grant_capacity(self, namespace: str, user: str, capacity: str) -> Member:
        """Let a member review as ``capacity`` (technical, business, legal, …)."""
        path = f"{_members(namespace, user)}/capacities/{segment(capacity)}"
        return self._http.call("PUT", path, accounts.member)

    def revoke_capacity(self, namespace: str, user: str, capacity: str) -> Member:
        path = f"{_members(namespace, user)}/capacities/{segment(capacity)}"
        return self._http.call("DELETE", path, accounts.member)

    def set_visibility(self, namespace: str, visibility: str) -> Namespace:
        """``private`` (members only) or ``internal`` (every signed-in user reads it)."""
        path = f"{API}/namespaces/{segment(namespace)}/visibility"
        return self._http.call("PUT", path, records.namespace, json={"visibility": visibility})

    def capacities(self) -> list[str]:
        """The reviewer capacities the server defines."""
        return self._http.call("GET", f"{API}/capacities", lambda d: list(d["capacities"]))


def _nothing(_: Any) -> None:
    return None
