"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware): request ids, body size limit, metrics,
NUL in paths."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.services import audit


class RequestContext:
    """Gives each request an id (``X-Request-ID``, kept from the client when sane) and counts it."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "modelyard_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "modelyard_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
        )
        # The labelled series by (method, route, status): ``labels()`` costs more than the
        # count itself. As bounded as the series are (route templates, not paths).
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        bound = audit.bind_request(request_id=request_id)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            audit.reset(bound)
            count, latency = self._of(scope["method"], _route_template(scope), status)
            count.inc()
            latency.observe(time.perf_counter() - start)

    def _of(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                self.requests.labels(method, route, str(status)),
                self.latency.labels(method, route),
            )
        return series


def _request_id(scope: Scope) -> str:
    for key, value in scope.get("headers", []):
        if key == b"x-request-id" and 0 < len(value) <= 64 and value.isascii() and value.isalnum():
            return str(value.decode())
    return os.urandom(16).hex()  # 32 hex digits, as uuid4().hex, in a quarter of its time


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))


class BodySizeLimit:
    """Refuses JSON request bodies over ``limit`` bytes with 413, from Content-Length when given,
    else while streaming. Routes that stream large bodies (blob uploads) are exempted by prefix."""

    def __init__(self, app: ASGIApp, limit: int, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    message = f"request body is larger than {limit} bytes"
    await send_error(send, 413, "PAYLOAD_TOO_LARGE", message, {"limit": limit})


class RefuseNulInPath:
    """Refuses a path with a NUL character (``%00``) with 400 BAD_REQUEST.

    No name, alias or tag key can contain NUL, and PostgreSQL cannot even compare text holding
    one: a look-up by such a path parameter would fail in the driver (a 500) on PostgreSQL while
    SQLite answers 404. Refusing it here, once, gives one answer on both databases.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "\x00" in scope["path"]:
            message = "the request path contains a NUL character (%00)"
            await send_error(send, 400, "BAD_REQUEST", message, {})
            return
        await self.app(scope, receive, send)


async def send_error(
    send: Send, status: int, code: str, message: str, details: dict[str, Any]
) -> None:
    """The one error shape, for middleware that answers before the app's exception handlers."""
    body = {"error": {"code": code, "message": message, "details": details}}
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
