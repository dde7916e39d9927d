"""Wire JSON -> the domain's records (``modelyard.domain.records``), with datetimes parsed.

Unknown fields are ignored (a newer server may add some); a missing field without a default
raises TypeError, which the caller, knowing the response, turns into ``UnexpectedResponse``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace
from datetime import datetime
from typing import Any, TypeVar

from modelyard.domain.records import Model, Namespace, Page, Version

T = TypeVar("T", Namespace, Model, Version)

_TIMES = frozenset({"created_at", "updated_at"})


def _build(cls: type[T], data: dict[str, Any]) -> T:
    # A field left out that the record gives a default (one added later) takes that default.
    values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
    for name in _TIMES & values.keys():
        values[name] = datetime.fromisoformat(values[name])
    return cls(**values)


def namespace(data: dict[str, Any]) -> Namespace:
    return _build(Namespace, data)


def model(data: dict[str, Any]) -> Model:
    return _build(Model, data)


def version(data: dict[str, Any]) -> Version:
    built = _build(Version, data)
    # JSON has one number type; the record promises float metrics (1 and 1.0 alike).
    return replace(built, metrics={k: float(v) for k, v in built.metrics.items()})


def page(data: dict[str, Any], item: Callable[[dict[str, Any]], T]) -> Page[T]:
    return Page([item(x) for x in data["items"]], data.get("next_page_token"))
