"""/api/v1/datasets: registered datasets, their revocation, and what they affect.

A dataset version lives in a namespace and follows its access rules (the path parameter is
``dataset``, not ``name``, so a token scoped to one model is not mistaken for one scoped to a
dataset of the same name).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from modelyard.api.access import Caller, CanRead, CanWrite, authorize
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.lineage_schemas import (
    AffectedListOut,
    AffectedOut,
    DatasetCreate,
    DatasetOut,
    DatasetUpdate,
    GraphOut,
    Revocation,
)
from modelyard.api.readable import readable_by
from modelyard.api.schemas import PageOut
from modelyard.domain import access
from modelyard.services import datasets as svc
from modelyard.services import lineage

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"], responses=ERROR_RESPONSES)
ONE = "/{namespace}/{dataset}/versions/{version}"
Version = Annotated[str, Path(max_length=200, description="The dataset version, e.g. 2026-10")]
Depth = Annotated[int, Query(ge=1, le=10)]


def _ref(namespace: str, dataset: str, version: str) -> str:
    return f"{namespace}/{dataset}@{version}"


@router.post("", status_code=201)
async def create_dataset(body: DatasetCreate, request: Request, db: Db, who: Caller) -> DatasetOut:
    """Register a dataset version (its uri, digest and size never change afterwards)."""
    await authorize(request, db, who, access.WRITE, body.namespace, creating=True)
    d = await run(
        db, svc.create_dataset, db, who.name, body.namespace, body.name, body.version,
        body.uri, body.digest, body.size, body.owner, body.licence, body.description,
        body.classifications,
    )  # fmt: skip
    return DatasetOut.of(d)


@router.get("")
async def list_datasets(
    db: Db,
    who: Caller,
    namespace: Annotated[str | None, Query(max_length=200)] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    classification: Annotated[str | None, Query(max_length=32, examples=["pii"])] = None,
    status: Annotated[str | None, Query(pattern="^(active|revoked)$")] = None,
    page_size: int | None = None,
    page_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> PageOut[DatasetOut]:
    """Datasets the caller may read, by namespace, name and version."""
    may_read = await readable_by(db, who)
    page = await run(
        db, svc.list_datasets, db, namespace, name, classification, status, page_size, page_token
    )
    items = [DatasetOut.of(d) for d in page.items if may_read(d.namespace)]
    return PageOut(items=items, next_page_token=page.next_page_token)


@router.get(ONE, dependencies=[CanRead])
async def get_dataset(namespace: str, dataset: str, version: Version, db: Db) -> DatasetOut:
    return DatasetOut.of(await run(db, svc.get_dataset, db, _ref(namespace, dataset, version)))


@router.patch(ONE, dependencies=[CanWrite])
async def update_dataset(
    namespace: str, dataset: str, version: Version, body: DatasetUpdate, db: Db, who: Caller
) -> DatasetOut:
    """Correct the description, owner, licence or classifications (never the data)."""
    d = await run(
        db, svc.update_dataset, db, who.name, _ref(namespace, dataset, version),
        body.description, body.owner, body.licence, body.classifications,
    )  # fmt: skip
    return DatasetOut.of(d)


@router.post(ONE + "/revoke", dependencies=[CanWrite])
async def revoke_dataset(
    namespace: str, dataset: str, version: Version, body: Revocation, db: Db, who: Caller
) -> DatasetOut:
    """Revoke (consent withdrawn, licence ended…): every version trained on it is flagged."""
    ref = _ref(namespace, dataset, version)
    return DatasetOut.of(await run(db, svc.revoke_dataset, db, who.name, ref, body.reason))


@router.post(ONE + "/reinstate", dependencies=[CanWrite])
async def reinstate_dataset(
    namespace: str, dataset: str, version: Version, db: Db, who: Caller
) -> DatasetOut:
    ref = _ref(namespace, dataset, version)
    return DatasetOut.of(await run(db, svc.reinstate_dataset, db, who.name, ref))


@router.get(ONE + "/affected", dependencies=[CanRead])
async def affected_versions(
    namespace: str,
    dataset: str,
    version: Version,
    db: Db,
    who: Caller,
    include_archived: bool = True,
) -> AffectedListOut:
    """Every version trained on this dataset, directly or through derived_from, at any depth
    (the GDPR erasure question). Archived versions are included unless asked otherwise."""
    ref = _ref(namespace, dataset, version)
    may_read = await readable_by(db, who)
    found = await run(db, lineage.affected_by_dataset, db, ref, include_archived, may_read)
    return AffectedListOut(dataset=ref, versions=[AffectedOut.of(a) for a in found])


@router.get(ONE + "/lineage", dependencies=[CanRead])
async def dataset_lineage(
    namespace: str, dataset: str, version: Version, db: Db, who: Caller, depth: Depth = 3
) -> GraphOut:
    """The versions trained or evaluated on it and everything downstream of them."""
    may_read = await readable_by(db, who)
    ref = _ref(namespace, dataset, version)
    return GraphOut.of(await run(db, lineage.dataset_graph, db, ref, depth, may_read))
