"""/api/v1/blobs: which blobs the server lacks, upload sessions, single-request uploads and
downloads with ranges. The protocol is described in docs/transfer.md.

Anything that touches the blob store (disk or S3) runs in the thread pool, never on the event
loop; bodies stream through ``api/bodies.py`` and are never held whole.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from modelyard.api.access import (
    Caller,
    CanReadBlob,
    CanUpload,
    CanUseUpload,
    check_blobs_readable,
)
from modelyard.api.blob_schemas import (
    BINARY_BODY,
    BatchOut,
    BlobOut,
    FetchIn,
    MissingIn,
    MissingOut,
    UploadCommit,
    UploadOut,
    UploadStart,
    blob_location,
    upload_location,
)
from modelyard.api.bodies import content_length, parse_content_range, parse_range, run_with_body
from modelyard.api.deps import Actor
from modelyard.api.errors import ERROR_RESPONSES, documented, error_response
from modelyard.domain.batches import END, MEDIA_TYPE, member_header, padding
from modelyard.domain.digests import check_digest, hex_of
from modelyard.domain.errors import InvalidInputError, RangeNotSatisfiableError
from modelyard.domain.transfers import Blob, Upload
from modelyard.services import blobs, uploads
from modelyard.services.uploads import Transfers

RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    416: documented("CHUNK_OUT_OF_ORDER or RANGE_NOT_SATISFIABLE"),
}
router = APIRouter(prefix="/api/v1/blobs", tags=["blobs"], responses=RESPONSES)

UploadId = Annotated[uuid.UUID, Path(description="The upload session's id")]
DigestPath = Annotated[str, Path(description="sha256:<64 hex digits>", max_length=100)]


def _transfers(request: Request) -> Transfers:
    transfers: Transfers = request.app.state.transfers
    return transfers


def _upload_headers(upload: Upload) -> dict[str, str]:
    headers = {"Location": upload_location(upload.id), "Upload-Offset": str(upload.received)}
    if upload.received:
        headers["Range"] = f"bytes=0-{upload.received - 1}"
    return headers


def _upload_response(upload: Upload, status: int) -> JSONResponse:
    body = UploadOut.of(upload).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers=_upload_headers(upload))


def _out_of_order(exc: RangeNotSatisfiableError) -> JSONResponse:
    received = int(exc.details.get("received", 0))
    headers = {"Upload-Offset": str(received)}
    if received:
        headers["Range"] = f"bytes=0-{received - 1}"
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


def _blob_response(blob: Blob) -> JSONResponse:
    status = 201 if blob.created else 200
    body = BlobOut.of(blob).model_dump(mode="json")
    return JSONResponse(body, status_code=status, headers={"Location": blob_location(blob.digest)})


@router.post("/missing", dependencies=[CanUpload])
async def missing(body: MissingIn, request: Request) -> MissingOut:
    """The digests among ``digests`` the server does not hold: upload only those."""
    t = _transfers(request)
    lacking = await run_in_threadpool(blobs.missing, t.db, body.digests, t.refresh_after)
    return MissingOut(missing=lacking)


@router.post("/uploads", status_code=201, response_model=UploadOut, dependencies=[CanUpload])
async def start_upload(body: UploadStart, request: Request, actor: Actor) -> JSONResponse:
    """Open an upload session. Give ``size`` when known: too large is refused now (413)."""
    upload = await run_in_threadpool(uploads.start_upload, _transfers(request), actor, body.size)
    return _upload_response(upload, 201)


@router.get("/uploads/{upload_id}", response_model=UploadOut, dependencies=[CanUseUpload])
async def upload_status(upload_id: UploadId, request: Request) -> JSONResponse:
    """How many bytes the session holds: resume by sending the rest from ``received``."""
    upload = await run_in_threadpool(uploads.get_upload, _transfers(request), str(upload_id))
    return _upload_response(upload, 200)


@router.patch(
    "/uploads/{upload_id}",
    status_code=202,
    response_model=UploadOut,
    openapi_extra=BINARY_BODY,
    dependencies=[CanUseUpload],
)
async def write_chunk(upload_id: UploadId, request: Request) -> JSONResponse:
    """Send bytes ``START-END`` (``Content-Range: bytes START-END/*``); START must be the
    session's ``received``, else 416 CHUNK_OUT_OF_ORDER with the current range."""
    t = _transfers(request)
    start, length = parse_content_range(request.headers.get("content-range"))
    declared = content_length(request)
    if declared is not None and declared != length:
        raise InvalidInputError(
            "SIZE_INVALID",
            f"Content-Length {declared} disagrees with Content-Range ({length} bytes)",
        )
    try:
        upload = await run_with_body(
            request, lambda body: uploads.write_chunk(t, str(upload_id), start, length, body)
        )
    except RangeNotSatisfiableError as exc:
        return _out_of_order(exc)
    return _upload_response(upload, 202)


@router.post(
    "/uploads/{upload_id}/commit",
    status_code=201,
    response_model=BlobOut,
    dependencies=[CanUseUpload],
)
async def commit_upload(upload_id: UploadId, body: UploadCommit, request: Request) -> Response:
    """Finish the session: the bytes become blob ``digest`` if they hash to it (else 400
    DIGEST_INVALID and the session is dropped) and ``size`` matches (else SIZE_INVALID)."""
    t = _transfers(request)
    try:
        blob = await run_in_threadpool(
            uploads.commit_upload, t, str(upload_id), body.digest, body.size
        )
    except RangeNotSatisfiableError as exc:
        return _out_of_order(exc)
    return _blob_response(blob)


@router.delete("/uploads/{upload_id}", status_code=204, dependencies=[CanUseUpload])
async def cancel_upload(upload_id: UploadId, request: Request) -> Response:
    """Abandon the session and its bytes."""
    await run_in_threadpool(uploads.cancel_upload, _transfers(request), str(upload_id))
    return Response(status_code=204)


@router.post(
    "/batch",
    response_model=BatchOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    dependencies=[CanUpload],
)
async def put_batch(request: Request) -> BatchOut:
    """Upload many small blobs in one request: a tar stream whose members are named by their
    digests (docs/transfer.md). All or nothing: one member that does not hash to its name is
    400 DIGEST_INVALID and none is kept."""
    t = _transfers(request)
    length = content_length(request)
    stored = await run_with_body(
        request, lambda body: uploads.put_batch(t, length, body), joined=False
    )
    return BatchOut(blobs=[BlobOut.of(b) for b in stored])


@router.post(
    "/fetch",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "The blobs, as a tar stream"}},
)
async def fetch_blobs(body: FetchIn, request: Request, who: Caller) -> Response:
    """Download many small blobs in one request: a tar stream of the blobs asked for, in
    that order (repeats once), each member named by its digest (docs/transfer.md). Every blob
    is checked before a byte is sent: one the caller may not read, or that the server lacks,
    is 404 BLOB_NOT_FOUND for the whole request."""
    t = _transfers(request)
    digests = list(dict.fromkeys(check_digest(d) for d in body.digests))
    # Access first: a limit refusal must not tell anything of blobs the caller may not read.
    await check_blobs_readable(request, t.db, who, digests)
    wanted = await run_in_threadpool(blobs.fetchable, t.db, digests)
    length = sum(512 + b.size + len(padding(b.size)) for b in wanted) + len(END)
    headers = {"Content-Length": str(length), "Cache-Control": "private, no-store"}
    return StreamingResponse(_tar_of(t, wanted), headers=headers, media_type=MEDIA_TYPE)


FETCH_PIECE = 1024 * 1024


def _tar_of(t: Transfers, wanted: list[Blob]) -> Iterator[bytes]:
    """The tar stream in pieces of about ``FETCH_PIECE`` bytes. StreamingResponse runs each
    step of a blocking iterator in a worker thread and sends each item on its own: a header,
    the bytes and the padding of every member apart made 6,000 of both for 2,000 small blobs,
    and the server's sending, not the network, paced the pull."""
    parts: list[bytes] = []
    held = 0
    for blob in wanted:
        for part in _member(t, blob):
            parts.append(part)
            held += len(part)
            if held >= FETCH_PIECE:
                yield b"".join(parts)
                parts, held = [], 0
    parts.append(END)
    yield b"".join(parts)


def _member(t: Transfers, blob: Blob) -> Iterator[bytes]:
    yield member_header(blob.digest, blob.size)
    yield from t.store.read(blob.digest)
    yield padding(blob.size)


@router.put(
    "/{digest}",
    status_code=201,
    response_model=BlobOut,
    openapi_extra=BINARY_BODY,
    dependencies=[CanUpload],
)
async def put_blob(digest: DigestPath, request: Request) -> Response:
    """Upload a whole (small) blob in one request. 200 when the server held it already (the
    body is not read), 201 when stored now."""
    t = _transfers(request)
    length = content_length(request)
    blob = await run_with_body(request, lambda body: uploads.put_blob(t, digest, length, body))
    return _blob_response(blob)


def _blob_headers(blob: Blob) -> dict[str, str]:
    sha = base64.b64encode(bytes.fromhex(hex_of(blob.digest))).decode()
    return {
        "Modelyard-Digest": blob.digest,
        "Repr-Digest": f"sha-256=:{sha}:",
        "ETag": f'"{blob.digest}"',
        "Accept-Ranges": "bytes",
        # private: the bytes are only for callers who may read a model holding them, so no
        # shared cache (a proxy) may keep them for others.
        "Cache-Control": "private, max-age=31536000, immutable",
        "Content-Length": str(blob.size),
    }


@router.head(
    "/{digest}",
    responses={200: {"description": "The blob's size and digest headers"}},
    dependencies=[CanReadBlob],
)
async def head_blob(digest: DigestPath, request: Request) -> Response:
    blob = await run_in_threadpool(blobs.get_blob, _transfers(request).db, check_digest(digest))
    return Response(headers=_blob_headers(blob), media_type="application/octet-stream")


@router.get(
    "/{digest}",
    dependencies=[CanReadBlob],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The blob's bytes"},
        206: {"content": {"application/octet-stream": {}}, "description": "The range asked"},
    },
)
async def get_blob(digest: DigestPath, request: Request) -> Response:
    """The blob's bytes; ``Range: bytes=START-END`` gives 206 with that part. The
    ``Modelyard-Digest`` header names the digest to verify the bytes against."""
    t = _transfers(request)
    blob = await run_in_threadpool(blobs.get_blob, t.db, check_digest(digest))
    headers = _blob_headers(blob)
    try:
        span = parse_range(request.headers.get("range"), blob.size)
    except RangeNotSatisfiableError as exc:
        return error_response(
            416, exc.code, exc.message, exc.details, {"Content-Range": f"bytes */{blob.size}"}
        )
    start, stop = span or (0, blob.size)
    pieces = await run_in_threadpool(t.store.read, blob.digest, start, stop)
    if span is None:
        return StreamingResponse(pieces, headers=headers, media_type="application/octet-stream")
    headers["Content-Length"] = str(stop - start)
    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{blob.size}"
    return StreamingResponse(
        pieces, status_code=206, headers=headers, media_type="application/octet-stream"
    )
