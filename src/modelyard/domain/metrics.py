"""Metrics of a version: a name and a value, measured on a dataset and split (both optional).

A version's ``metrics`` dict (``{"auc": 0.91}``) is the view of the metrics stated with neither
dataset nor split; ``MetricValue`` rows carry the rest (``auc`` on ``risk/holdout@3``, split
``test``). Comparisons across versions read the rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.names import check_tag

MAX_METRICS = 1000
MAX_DATASET = 300
MAX_SPLIT = 64


@dataclass(frozen=True)
class MetricValue:
    name: str
    value: float
    dataset: str = ""
    split: str = ""

    @property
    def plain(self) -> bool:
        """Part of the version's ``metrics`` dict (no dataset, no split)."""
        return not self.dataset and not self.split


@dataclass(frozen=True)
class VersionMetrics:
    """One version's metrics, for comparisons across versions."""

    version: int
    stage: str
    archived: bool
    created_at: datetime
    metrics: list[MetricValue]


def check_value(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(
            "VALIDATION_FAILED", f"metric {name!r} must be a finite number", metric=name
        )
    return float(value)


def metric_value(name: str, value: Any, dataset: str = "", split: str = "") -> MetricValue:
    check_tag(name, "")
    if len(dataset) > MAX_DATASET or len(split) > MAX_SPLIT or "\x00" in dataset + split:
        raise InvalidInputError(
            "VALIDATION_FAILED",
            f"metric {name!r}: dataset at most {MAX_DATASET} and split at most {MAX_SPLIT}"
            " characters",
            metric=name,
        )
    return MetricValue(name, check_value(name, value), dataset, split)


def metric_values(
    plain: Mapping[str, Any], detailed: Iterable[Mapping[str, Any]] = ()
) -> list[MetricValue]:
    """The dict and the detailed list as one list; the same (name, dataset, split) twice keeps
    the last value."""
    found: dict[tuple[str, str, str], MetricValue] = {}
    items = [metric_value(k, v) for k, v in plain.items()]
    items += [
        metric_value(d["name"], d["value"], d.get("dataset") or "", d.get("split") or "")
        for d in detailed
    ]
    for m in items:
        found[(m.name, m.dataset, m.split)] = m
    if len(found) > MAX_METRICS:
        raise InvalidInputError("VALIDATION_FAILED", f"at most {MAX_METRICS} metrics per version")
    return list(found.values())
