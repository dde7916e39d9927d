"""What a version was made from: its ingredients and its upstream versions.

``record`` runs inside the transaction that creates the version (services/versions.py), so a
version and its provenance commit together or not at all; nothing here is ever updated
afterwards (ingredients are immutable). Dataset and version references are resolved and pinned
then: ``risk-team/transactions`` (newest) or ``risk-team/base@production`` name whatever they
named at that moment, forever.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import (
    DataEdgeRow,
    DatasetRow,
    IngredientsRow,
    PackageRow,
    VersionEdgeRow,
)
from modelyard.domain.checks import CheckResult
from modelyard.domain.datasets import parse_dataset_ref
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.ingredients import (
    NONE_RECORDED,
    PARTS,
    Code,
    DataRef,
    DataUse,
    Ingredients,
    Recorded,
    completeness,
    report_of,
)
from modelyard.domain.lineage import Upstream
from modelyard.domain.manifests import Manifest
from modelyard.domain.references import parse_reference
from modelyard.services import datasets, references
from modelyard.services.lookup import model_row, version_row


def record(
    s: Session,
    version_id: uuid.UUID,
    ingredients: Ingredients | None,
    upstream: Upstream | None,
    manifest: Manifest | None,
) -> None:
    """Store a new version's ingredients and upstream links (in its creating transaction)."""
    if ingredients is not None:
        _check_diff(ingredients.code, manifest)
        _store_ingredients(s, version_id, ingredients)
        _store_data(s, version_id, ingredients.data)
    if upstream is not None:
        _store_links(s, version_id, upstream)


def _check_diff(code: Code | None, manifest: Manifest | None) -> None:
    """The recorded diff must be a file of the version: it is what rebuilds a dirty tree."""
    if code is None or code.diff_digest is None:
        return
    held = manifest.blob_digests if manifest is not None else frozenset()
    if code.diff_digest not in held:
        raise InvalidInputError(
            "INGREDIENTS_INVALID",
            "code.diff_digest must be the digest of one of the version's artifacts (push"
            " stores the diff as .modelyard/code.diff)",
            diff_digest=code.diff_digest,
        )


def _store_ingredients(s: Session, version_id: uuid.UUID, ing: Ingredients) -> None:
    report = completeness(ing)
    env = ing.environment
    s.execute(
        insert(IngredientsRow),
        {
            "version_id": version_id,
            "code": None if ing.code is None else asdict(ing.code),
            "environment": None if env is None else env.without_packages(),
            "config": ing.config,
            "code_commit": ing.code.commit if ing.code is not None else "",
            **{f"has_{part}": part in report.present for part in PARTS},
            "complete": report.complete,
            "missing": report.missing,
        },
    )
    if env is not None and env.packages:
        rows = [
            {"version_id": version_id, "name": p.name, "version": p.version} for p in env.packages
        ]
        s.execute(insert(PackageRow), rows)


def _store_data(s: Session, version_id: uuid.UUID, data: tuple[DataRef, ...]) -> None:
    rows = [_data_row(s, version_id, i, d) for i, d in enumerate(data)]
    if rows:
        s.execute(insert(DataEdgeRow), rows)


def _data_row(s: Session, version_id: uuid.UUID, position: int, d: DataRef) -> dict[str, Any]:
    dataset_id = None
    if d.dataset is not None:
        dataset_id = datasets.dataset_row(s, parse_dataset_ref(d.dataset)).id
    return {
        "version_id": version_id,
        "position": position,
        "relation": d.role,
        "dataset_id": dataset_id,
        "uri": d.uri,
        "digest": d.digest,
    }


def _store_links(s: Session, version_id: uuid.UUID, upstream: Upstream) -> None:
    rows = {(relation, _upstream_id(s, version_id, text)) for relation, text in upstream.links()}
    if rows:
        s.execute(
            insert(VersionEdgeRow),
            [{"version_id": version_id, "relation": r, "upstream_id": u} for r, u in sorted(rows)],
        )


def _upstream_id(s: Session, version_id: uuid.UUID, text: str) -> uuid.UUID:
    """The version ``text`` names now. The new version is already in the transaction, so
    ``@latest`` or a stage of its own model could name it: refused, lineage has no loops."""
    found: uuid.UUID = references.resolve_row(s, parse_reference(text)).id
    if found == version_id:
        raise InvalidInputError(
            "REFERENCE_INVALID",
            f"{text} names the version being created; name the upstream version by number",
            reference=text,
        )
    return found


# ------------------------------------------------------------------------------ reading


def get_ingredients(db: Database, namespace: str, name: str, number: int) -> Recorded:
    with db.read() as s:
        version = version_row(s, model_row(s, namespace, name), number)
        return recorded(s, version.id, f"{namespace}/{name}@{number}")


def recorded(s: Session, version_id: uuid.UUID, reference: str) -> Recorded:
    row = s.get(IngredientsRow, version_id)
    if row is None:
        return Recorded(reference, None, None, None, data_uses(s, version_id), NONE_RECORDED)
    env = None if row.environment is None else {**row.environment, "packages": _packages(s, row)}
    present = [p for p in PARTS if getattr(row, f"has_{p}")]
    return Recorded(
        reference=reference,
        code=row.code,
        environment=env,
        config=row.config,
        data=data_uses(s, version_id),
        completeness=report_of(present, row.missing or {}),
    )


def _packages(s: Session, row: IngredientsRow) -> list[dict[str, str]]:
    stmt = select(PackageRow.name, PackageRow.version).where(
        PackageRow.version_id == row.version_id
    )
    return [{"name": n, "version": v} for n, v in s.execute(stmt.order_by(PackageRow.name))]


def data_uses(s: Session, version_id: uuid.UUID) -> list[DataUse]:
    stmt = (
        select(DataEdgeRow, DatasetRow)
        .outerjoin(DatasetRow, DatasetRow.id == DataEdgeRow.dataset_id)
        .where(DataEdgeRow.version_id == version_id)
        .order_by(DataEdgeRow.position)
    )
    found = [(e, d) for e, d in s.execute(stmt)]
    labels = datasets.classifications_of(s, [d.id for _, d in found if d is not None])
    return [_use(edge, d, labels) for edge, d in found]


def _use(edge: DataEdgeRow, d: Any, labels: dict[uuid.UUID, tuple[str, ...]]) -> DataUse:
    if d is None:
        return DataUse(edge.relation, None, edge.uri, edge.digest)
    ref = f"{d.namespace}/{d.name}@{d.version}"
    return DataUse(edge.relation, ref, d.uri, d.digest, d.status, labels.get(d.id, ()))


def ingredients_complete(db: Database, reference: str) -> CheckResult:
    """The policy check: all four ingredients recorded (``missing`` says what is not)."""
    with db.read() as s:
        version = references.resolve_row(s, parse_reference(reference))
        return ingredients_check(s, version.id)


def ingredients_check(s: Session, version_id: uuid.UUID) -> CheckResult:
    """``ingredients_complete`` in the caller's transaction."""
    row = s.get(IngredientsRow, version_id)
    present = [] if row is None else [p for p in PARTS if getattr(row, f"has_{p}")]
    report = NONE_RECORDED if row is None else report_of(present, row.missing or {})
    message = (
        "all four ingredients are recorded"
        if report.complete
        else "missing: " + "; ".join(f"{k} ({v})" for k, v in report.missing.items())
    )
    return CheckResult("ingredients_complete", report.complete, message, report.to_dict())
