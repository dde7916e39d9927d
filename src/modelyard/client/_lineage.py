"""Datasets, ingredients, lineage, consumers, metrics, model cards and the inventory.

Dataset references are ``namespace/name@version`` (``namespace/name``: its newest version);
version references are ``namespace/name@REF`` as everywhere in the SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from modelyard.capture.data import fingerprint
from modelyard.client._http import Http, segment
from modelyard.client._models import model_path
from modelyard.client._pages import every_item
from modelyard.domain.checks import CheckResult
from modelyard.domain.datasets import Dataset, parse_dataset_ref
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.ingredients import Completeness, DataUse, PackageUse, Recorded
from modelyard.domain.lineage import Affected, Consumer, Edge, Graph, Impact, Node
from modelyard.domain.metrics import MetricValue, VersionMetrics
from modelyard.domain.records import Page

R = TypeVar("R")
_TIMES = frozenset({"created_at", "updated_at", "revoked_at", "last_seen_at"})


def _build(cls: type[R], raw: dict[str, Any], **nested: Any) -> R:
    """A record from JSON: unknown fields ignored, times parsed, ``nested`` values as given."""
    values = {f.name: raw[f.name] for f in fields(cls) if f.name in raw}  # type: ignore[arg-type]
    for name in _TIMES & values.keys():
        if values[name] is not None:
            values[name] = datetime.fromisoformat(values[name])
    return cls(**{**values, **nested})


def dataset(data: dict[str, Any]) -> Dataset:
    return _build(Dataset, data, classifications=tuple(data["classifications"]))


def graph(data: dict[str, Any]) -> Graph:
    return _build(
        Graph,
        data,
        nodes=[_build(Node, n) for n in data["nodes"]],
        edges=[_build(Edge, e) for e in data["edges"]],
    )


def consumer(data: dict[str, Any]) -> Consumer:
    return _build(Consumer, data)


def recorded(data: dict[str, Any]) -> Recorded:
    report = data["completeness"]
    uses = [_build(DataUse, d, classifications=tuple(d["classifications"])) for d in data["data"]]
    return _build(
        Recorded,
        data,
        data=uses,
        completeness=Completeness(tuple(report["present"]), dict(report["missing"])),
    )


def _metric(data: dict[str, Any]) -> MetricValue:
    return _build(MetricValue, data, value=float(data["value"]))


def _version_metrics(data: dict[str, Any]) -> VersionMetrics:
    return _build(VersionMetrics, data, metrics=[_metric(m) for m in data["metrics"]])


def _each(decode: Callable[[dict[str, Any]], R]) -> Callable[[list[dict[str, Any]]], list[R]]:
    return lambda items: [decode(x) for x in items]


def _dataset_path(reference: str) -> str:
    ref = parse_dataset_ref(reference)
    if ref.version is None:
        raise InvalidInputError(
            "REFERENCE_INVALID", f"name the dataset version: {reference}@VERSION"
        )
    return f"/api/v1/datasets/{segment(ref.namespace)}/{segment(ref.name)}/versions/" + segment(
        ref.version
    )


class DatasetsMixin:
    _http: Http

    def create_dataset(
        self,
        reference: str,
        uri: str = "",
        digest: str | None = None,
        size: int | None = None,
        *,
        path: str | Path | None = None,
        owner: str = "",
        licence: str = "",
        description: str = "",
        classifications: Sequence[str] = (),
    ) -> Dataset:
        """Register ``namespace/name@version``. ``path``: a local file or directory whose
        digest and size are computed here (``modelyard.capture.fingerprint``)."""
        ref = parse_dataset_ref(reference)
        if path is not None:
            found = fingerprint(path)
            digest, size = found.digest, found.size
            uri = uri or Path(path).resolve().as_uri()
        body = {
            "namespace": ref.namespace, "name": ref.name, "version": ref.version, "uri": uri,
            "digest": digest, "size": size, "owner": owner, "licence": licence,
            "description": description, "classifications": list(classifications),
        }  # fmt: skip
        return self._http.call("POST", "/api/v1/datasets", dataset, json=body)

    def get_dataset(self, reference: str) -> Dataset:
        return self._http.call("GET", _dataset_path(reference), dataset)

    def list_datasets(
        self,
        namespace: str | None = None,
        name: str | None = None,
        classification: str | None = None,
        status: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Dataset]:
        params = {"namespace": namespace, "name": name, "classification": classification,
                  "status": status, "page_size": page_size, "page_token": page_token}  # fmt: skip

        def decode(data: dict[str, Any]) -> Page[Dataset]:
            return Page([dataset(x) for x in data["items"]], data.get("next_page_token"))

        return self._http.call("GET", "/api/v1/datasets", decode, params=params)

    def iter_datasets(self, **filters: Any) -> Iterator[Dataset]:
        """Every dataset matching ``filters`` (as ``list_datasets`` takes them)."""
        return every_item(lambda token: self.list_datasets(**filters, page_token=token))

    def update_dataset(
        self,
        reference: str,
        *,
        description: str | None = None,
        owner: str | None = None,
        licence: str | None = None,
        classifications: Sequence[str] | None = None,
    ) -> Dataset:
        """Correct metadata; every version trained on it sees new classifications at once."""
        labels = None if classifications is None else list(classifications)
        body = {"description": description, "owner": owner, "licence": licence,
                "classifications": labels}  # fmt: skip
        body = {k: v for k, v in body.items() if v is not None}
        return self._http.call("PATCH", _dataset_path(reference), dataset, json=body)

    def revoke_dataset(self, reference: str, reason: str) -> Dataset:
        path = _dataset_path(reference) + "/revoke"
        return self._http.call("POST", path, dataset, json={"reason": reason})

    def reinstate_dataset(self, reference: str) -> Dataset:
        return self._http.call("POST", _dataset_path(reference) + "/reinstate", dataset)

    def affected_by(self, reference: str, include_archived: bool = True) -> list[Affected]:
        """Every version trained on the dataset, directly or through derived_from."""
        path = _dataset_path(reference) + "/affected"
        params = {"include_archived": include_archived}
        decode = lambda data: [_build(Affected, a) for a in data["versions"]]  # noqa: E731
        return self._http.call("GET", path, decode, params=params)

    def dataset_lineage(self, reference: str, depth: int = 3) -> Graph:
        path = _dataset_path(reference) + "/lineage"
        return self._http.call("GET", path, graph, params={"depth": depth})


class LineageMixin:
    _http: Http
    _version_path: Callable[[str], str]

    def ingredients(self, reference: str) -> Recorded:
        """Code, environment, config and data of a version, with the completeness report."""
        return self._http.call("GET", self._version_path(reference) + "/ingredients", recorded)

    def lineage(self, reference: str, direction: str = "both", depth: int = 3) -> Graph:
        params = {"direction": direction, "depth": depth}
        return self._http.call(
            "GET", self._version_path(reference) + "/lineage", graph, params=params
        )

    def impact(self, reference: str) -> Impact:
        """What archiving the version would touch."""

        def decode(data: dict[str, Any]) -> Impact:
            return _build(
                Impact,
                data,
                consumers=[consumer(c) for c in data["consumers"]],
                downstream=[_build(Affected, a) for a in data["downstream"]],
            )

        return self._http.call("GET", self._version_path(reference) + "/impact", decode)

    def checks(self, reference: str) -> list[CheckResult]:
        path = self._version_path(reference) + "/checks"
        return self._http.call("GET", path, _each(partial(_build, CheckResult)))

    def declare_consumer(
        self, model: str, name: str, reference: str, kind: str = "service", description: str = ""
    ) -> Consumer:
        """``name`` (a service, pipeline or job) consumes ``model`` through ``reference``
        (``production``, ``champion``, ``7`` or the full ``ns/name@REF``)."""
        path = f"{model_path(model)}/consumers/{segment(name)}"
        body = {"kind": kind, "reference": reference, "description": description}
        return self._http.call("PUT", path, consumer, json=body)

    def consumers(self, model: str) -> list[Consumer]:
        return self._http.call("GET", model_path(model) + "/consumers", _each(consumer))

    def remove_consumer(self, model: str, name: str) -> None:
        self._http.send("DELETE", f"{model_path(model)}/consumers/{segment(name)}")

    def version_metrics(self, reference: str) -> list[MetricValue]:
        return self._http.call("GET", self._version_path(reference) + "/metrics", _each(_metric))

    def compare_metrics(
        self, model: str, names: Sequence[str] | None = None, include_archived: bool = False
    ) -> list[VersionMetrics]:
        """Every version's metrics (oldest first), only ``names`` if given."""
        params = {"names": ",".join(names) if names else None, "include_archived": include_archived}
        decode = lambda data: [_version_metrics(v) for v in data["versions"]]  # noqa: E731
        return self._http.call("GET", model_path(model) + "/metrics", decode, params=params)

    def card(self, reference: str, format: str = "md") -> str:
        """The model card as markdown (``md``) or a standalone HTML page (``html``)."""
        path = self._version_path(reference) + "/card"
        return self._http.send("GET", path, params={"format": format}).text

    def set_card(self, reference: str, markdown: str) -> str:
        path = self._version_path(reference) + "/card"
        return self._http.call(
            "PUT", path, lambda d: str(d["markdown"]), json={"markdown": markdown}
        )

    def package_users(
        self,
        package: str,
        specifier: str | None = None,
        stage: str | None = None,
        include_archived: bool = False,
    ) -> list[PackageUse]:
        """Versions whose environment lists ``package`` (in ``specifier``'s range)."""
        params = {"specifier": specifier, "stage": stage, "include_archived": include_archived}
        path = f"/api/v1/packages/{segment(package)}"
        return self._http.call("GET", path, _each(partial(_build, PackageUse)), params=params)

    def inventory(
        self, filter: str | None = None, q: str | None = None, include_archived: bool = False
    ) -> list[dict[str, Any]]:
        """Every model the caller may read, as the API's JSON entries."""
        params = {"filter": filter, "q": q, "include_archived": include_archived}
        return self._http.call(
            "GET", "/api/v1/inventory", lambda d: list(d["models"]), params=params
        )

    def export_inventory(
        self,
        format: str = "json",
        filter: str | None = None,
        q: str | None = None,
        include_archived: bool = False,
    ) -> bytes:
        """The inventory as the server renders it: ``json``, ``csv`` or ``html``."""
        params = {"format": format, "filter": filter, "q": q, "include_archived": include_archived}
        params = {k: v for k, v in params.items() if v is not None}
        return self._http.send("GET", "/api/v1/inventory", params=params).content
