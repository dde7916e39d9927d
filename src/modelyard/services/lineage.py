"""Lineage queries: graphs around a version or dataset, what a dataset affects (the GDPR
erasure question), what archiving a version would touch, and the policy's data check.

Graphs are walked breadth-first, one level per step, each step a few batched queries over the
whole frontier (never one query per node). ``visible`` (a namespace predicate from the access
layer) drops what the caller may not read; the walk does not continue through dropped nodes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import (
    AliasRow,
    DataEdgeRow,
    DatasetRow,
    VersionEdgeRow,
    VersionRow,
)
from modelyard.domain.checks import CheckResult
from modelyard.domain.datasets import parse_dataset_ref
from modelyard.domain.lineage import (
    CONSUMES,
    EXCLUSIVE_STAGES,
    MAX_NODES,
    Affected,
    Edge,
    Graph,
    Impact,
    Node,
    check_depth,
    check_direction,
    dataset_node_id,
    version_node_id,
)
from modelyard.domain.references import parse_reference
from modelyard.services import consumers, datasets, inheritance, references

Visible = Callable[[str], bool]


def _everyone(namespace: str) -> bool:
    return True


def _ref(v: Any) -> str:
    return f"{v.namespace}/{v.model_name}@{v.number}"


@dataclass
class _Walk:
    """A graph being built: nodes by id, edges, and the version rows met so far."""

    s: Session
    visible: Visible
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)
    versions: dict[uuid.UUID, Any] = field(default_factory=dict)
    truncated: bool = False

    def add(self, node: Node) -> bool:
        if node.id in self.nodes:
            return True
        if len(self.nodes) >= MAX_NODES:
            self.truncated = True
            return False
        self.nodes[node.id] = node
        return True

    def load(self, ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
        """Version rows for ``ids``; returns the visible ones that were new."""
        wanted = [i for i in set(ids) if i not in self.versions]
        if not wanted:
            return []
        rows = self.s.execute(select(VersionRow).where(VersionRow.id.in_(wanted))).scalars()
        fresh = []
        for v in rows:
            if self.visible(v.namespace) and self.add(_version_node(v)):
                self.versions[v.id] = v
                fresh.append(v.id)
        return fresh

    def link(self, source: uuid.UUID, target: uuid.UUID, relation: str) -> None:
        if source in self.versions and target in self.versions:
            a, b = self.versions[source], self.versions[target]
            self.edges.add(Edge(version_node_id(_ref(a)), version_node_id(_ref(b)), relation))


def _version_node(v: VersionRow) -> Node:
    ref = _ref(v)
    attrs = {"stage": v.stage, "archived": v.archived_at is not None}
    return Node(version_node_id(ref), "version", ref, attrs)


def graph(
    db: Database,
    reference: str,
    direction: str = "both",
    depth: int = 3,
    visible: Visible = _everyone,
) -> Graph:
    """The lineage around ``namespace/name@REF`` up to ``depth`` steps away."""
    check_direction(direction)
    check_depth(depth)
    with db.read() as s:
        root = references.resolve_row(s, parse_reference(reference))
        walk = _Walk(s, visible)
        walk.load([root.id])
        up = down = [root.id]
        for _ in range(depth):
            if direction in ("upstream", "both"):
                up = _upstream_step(walk, up)
            if direction in ("downstream", "both"):
                down = _downstream_step(walk, down)
        _annotate(walk)
        return _graph(walk, version_node_id(_ref(root)), direction, depth)


def _graph(walk: _Walk, root: str, direction: str, depth: int) -> Graph:
    edges = sorted(walk.edges, key=lambda e: (e.source, e.relation, e.target))
    nodes = sorted(walk.nodes.values(), key=lambda n: (n.kind, n.id))
    return Graph(root, direction, depth, nodes, edges, walk.truncated)


def _upstream_step(walk: _Walk, frontier: list[uuid.UUID]) -> list[uuid.UUID]:
    if not frontier:
        return []
    links = list(
        walk.s.execute(
            select(VersionEdgeRow).where(VersionEdgeRow.version_id.in_(frontier))
        ).scalars()
    )
    fresh = walk.load(e.upstream_id for e in links)
    for e in links:
        walk.link(e.version_id, e.upstream_id, e.relation)
    _data_step(walk, frontier)
    return fresh


def _data_step(walk: _Walk, frontier: list[uuid.UUID]) -> None:
    stmt = (
        select(DataEdgeRow, DatasetRow)
        .outerjoin(DatasetRow, DatasetRow.id == DataEdgeRow.dataset_id)
        .where(DataEdgeRow.version_id.in_(frontier))
    )
    found = [(e, d) for e, d in walk.s.execute(stmt)]
    labels = datasets.classifications_of(walk.s, [d.id for _, d in found if d is not None])
    for edge, d in found:
        if d is not None and not walk.visible(d.namespace):
            continue
        node = _dataset_node(d, labels) if d is not None else _data_node(edge)
        if walk.add(node):
            source = version_node_id(_ref(walk.versions[edge.version_id]))
            walk.edges.add(Edge(source, node.id, edge.relation))


def _dataset_node(d: DatasetRow, labels: dict[uuid.UUID, tuple[str, ...]]) -> Node:
    ref = f"{d.namespace}/{d.name}@{d.version}"
    attrs = {"status": d.status, "classifications": list(labels.get(d.id, ())), "uri": d.uri}
    return Node(dataset_node_id(ref), "dataset", ref, attrs)


def _data_node(edge: DataEdgeRow) -> Node:
    label = edge.uri or edge.digest or "?"
    return Node(f"data:{label}", "data", label, {"uri": edge.uri, "digest": edge.digest})


def _downstream_step(walk: _Walk, frontier: list[uuid.UUID]) -> list[uuid.UUID]:
    if not frontier:
        return []
    stmt = select(VersionEdgeRow).where(VersionEdgeRow.upstream_id.in_(frontier))
    links = list(walk.s.execute(stmt).scalars())
    fresh = walk.load(e.version_id for e in links)
    for e in links:
        walk.link(e.version_id, e.upstream_id, e.relation)
    _consumer_step(walk, frontier)
    return fresh


def _consumer_step(walk: _Walk, frontier: list[uuid.UUID]) -> None:
    by_model: dict[uuid.UUID, list[Any]] = {}
    for vid in frontier:
        by_model.setdefault(walk.versions[vid].model_id, []).append(walk.versions[vid])
    for c, version_id in consumers.current_targets(walk.s, list(by_model)):
        if version_id in walk.versions and version_id in frontier:
            node = Node(f"consumer:{c.name}", "consumer", c.name, {"kind": c.kind})
            if walk.add(node):
                target = version_node_id(_ref(walk.versions[version_id]))
                walk.edges.add(Edge(node.id, target, CONSUMES))


def _annotate(walk: _Walk) -> None:
    """Each version node gets the classifications it inherits (one query for all)."""
    found = inheritance.inherited(walk.s, list(walk.versions))
    for vid, v in walk.versions.items():
        node = walk.nodes[version_node_id(_ref(v))]
        got = found.get(vid, inheritance.NOTHING)
        node.attributes["classifications"] = list(got.classifications)
        node.attributes["revoked_datasets"] = list(got.revoked_datasets)


def dataset_graph(
    db: Database, reference: str, depth: int = 3, visible: Visible = _everyone
) -> Graph:
    """Everything downstream of a dataset version, up to ``depth`` steps."""
    check_depth(depth)
    with db.read() as s:
        d = datasets.dataset_row(s, parse_dataset_ref(reference))
        walk = _Walk(s, visible)
        root = _dataset_node(d, datasets.classifications_of(s, [d.id]))
        walk.add(root)
        uses = list(s.execute(select(DataEdgeRow).where(DataEdgeRow.dataset_id == d.id)).scalars())
        frontier = walk.load(e.version_id for e in uses)
        for e in uses:
            if e.version_id in walk.versions:
                walk.edges.add(
                    Edge(version_node_id(_ref(walk.versions[e.version_id])), root.id, e.relation)
                )
        for _ in range(depth - 1):
            frontier = _downstream_step(walk, frontier)
        _annotate(walk)
        return _graph(walk, root.id, "downstream", depth)


# ------------------------------------------------------------------ affected and impact


def affected_by_dataset(
    db: Database, reference: str, include_archived: bool = True, visible: Visible = _everyone
) -> list[Affected]:
    """Every version trained on the dataset, directly or through ``derived_from`` (any depth):
    what erasing the data subject's records from it means retraining or withdrawing."""
    with db.read() as s:
        d = datasets.dataset_row(s, parse_dataset_ref(reference))
        stmt = select(DataEdgeRow.version_id).where(
            DataEdgeRow.dataset_id == d.id, DataEdgeRow.relation == "trained_on"
        )
        start = dict.fromkeys(s.scalars(stmt), "trained_on")
        found = _descend(s, start, frozenset({"derived_from"}))
    return _affected(found, include_archived, visible)


def _descend(
    s: Session, start: dict[uuid.UUID, str], relations: frozenset[str]
) -> list[tuple[Any, str, int]]:
    """(version row, how it was reached, depth) for ``start`` and everything downstream of it
    through ``relations``; each version once, at its shortest depth."""
    seen: dict[uuid.UUID, tuple[str, int]] = {vid: (via, 0) for vid, via in start.items()}
    frontier, depth = list(start), 0
    rows: dict[uuid.UUID, Any] = {}
    while frontier:
        rows.update(
            {v.id: v for v in s.scalars(select(VersionRow).where(VersionRow.id.in_(frontier)))}
        )
        depth += 1
        stmt = select(VersionEdgeRow).where(
            VersionEdgeRow.upstream_id.in_(frontier), VersionEdgeRow.relation.in_(relations)
        )
        nxt = []
        for e in s.scalars(stmt):
            if e.version_id not in seen:
                seen[e.version_id] = (f"{e.relation} {_ref(rows[e.upstream_id])}", depth)
                nxt.append(e.version_id)
        frontier = nxt
    return [(rows[vid], via, d) for vid, (via, d) in seen.items()]


def _affected(
    found: list[tuple[Any, str, int]], include_archived: bool, visible: Visible
) -> list[Affected]:
    items = [
        Affected(_ref(v), v.stage, v.archived_at is not None, via, depth)
        for v, via, depth in found
        if visible(v.namespace) and (include_archived or v.archived_at is None)
    ]
    return sorted(items, key=lambda a: (a.depth, a.reference))


def impact_of_archiving(db: Database, reference: str, visible: Visible = _everyone) -> Impact:
    """Aliases and consumers pointing at the version, the versions built on it (derived_from
    or depends_on, transitively), and whether it holds an exclusive stage."""
    with db.read() as s:
        v = references.resolve_row(s, parse_reference(reference))
        aliases = sorted(s.scalars(select(AliasRow.alias).where(AliasRow.version_id == v.id)))
        users = [c for c, target in consumers.current_targets(s, [v.model_id]) if target == v.id]
        found = _descend(s, {v.id: "self"}, frozenset({"derived_from", "depends_on"}))
        downstream = _affected([f for f in found if f[0].id != v.id], True, visible)
        return Impact(
            reference=_ref(v),
            stage=v.stage,
            aliases=aliases,
            consumers=[consumers.record(c, v.namespace, v.model_name) for c in users],
            downstream=downstream,
            exclusive_stage=v.stage in EXCLUSIVE_STAGES and v.archived_at is None,
        )


def datasets_not_revoked(db: Database, reference: str) -> CheckResult:
    """The policy check: no dataset the version inherits from (trained on, directly or
    through derived_from) is revoked."""
    with db.read() as s:
        v = references.resolve_row(s, parse_reference(reference))
        return revoked_check(s, v.id)


def revoked_check(s: Session, version_id: uuid.UUID) -> CheckResult:
    """``datasets_not_revoked`` in the caller's transaction."""
    got = inheritance.inherited(s, [version_id]).get(version_id, inheritance.NOTHING)
    revoked = list(got.revoked_datasets)
    message = "no revoked data" if not revoked else "trained on revoked data: " + ", ".join(revoked)
    return CheckResult("datasets_not_revoked", not revoked, message, {"revoked": revoked})
