"""Namespaces: a team's space that owns models."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from modelyard.client import _records as records
from modelyard.client._http import Http, segment
from modelyard.client._pages import every_item
from modelyard.domain.records import Namespace, Page

ROOT = "/api/v1/namespaces"


def _path(name: str) -> str:
    return f"{ROOT}/{segment(name)}"


class NamespacesMixin:
    _http: Http

    def create_namespace(
        self, name: str, description: str = "", visibility: str | None = None
    ) -> Namespace:
        """Create a namespace (you become its admin). ``visibility``: ``private`` (members
        only, the server's default) or ``internal`` (every signed-in user reads it). Raises
        ``ConflictError`` (NAMESPACE_EXISTS) if it exists."""
        body = {"name": name, "description": description}
        if visibility is not None:
            body["visibility"] = visibility
        return self._http.call("POST", ROOT, records.namespace, json=body)

    def get_namespace(self, name: str) -> Namespace:
        """Raises ``NotFoundError`` (NAMESPACE_NOT_FOUND)."""
        return self._http.call("GET", _path(name), records.namespace)

    def list_namespaces(
        self, page_size: int | None = None, page_token: str | None = None
    ) -> Page[Namespace]:
        """One page of namespaces, by name; pass ``next_page_token`` back for the next."""
        params = {"page_size": page_size, "page_token": page_token}
        return self._http.call(
            "GET", ROOT, partial(records.page, item=records.namespace), params=params
        )

    def iter_namespaces(self, page_size: int | None = None) -> Iterator[Namespace]:
        """Every namespace, fetching pages as the iteration needs them."""
        return every_item(partial(self.list_namespaces, page_size))

    def update_namespace(self, name: str, description: str | None = None) -> Namespace:
        """Change the description; ``None`` leaves it as it is."""
        body = {"description": description} if description is not None else {}
        return self._http.call("PATCH", _path(name), records.namespace, json=body)

    def archive_namespace(self, name: str) -> Namespace:
        """Archive (never delete): an archived namespace accepts no new models."""
        return self._http.call("POST", _path(name) + "/archive", records.namespace)
