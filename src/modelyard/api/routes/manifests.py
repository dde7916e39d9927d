"""Manifests: the canonical list of a version's files, byte-exact, with its digest."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from modelyard.api.access import CanRead, CanReadReference
from modelyard.api.blob_schemas import MEDIA_TYPE_MANIFEST, ManifestOut
from modelyard.api.deps import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.domain.lineage import check_consumer
from modelyard.domain.manifests import Manifest
from modelyard.services import consumers, manifests

router = APIRouter(prefix="/api/v1", tags=["versions"], responses=ERROR_RESPONSES)

Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number")]
_DOC: dict[int | str, dict[str, Any]] = {
    200: {"model": ManifestOut, "content": {MEDIA_TYPE_MANIFEST: {}}, "description": "Manifest"}
}


def _response(manifest: Manifest, reference: str) -> Response:
    return Response(
        manifest.canonical_bytes(),
        media_type=MEDIA_TYPE_MANIFEST,
        headers={
            "Modelyard-Digest": manifest.digest,
            "ETag": f'"{manifest.digest}"',
            "Modelyard-Reference": reference,
        },
    )


@router.get(
    "/models/{namespace}/{name}/versions/{version}/manifest", responses=_DOC, dependencies=[CanRead]
)
async def get_manifest(namespace: str, name: str, version: Number, db: Db) -> Response:
    """The manifest as canonical JSON: its SHA-256 is the version's ``manifest_digest``."""
    manifest = await run(db, manifests.get_manifest, db, namespace, name, version)
    return _response(manifest, f"{namespace}/{name}@{version}")


@router.get("/manifests", responses=_DOC, dependencies=[CanReadReference])
async def resolve_manifest(
    request: Request,
    db: Db,
    ref: Annotated[
        str, Query(max_length=300, description="namespace/name@REF", examples=["team/m@latest"])
    ],
    consumer: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The service, pipeline or job pulling: its last-seen time and version"
            " are recorded (declared on first sight).",
            examples=["payments-api"],
        ),
    ] = None,
) -> Response:
    """Resolve a reference and return its manifest in one request (what ``pull`` needs).
    ``Modelyard-Reference`` names the version it resolved to."""
    if consumer is not None:
        check_consumer(consumer, "other")  # NAME_INVALID before any work
    version, manifest = await run(db, manifests.resolve_manifest, db, ref)
    if consumer is not None:
        v = version
        await run(db, consumers.seen, db, consumer, ref, v.namespace, v.name, v.version)
    return _response(manifest, version.reference)
