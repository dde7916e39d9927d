"""The registry's two hottest requests, served without FastAPI's per-request machinery.

    POST /api/v1/models/{namespace}/{name}/versions   (create a version)
    GET  /api/v1/resolve?ref=namespace/name@REF       (resolve a reference)

FastAPI spends about 0.4 ms of CPU on every request before the handler runs: it matches the
path against each route in turn, walks the route's dependency tree (the app-wide guard, the
route's guard, ``Db``, ``Caller``) with its generic solver, then reads and validates the body.
For these two routes that is more than the registry work itself (a resolve is two indexed
reads). ``FastPaths`` sits innermost among the app's middleware, after request ids, metrics,
the audit context, the NUL refusal and the body size limit, and serves the common, well-formed
shape of the two requests itself by calling the very functions the routes are made of:

    well-formed?  ── no ──> the FastAPI route (unchanged), the body handed on as received
        │ yes
    the route's guards (``access.Need``, ``can_read_reference``: the same authentication,
    access checks and recorded refusals), then the route's own handler function, whose
    Response is sent as is; a ModelyardError becomes the response of the app's own handler

"Well-formed" is what FastAPI would accept without a word: a bearer token, a JSON body
(``Content-Type: application/json`` with a ``Content-Length``) that ``VersionCreate`` reads
and validates in one pass as FastAPI's ``json.loads`` and validation take it (see
``_version_body``), or a query string holding one ``ref`` of at most 300 characters.
Everything else (no token, a cookie session, a bad body, a missing ``ref``, HEAD)
goes to the FastAPI route, so every validation error keeps its one place and its one shape.
Nothing is decided twice: the checks made before the hand-over have no side effects.
OpenAPI is untouched (no route is added). ``taken`` counts the requests served here.

A creation that names nothing upstream is first tried without reading the access generation
(the one read the guard makes per request, ~30 µs of a creation's ~900): when the access cache
alone says ALLOW (``access.held_writer``: the token held at the generation last read, its
namespace's visibility too), the creation's own transaction reads the generation before it
writes, and a different one rolls it back (``AccessChanged``). Then, and after any error of
that attempt, the request is signed in, decided and created again the usual way, so a revoked
token or a lost role still counts from the next write, refusals are recorded only by the usual
guard, and every answer but a success is the usual path's.
"""

from __future__ import annotations

import inspect
import re
from collections import Counter
from urllib.parse import parse_qsl

from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelyard.api import access
from modelyard.api.routes import versions as routes
from modelyard.api.schemas import VersionCreate
from modelyard.domain import access as permissions
from modelyard.domain.errors import ModelyardError
from modelyard.services.access_cache import AccessChanged

CREATE_VERSION = "create_version"
RESOLVE = "resolve"
RECHECKED = "create_version_rechecked"  # signed in from the cache, then again (AccessChanged)
# What Starlette's "{namespace}" and "{name}" match: anything but a slash.
_CREATE_PATH = re.compile(r"/api/v1/models/([^/]+)/([^/]+)/versions")
_RESOLVE_PATH = "/api/v1/resolve"
_MAX_REF = 300  # the route's Query(max_length=300)
_MAX_BODY = 64 * 1024  # larger bodies (manifests, cards) take the ordinary route
_JSON = b"application/json"


class FastPaths:
    """Pure ASGI middleware; ``owner`` is the FastAPI app (its state, routes, error handler)."""

    def __init__(self, app: ASGIApp, owner: FastAPI, taken: Counter[str]) -> None:
        self.app = app
        self.owner = owner
        self.taken = taken
        self._write = access.Need(permissions.WRITE)
        self._create_route = _route(routes.router.routes, routes.BASE, "POST")
        self._resolve_route = _route(routes.router.routes, "/resolve", "GET")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            method, path = scope["method"], scope["path"]
            if method == "POST" and path.endswith("/versions"):
                match = _CREATE_PATH.fullmatch(path)
                if match is not None:
                    namespace, name = match.groups()
                    await self._create_version(scope, receive, send, namespace, name)
                    return
            elif method == "GET" and path == _RESOLVE_PATH:
                await self._resolve(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _create_version(
        self, scope: Scope, receive: Receive, send: Send, namespace: str, name: str
    ) -> None:
        head = _headers(scope)
        declared = _declared_length(head.get(b"content-length"))
        if (
            head.get(b"content-type") != _JSON
            or b"authorization" not in head
            or declared is None
            or declared > _MAX_BODY
        ):
            await self.app(scope, receive, send)
            return
        messages, raw = await _read_body(receive)
        replay = _replayed(messages, receive)
        body = _version_body(raw) if raw is not None else None
        if body is None:
            await self.app(scope, replay, send)
            return
        self.taken[CREATE_VERSION] += 1
        scope["path_params"] = {"namespace": namespace, "name": name}
        scope["route"] = self._create_route
        request = Request(scope, replay)
        db = self.owner.state.db
        response: Response | None = None
        if _plain(body) and (held := access.held_writer(request, namespace, name)) is not None:
            try:
                response = await routes.create_version(namespace, name, body, request, db, held[0])
            except (AccessChanged, ModelyardError):
                # Rolled back (an error writes nothing): sign in, decide and create again,
                # below, so what the client hears is what the usual guard and route say
                # against the generation now.
                access.forget_held_writer(request)
                self.taken[RECHECKED] += 1
        if response is None:
            try:
                who = await self._write(request)
                response = await routes.create_version(namespace, name, body, request, db, who)
            except ModelyardError as exc:
                response = await self._error(request, exc)
        await response(scope, replay, send)

    async def _resolve(self, scope: Scope, receive: Receive, send: Send) -> None:
        head = _headers(scope)
        ref = _only_ref(scope["query_string"]) if b"authorization" in head else None
        if ref is None:
            await self.app(scope, receive, send)
            return
        self.taken[RESOLVE] += 1
        scope["path_params"] = {}
        scope["route"] = self._resolve_route
        request = Request(scope, receive)
        try:
            await access.can_read(request, ref)  # can_read_reference, the query parsed above
            response = await routes.resolve(self.owner.state.db, ref)
        except ModelyardError as exc:
            response = await self._error(request, exc)
        await response(scope, receive, send)

    async def _error(self, request: Request, exc: ModelyardError) -> Response:
        """The response the app's exception handler gives (``api/errors.py``)."""
        response = self.owner.exception_handlers[ModelyardError](request, exc)
        return await response if inspect.isawaitable(response) else response


def _route(candidates: list[BaseRoute], path: str, method: str) -> BaseRoute:
    """The route a request would match: what metrics and ``request.scope["route"]`` name."""
    for route in candidates:
        if getattr(route, "path", None) == "/api/v1" + path and method in getattr(
            route, "methods", ()
        ):
            return route
    raise LookupError(f"no {method} route {path}")


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request's headers (names are lower case in ASGI); a repeated one keeps its first."""
    out: dict[bytes, bytes] = {}
    for key, value in scope["headers"]:
        out.setdefault(key, value)
    return out


def _declared_length(value: bytes | None) -> int | None:
    if value is None or not value.isdigit():
        return None
    return int(value)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages received up to the end of the body, and the body (``None`` when the
    client went away first)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replayed(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives ``messages`` again, then goes on with ``receive``."""
    pending = list(messages)

    async def again() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return again


def _version_body(raw: bytes) -> VersionCreate | None:
    """The body as the route would have it, or ``None`` when the route would refuse it (or
    might: the route then decides).

    The route reads it with Starlette's ``json.loads``, then FastAPI validates the one body
    parameter; pydantic's own JSON parser does both in one pass (8 µs less CPU per creation,
    timed in process). ``VersionCreate`` has no strict, date or decimal field, so on JSON's
    own types the two agree on every body pydantic accepts, duplicate keys, NaN, huge numbers
    and lone surrogates included (tests/api/test_fastpath.py); the one body seen to part them,
    one starting with a UTF-8 byte order mark, pydantic refuses and the route answers."""
    try:
        return VersionCreate.model_validate_json(raw)
    except ValidationError:
        return None


def _plain(body: VersionCreate) -> bool:
    """A version that names nothing to read (no upstream, no datasets): its creation needs the
    write permission on its model alone, which ``access.held_writer`` can decide."""
    return not (body.derived_from or body.depends_on or body.ingredients)


def _only_ref(query_string: bytes) -> str | None:
    """``ref`` when it is the query's one parameter and the route accepts its length."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "ref" or len(pairs[0][1]) > _MAX_REF:
        return None
    return pairs[0][1]
