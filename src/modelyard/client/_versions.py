"""Versions (``namespace/name@REF``): create, read, update, archive, tags, search, resolve.

Methods that act on one version take a reference. A version number goes straight to the
version's URL; any other REF (alias, stage, ``latest``, digest) is resolved first, which costs
one more request and acts on the version the reference named at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from modelyard.client import _records as records
from modelyard.client._http import Http, segment
from modelyard.client._models import model_path
from modelyard.client._pages import every_item
from modelyard.domain.records import Page, Version
from modelyard.domain.references import RefKind, parse_reference

_decode_page = partial(records.page, item=records.version)


def _search_params(
    filter: str | None,
    q: str | None,
    order_by: str | None,
    page_size: int | None,
    page_token: str | None,
    include_archived: bool,
) -> dict[str, Any]:
    return {
        "filter": filter,
        "q": q,
        "order_by": order_by,
        "page_size": page_size,
        "page_token": page_token,
        "include_archived": include_archived,
    }


class VersionsMixin:
    _http: Http

    def create_version(
        self,
        model: str,
        description: str = "",
        tags: dict[str, str] | None = None,
        metrics: dict[str, float] | None = None,
    ) -> Version:
        """Create the next version (number n+1) of ``namespace/name``."""
        body = {"description": description, "tags": tags or {}, "metrics": metrics or {}}
        return self._http.call("POST", model_path(model) + "/versions", records.version, json=body)

    def resolve(self, reference: str) -> Version:
        """The version ``namespace/name@REF`` names (REF: number, alias, stage, latest, digest)."""
        parse_reference(reference)  # REFERENCE_INVALID here, before any request
        params = {"ref": reference}
        return self._http.call("GET", "/api/v1/resolve", records.version, params=params)

    def get_version(self, reference: str) -> Version:
        """Like ``resolve``; raises ``NotFoundError`` (VERSION_NOT_FOUND, ALIAS_NOT_FOUND)."""
        ref = parse_reference(reference)
        if ref.kind is not RefKind.NUMBER:
            return self.resolve(reference)
        path = f"{model_path(ref.model)}/versions/{ref.value}"
        return self._http.call("GET", path, records.version)

    def list_versions(
        self,
        model: str,
        filter: str | None = None,
        q: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        include_archived: bool = False,
    ) -> Page[Version]:
        """One page of a model's versions, newest first unless ``order_by`` says otherwise."""
        params = _search_params(filter, q, order_by, page_size, page_token, include_archived)
        path = model_path(model) + "/versions"
        return self._http.call("GET", path, _decode_page, params=params)

    def search_versions(
        self,
        filter: str | None = None,
        q: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        include_archived: bool = False,
    ) -> Page[Version]:
        """One page of versions of every model matching the filter and free text ``q``."""
        params = _search_params(filter, q, order_by, page_size, page_token, include_archived)
        return self._http.call("GET", "/api/v1/versions", _decode_page, params=params)

    def iter_versions(
        self,
        model: str | None = None,
        filter: str | None = None,
        q: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        include_archived: bool = False,
    ) -> Iterator[Version]:
        """Every matching version: of ``model`` if given, else of every model."""
        args = (filter, q, order_by, page_size)
        if model is not None:
            of_model = partial(self.list_versions, model, *args)
            return every_item(lambda token: of_model(token, include_archived))
        search = partial(self.search_versions, *args)
        return every_item(lambda token: search(token, include_archived))

    def update_version(
        self,
        reference: str,
        description: str | None = None,
        metrics: dict[str, float] | None = None,
    ) -> Version:
        """Change the description and merge ``metrics`` into the version's metrics."""
        body: dict[str, Any] = {"description": description, "metrics": metrics}
        body = {k: v for k, v in body.items() if v is not None}
        return self._http.call("PATCH", self._version_path(reference), records.version, json=body)

    def archive_version(self, reference: str) -> Version:
        """Archive: left out of ``latest``, stages and default searches; never deleted."""
        path = self._version_path(reference) + "/archive"
        return self._http.call("POST", path, records.version)

    def set_version_tag(self, reference: str, key: str, value: str) -> Version:
        """Set (add or replace) one tag on a version."""
        path = f"{self._version_path(reference)}/tags/{segment(key)}"
        return self._http.call("PUT", path, records.version, json={"value": value})

    def remove_version_tag(self, reference: str, key: str) -> Version:
        """Raises ``NotFoundError`` (TAG_NOT_FOUND) if the version has no such tag."""
        path = f"{self._version_path(reference)}/tags/{segment(key)}"
        return self._http.call("DELETE", path, records.version)

    def _version_path(self, reference: str) -> str:
        ref = parse_reference(reference)
        number = ref.value if ref.kind is RefKind.NUMBER else self.resolve(reference).version
        return f"{model_path(ref.model)}/versions/{number}"
