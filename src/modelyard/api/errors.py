"""The one place where errors become HTTP responses, all in one JSON shape:

    {"error": {"code": "MODEL_NOT_FOUND", "message": "...", "details": {...}}}

Domain errors carry their code; FastAPI's validation errors become VALIDATION_FAILED (422), or
BAD_REQUEST (400) for unreadable JSON, or UNSUPPORTED_MEDIA_TYPE (415) when a body that must be
JSON is declared as something else; unknown routes NOT_FOUND; anything else is a bug and
becomes INTERNAL (500) with the request id, never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelyard.api import access
from modelyard.api.schemas import ErrorOut
from modelyard.domain.errors import ModelyardError

log = logging.getLogger("modelyard.api")

_HTTP_CODES = {
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(jsonable_encoder(body), status_code=status, headers=headers)


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ModelyardError)
    if exc.status == 403:
        await access.record_refusal(request, exc)
    return error_response(exc.status, exc.code, exc.message, exc.details, _headers(exc))


def _headers(exc: ModelyardError) -> dict[str, str] | None:
    """What HTTP asks of a 401 (the scheme to use) and a 429 (when to come back)."""
    if exc.status == 401:
        return {"WWW-Authenticate": 'Bearer realm="modelyard"'}
    if exc.status == 429:
        return {"Retry-After": str(exc.details.get("retry_after", 60))}
    return None


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in exc.errors()
    ]
    if _body_not_json(request, exc):
        return error_response(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "the request body must be JSON (Content-Type: application/json)",
            {"content_type": request.headers.get("content-type", "")},
        )
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        return error_response(
            400, "BAD_REQUEST", "the request body is not valid JSON", {"problems": problems}
        )
    summary = "; ".join(f"{p['location']}: {p['message']}" for p in problems[:5])
    return error_response(
        422, "VALIDATION_FAILED", f"invalid request: {summary}", {"problems": problems}
    )


def _body_not_json(request: Request, exc: RequestValidationError) -> bool:
    """FastAPI hands a body with a non-JSON media type to validation as raw bytes, which would
    read as a schema mismatch (422); the client's real mistake is the media type."""
    content_type = request.headers.get("content-type")
    if not content_type or not any(e.get("loc", ())[:1] == ("body",) for e in exc.errors()):
        return False
    media = content_type.split(";")[0].strip().lower()
    return not (
        media == "application/json"
        or (media.startswith("application/") and media.endswith("+json"))
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "BAD_REQUEST" if exc.status_code < 500 else "INTERNAL")
    message = str(exc.detail) if exc.status_code != 404 else f"no route {request.url.path}"
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "")
    log.exception("unhandled error (request id %s)", request_id)
    return error_response(
        500, "INTERNAL", "internal error; see the server log", {"request_id": request_id}
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ModelyardError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)


def documented(description: str) -> dict[str, Any]:
    """An error response in a route's OpenAPI ``responses``: the ErrorOut schema by reference.

    Not ``{"model": ErrorOut}``: FastAPI builds a pydantic TypeAdapter for every model of every
    response of every route at import time (some 900 for ten error statuses on ~90 routes, about
    a second of start-up). ``install_openapi`` adds the referenced schemas once."""
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


# Documented on every /api/v1 route so clients (and schemathesis) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: documented(description)
    for status, description in [
        (400, "Invalid input (NAME_INVALID, FILTER_INVALID, …)"),
        (401, "Not signed in, or a bad, expired or revoked token (UNAUTHENTICATED, TOKEN_…)"),
        (403, "Signed in but not allowed (PERMISSION_DENIED, CSRF_FAILED)"),
        (404, "Not found (MODEL_NOT_FOUND, VERSION_NOT_FOUND, …)"),
        (409, "Conflict (MODEL_EXISTS, MODEL_ARCHIVED, …)"),
        (413, "Request body too large"),
        (415, "Request body is not JSON (UNSUPPORTED_MEDIA_TYPE)"),
        (422, "Request does not match the schema (VALIDATION_FAILED)"),
        (429, "Too many failed sign-ins from this client (TOO_MANY_ATTEMPTS; see Retry-After)"),
        (503, "Database unavailable"),
    ]
}


def install_openapi(app: FastAPI) -> None:
    """Generate the OpenAPI document as FastAPI does, plus the error schemas the routes refer
    to (see ``documented``)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            defs = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.update(defs.pop("$defs", {}))
            schemas["ErrorOut"] = defs
        assert app.openapi_schema is not None  # FastAPI.openapi keeps what it made
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
