"""Models (``namespace/name``): metadata, risk level, tags, aliases, and search over models."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from modelyard.client import _records as records
from modelyard.client._http import Http, segment
from modelyard.client._pages import every_item
from modelyard.domain.records import Model, Page
from modelyard.domain.references import parse_model_name

ROOT = "/api/v1/models"


def model_path(name: str) -> str:
    """``/api/v1/models/ns/name`` for ``ns/name``; REFERENCE_INVALID or NAME_INVALID if not."""
    namespace, model = parse_model_name(name)
    return f"{ROOT}/{namespace}/{model}"


class ModelsMixin:
    _http: Http

    def create_model(
        self, name: str, description: str = "", tags: dict[str, str] | None = None
    ) -> Model:
        """Register ``namespace/name``. Raises ``ConflictError`` (MODEL_EXISTS) if it exists."""
        namespace, model = parse_model_name(name)
        body = {"namespace": namespace, "name": model, "description": description}
        return self._http.call("POST", ROOT, records.model, json={**body, "tags": tags or {}})

    def get_model(self, name: str) -> Model:
        """Raises ``NotFoundError`` (MODEL_NOT_FOUND)."""
        return self._http.call("GET", model_path(name), records.model)

    def update_model(self, name: str, description: str | None = None) -> Model:
        """Change the description (markdown); ``None`` leaves it as it is."""
        body = {"description": description} if description is not None else {}
        return self._http.call("PATCH", model_path(name), records.model, json=body)

    def archive_model(self, name: str) -> Model:
        """Archive (never delete): an archived model accepts no changes."""
        return self._http.call("POST", model_path(name) + "/archive", records.model)

    def set_model_risk(self, name: str, level: str, reason: str) -> Model:
        """Set the risk level (``unassessed``, ``low``, ``medium``, ``high``) with a reason."""
        body = {"level": level, "reason": reason}
        return self._http.call("PUT", model_path(name) + "/risk", records.model, json=body)

    def search_models(
        self,
        filter: str | None = None,
        q: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
        include_archived: bool = False,
    ) -> Page[Model]:
        """One page of models matching the filter language and free text ``q``."""
        params = {
            "filter": filter,
            "q": q,
            "order_by": order_by,
            "page_size": page_size,
            "page_token": page_token,
            "include_archived": include_archived,
        }
        decode = partial(records.page, item=records.model)
        return self._http.call("GET", ROOT, decode, params=params)

    def iter_models(
        self,
        filter: str | None = None,
        q: str | None = None,
        order_by: str | None = None,
        page_size: int | None = None,
        include_archived: bool = False,
    ) -> Iterator[Model]:
        """Every matching model, fetching pages as the iteration needs them."""
        search = partial(self.search_models, filter, q, order_by, page_size)
        return every_item(lambda token: search(token, include_archived))

    def set_model_tag(self, name: str, key: str, value: str) -> Model:
        """Set (add or replace) one tag on a model."""
        path = f"{model_path(name)}/tags/{segment(key)}"
        return self._http.call("PUT", path, records.model, json={"value": value})

    def remove_model_tag(self, name: str, key: str) -> Model:
        """Raises ``NotFoundError`` (TAG_NOT_FOUND) if the model has no such tag."""
        path = f"{model_path(name)}/tags/{segment(key)}"
        return self._http.call("DELETE", path, records.model)

    def set_alias(self, name: str, alias: str, version: int) -> Model:
        """Point ``alias`` at a version number, moving it if it pointed elsewhere."""
        path = f"{model_path(name)}/aliases/{segment(alias)}"
        return self._http.call("PUT", path, records.model, json={"version": version})

    def remove_alias(self, name: str, alias: str) -> Model:
        """Raises ``NotFoundError`` (ALIAS_NOT_FOUND) if the model has no such alias."""
        path = f"{model_path(name)}/aliases/{segment(alias)}"
        return self._http.call("DELETE", path, records.model)
