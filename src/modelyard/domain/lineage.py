"""Lineage: the edges between versions, datasets and consumers, and the graphs they form.

Edges point from what was made to what it was made from (downstream -> upstream)::

    consumer ──consumes──> version ──derived_from──> version ──trained_on──> dataset
                              │                         └──evaluated_on──> dataset
                              └──depends_on──> version

A version's edges are recorded when it is created and never change (they are ingredients), so
the graph is acyclic: a version can only point at versions that existed before it. Consumers
declare themselves later; a pull that names a consumer updates its last-seen time.

Inheritance: a version inherits the classifications (and revocations) of the datasets it was
trained on and of the versions it is ``derived_from``, transitively. ``depends_on`` (ensembles,
tokenizers, embeddings) and ``evaluated_on`` do not pass classifications on: evaluation data
never enters the weights, and a dependency is a separate model with its own classifications.
The "affected by dataset D" question (GDPR erasure) follows the same two relations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.names import check_name

VERSION_RELATIONS: tuple[str, ...] = ("derived_from", "depends_on")
DATA_RELATIONS: tuple[str, ...] = ("trained_on", "evaluated_on")
CONSUMES = "consumes"
INHERITING: frozenset[str] = frozenset({"trained_on", "derived_from"})
DIRECTIONS: tuple[str, ...] = ("upstream", "downstream", "both")
MAX_DEPTH = 10
MAX_NODES = 2000
CONSUMER_KINDS: tuple[str, ...] = ("service", "pipeline", "job", "other")
MAX_LINKS = 100


@dataclass(frozen=True)
class Node:
    id: str  # "version:ns/name@3", "dataset:ns/name@v1", "data:<uri>", "consumer:<name>"
    kind: str  # version | dataset | data | consumer
    label: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    source: str  # node id, downstream end
    target: str  # node id, upstream end
    relation: str


@dataclass(frozen=True)
class Graph:
    root: str
    direction: str
    depth: int
    nodes: list[Node]
    edges: list[Edge]
    truncated: bool = False  # more than MAX_NODES nodes within the depth


@dataclass(frozen=True)
class Consumer:
    name: str
    kind: str
    model: str  # namespace/name
    reference: str  # what it declared: namespace/name@REF
    description: str
    declared_by: str
    created_at: datetime
    last_seen_at: datetime | None
    last_version: int | None  # the version its last pull resolved to


@dataclass(frozen=True)
class Affected:
    """A version reached from a dataset, and how (the path of relations from the dataset)."""

    reference: str
    stage: str
    archived: bool
    via: str  # "trained_on" or "derived_from <upstream reference>"
    depth: int


def check_direction(direction: str) -> str:
    if direction not in DIRECTIONS:
        raise InvalidInputError("VALIDATION_FAILED", f"direction is one of {', '.join(DIRECTIONS)}")
    return direction


def check_depth(depth: int) -> int:
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidInputError("VALIDATION_FAILED", f"depth runs from 1 to {MAX_DEPTH}")
    return depth


def check_consumer(name: str, kind: str) -> tuple[str, str]:
    if kind not in CONSUMER_KINDS:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"consumer kind is one of {', '.join(CONSUMER_KINDS)}"
        )
    return check_name("consumer", name), kind


def version_node_id(reference: str) -> str:
    return f"version:{reference}"


def dataset_node_id(reference: str) -> str:
    return f"dataset:{reference}"


@dataclass(frozen=True)
class Upstream:
    """The versions a new version was made from (references, resolved and pinned when the
    version is created)."""

    derived_from: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()

    def links(self) -> list[tuple[str, str]]:
        """(relation, reference) pairs, each once."""
        pairs = [("derived_from", r) for r in self.derived_from]
        pairs += [("depends_on", r) for r in self.depends_on]
        if len(pairs) > MAX_LINKS:
            raise InvalidInputError(
                "VALIDATION_FAILED", f"at most {MAX_LINKS} derived_from and depends_on links"
            )
        return list(dict.fromkeys(pairs))


@dataclass(frozen=True)
class Impact:
    """What archiving a version would touch."""

    reference: str
    stage: str
    aliases: list[str]
    consumers: list[Consumer]
    downstream: list[Affected]  # versions derived from or depending on it, transitively
    exclusive_stage: bool  # it holds an exclusive stage (production) that would be left empty


# Until the governance policy makes stages configurable, production is the exclusive stage.
EXCLUSIVE_STAGES: frozenset[str] = frozenset({"production"})
