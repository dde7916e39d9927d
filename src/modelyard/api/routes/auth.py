"""/api/v1/login, /logout, /whoami: web sessions and "who am I"."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from modelyard.api.access import (
    FORM_TYPES,
    SESSION_COOKIE,
    Caller,
    check_not_blocked,
    check_same_origin,
    client_of,
    limiter_of,
    record,
)
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.identity_schemas import IdentityOut, LoginIn, LoginOut, UserOut
from modelyard.domain.errors import InvalidInputError, UnauthenticatedError
from modelyard.services import identity, sessions
from modelyard.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["identity"], responses=ERROR_RESPONSES)

_LOGIN_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginIn.model_json_schema()},
            "application/x-www-form-urlencoded": {"schema": LoginIn.model_json_schema()},
        },
    }
}
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


@router.post("/login", response_model=LoginOut, openapi_extra=_LOGIN_BODY)
async def login(request: Request, db: Db) -> JSONResponse:
    """Sign in with a user name and password (JSON or an HTML form): starts a web session
    (an HttpOnly cookie) and returns the CSRF token the session's changes must carry.
    Failed attempts count against the client's limit (429 with Retry-After)."""
    check_not_blocked(request)
    check_same_origin(request)
    creds = await _credentials(request)
    try:
        user = await run_in_threadpool(sessions.check_password, db, creds.name, creds.password)
    except UnauthenticatedError as exc:
        limiter_of(request).failed(client_of(request))
        await record(request, db, None, "login", creds.name[:300], 401, exc.code)
        raise
    settings: Settings = request.app.state.settings
    secret = await run(db, sessions.start, db, user.name, settings.session_ttl_seconds)
    body = LoginOut(user=UserOut.of(user), csrf_token=sessions.csrf_token(secret))
    response = JSONResponse(body.model_dump(mode="json"))
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_ttl_seconds,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


def _secure(request: Request) -> bool:
    """Secure cookies everywhere but plain http on loopback (a laptop), where browsers would
    otherwise drop the cookie."""
    return request.url.scheme == "https" or request.url.hostname not in _LOOPBACK


async def _credentials(request: Request) -> LoginIn:
    raw = await request.body()
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if media in FORM_TYPES:
            form = parse_qs(raw.decode("utf-8", "replace"))
            data: Any = {k: v[0] for k, v in form.items() if k in ("name", "password")}
        else:
            data = json.loads(raw or b"null")
        return LoginIn.model_validate(data)
    except (ValueError, ValidationError):
        raise InvalidInputError(
            "VALIDATION_FAILED", 'send a user name and password: {"name": …, "password": …}'
        ) from None


@router.post("/logout", status_code=204)
async def logout(request: Request, db: Db, who: Caller) -> Response:
    """End this web session (a token caller has none; nothing happens)."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret and who.via == "session":
        await run(db, sessions.end, db, secret)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/whoami")
async def whoami(request: Request, db: Db, who: Caller) -> IdentityOut:
    """The caller: user, how they signed in (token scopes), namespaces, roles, capacities."""
    me = await run(db, identity.whoami, db, who)
    secret = request.cookies.get(SESSION_COOKIE)
    csrf = sessions.csrf_token(secret) if secret and who.via == "session" else None
    return IdentityOut.of(me, csrf)
