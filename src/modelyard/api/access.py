"""Authentication and authorization: the one place every ``/api/v1`` route is guarded.

    request ──> authenticated()          who: Bearer token (Authorization header only; never a
       │                                  cookie, never the URL) or web session cookie (+ CSRF
       │                                  token on unsafe methods); else 401
       └──> Need(permission)              may they, on the route's namespace/model?
                                          ALLOW · FORBID -> 403 · HIDE -> the 404 a missing
                                          target gets (domain/access.py decides)

Failed logins and bad tokens count against the client (``api/limits.py``); a blocked client
gets 429 with ``Retry-After`` before its credentials are even looked at. Every refusal of a
known caller, every failed login and every bad token is recorded (``services/denials.py``).

Routes declare what they need: ``dependencies=[CanRead]``, ``[CanWrite]`` … (path parameters
``namespace`` and ``name`` name the target), ``SignedIn`` for lists that filter by what the
caller may read, or call ``authorize`` themselves when the target is in the body. A test
checks that every route is guarded or deliberately public.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import Depends, Request
from starlette.types import Scope

from modelyard.api.calls import get_db, run
from modelyard.api.limits import FailureLimiter
from modelyard.db.engine import Database
from modelyard.domain import access
from modelyard.domain.access import Decision, Permission, Principal
from modelyard.domain.digests import check_digest
from modelyard.domain.errors import (
    ForbiddenError,
    InvalidInputError,
    ModelyardError,
    NotFoundError,
    TooManyRequestsError,
    UnauthenticatedError,
)
from modelyard.domain.references import parse_reference
from modelyard.services import audit, denials, identity, sessions, uploads
from modelyard.services.access_cache import AccessCache
from modelyard.services.denials import Denial

SESSION_COOKIE = "modelyard_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded",)


def client_of(request: Request) -> str:
    """The client address (behind a proxy, uvicorn's --forwarded-allow-ips makes it the real
    one)."""
    client = request.scope.get("client")  # what ``request.client`` wraps, read directly
    return str(client[0]) if client is not None else "unknown"


def limiter_of(request: Request) -> FailureLimiter:
    limiter: FailureLimiter = request.app.state.auth_limiter
    return limiter


def check_not_blocked(request: Request) -> None:
    limiter = limiter_of(request)
    if limiter.nobody_failed():  # the common case, without a lock or the client's address
        return
    wait = limiter.retry_after(client_of(request))
    if wait:
        raise TooManyRequestsError(
            "TOO_MANY_ATTEMPTS",
            f"too many failed sign-ins from this client; retry in {wait} seconds",
            retry_after=wait,
        )


async def authenticated(request: Request) -> Principal:
    """The caller, or 401. Memoised on the request: guards and handlers share one look-up.

    Guards take the request alone (the database from ``app.state``): FastAPI analyses every
    sub-dependency of every route at start-up and walks them on every request.

    The request's state and headers are read from the ASGI scope (``request.state`` and
    ``request.headers`` wrap the same dict and list): the objects cost more than the look-up."""
    state = _state(request)
    known: Principal | None = state.get("principal")
    if known is not None:
        return known
    db = _db(request)
    header = _authorization(request.scope)
    if header is not None:
        who = await _from_token(request, db, header)
    else:
        who = await _from_session(request, db)
    state["principal"] = who
    audit.bind_request(actor=who.name, actor_id=who.user_id, token_id=who.token_id)
    return who


def _state(request: Request) -> dict[str, Any]:
    """The dict ``request.state`` keeps its attributes in."""
    state: dict[str, Any] = request.scope.setdefault("state", {})
    return state


def _authorization(scope: Scope) -> str | None:
    """``request.headers.get("authorization")``: the first such header (ASGI names are lower
    case), decoded as Starlette decodes it."""
    for key, value in scope["headers"]:
        if key == b"authorization":
            return str(value.decode("latin-1"))
    return None


async def _from_token(request: Request, db: Database, header: str) -> Principal:
    check_not_blocked(request)
    scheme, _, secret = header.strip().partition(" ")
    try:
        if scheme.lower() != "bearer" or not secret.strip():
            raise UnauthenticatedError(
                "TOKEN_INVALID", "the Authorization header must be 'Bearer <token>'"
            )
        cache: AccessCache = request.app.state.access_cache
        who, generation = await run(db, cache.sign_in, db, secret.strip())
    except UnauthenticatedError as exc:
        limiter_of(request).failed(client_of(request))
        await record(request, db, None, "authenticate", "", 401, exc.code)
        raise
    _state(request)["access_generation"] = generation
    return who


async def _from_session(request: Request, db: Database) -> Principal:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise UnauthenticatedError(
            "UNAUTHENTICATED",
            "sign in: send 'Authorization: Bearer <token>' (modelyard login, modelyard tokens"
            " create) or a session cookie",
        )
    who = await run(db, sessions.principal, db, secret)
    if who is None:
        raise UnauthenticatedError("UNAUTHENTICATED", "the session has ended; sign in again")
    if request.method not in SAFE_METHODS:
        await check_csrf(request, secret)
    return who


async def check_csrf(request: Request, secret: str) -> None:
    """A cookie rides along with any site's request; the CSRF token (sent back in a header, or
    a form field) proves the page that sent it was ours. Cross-site origins are refused too."""
    check_same_origin(request)
    sent = request.headers.get(CSRF_HEADER) or await _form_field(request, CSRF_FIELD)
    if not sent or not hmac.compare_digest(sent, sessions.csrf_token(secret)):
        raise ForbiddenError(
            "CSRF_FAILED",
            f"a request signed in by cookie needs the CSRF token (header {CSRF_HEADER} or form"
            f" field {CSRF_FIELD})",
        )


def check_same_origin(request: Request) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise ForbiddenError("CSRF_FAILED", "cross-site requests are refused")
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise ForbiddenError("CSRF_FAILED", "cross-site requests are refused", origin=origin)
    if origin == "null":
        raise ForbiddenError("CSRF_FAILED", "requests from an opaque origin are refused")


async def _form_field(request: Request, name: str) -> str | None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in FORM_TYPES:
        return None
    values = parse_qs((await request.body()).decode("utf-8", "replace")).get(name)
    return values[0] if values else None


# Routes anyone may call: probes, metrics and signing in. Everything else needs a caller.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/api/v1/login"})


async def signed_in_unless_public(request: Request) -> None:
    """The app-wide guard (``create_app`` installs it on every route): a route someone adds
    without a guard of its own still needs a signed-in caller."""
    route = request.scope.get("route")
    if getattr(route, "path", None) not in PUBLIC_PATHS:
        await authenticated(request)


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


# ------------------------------------------------------------------------- authorization


async def authorize(
    request: Request,
    db: Database,
    who: Principal,
    permission: Permission,
    namespace: str,
    model: str | None = None,
    creating: bool = False,
) -> None:
    """Raise the 404 or 403 ``who`` deserves for ``permission`` on ``namespace[/model]``.

    ``creating``: the model does not exist yet; hiding then depends on seeing the namespace.
    """
    visibility = None if who.is_admin else await _visibility(request, db, namespace)
    decision = access.decide(who, permission, namespace, model, visibility)
    if decision is Decision.ALLOW:
        return
    if (
        decision is Decision.HIDE
        and creating
        and access.decide(who, access.READ, namespace, None, visibility) is not Decision.HIDE
    ):
        decision = Decision.FORBID
    if decision is Decision.FORBID:
        raise _forbidden(who, permission, namespace, model)  # recorded by the error handler
    error = _hidden(namespace, None if creating else model)
    target = f"{namespace}/{model}" if model else namespace
    await record(request, db, who, permission.name, target, error.status, error.code)
    raise error


async def _visibility(request: Request, db: Database, namespace: str) -> str | None:
    """The namespace's visibility, from the access cache when the request was signed in
    through it (a token), else from the database."""
    generation: int | None = _state(request).get("access_generation")
    if generation is None:
        return await run(db, identity.namespace_visibility, db, namespace)
    cache: AccessCache = request.app.state.access_cache
    held = cache.held_visibility(namespace, generation)
    if held is not None:
        return held.value
    return await run(db, cache.load_visibility, db, namespace, generation)


def _hidden(namespace: str, model: str | None) -> NotFoundError:
    """Word for word what the services say of a target that does not exist."""
    if model is None:
        return NotFoundError(
            "NAMESPACE_NOT_FOUND", f"namespace {namespace!r} not found", namespace=namespace
        )
    full = f"{namespace}/{model}"
    return NotFoundError("MODEL_NOT_FOUND", f"model {full} not found", model=full)


def _forbidden(
    who: Principal, permission: Permission, namespace: str, model: str | None
) -> ForbiddenError:
    target = f"{namespace}/{model}" if model else namespace
    role = who.roles.get(namespace)
    return ForbiddenError(
        "PERMISSION_DENIED",
        f"{who.name} may not {permission.name} {target}: it needs the {permission.role.label}"
        f" role and a token scope for {permission.action!r}",
        permission=permission.name,
        target=target,
        needs_role=permission.role.label,
        needs_scope=permission.action,
        role=role.label if role else None,
    )


def require_global(who: Principal, action: str, admin: bool = True) -> None:
    """Server-wide work (users, service accounts, new namespaces): a global admin (when
    ``admin``) with a token scoped ``action:*``."""
    if (admin and not who.is_admin) or not who.has_global(action):
        raise ForbiddenError(
            "PERMISSION_DENIED",
            f"{who.name} may not do this: it needs"
            + (" a global admin" if admin else "")
            + f" with a token scoped {action}:*",
            needs_scope=f"{action}:*",
        )


def check_can_create_namespace(who: Principal) -> None:
    """Any person may start a team (they become its admin); a service account only as a
    global admin. The token needs an ``admin:*`` scope: the new namespace is not in any
    narrower one yet."""
    if who.is_service and not who.is_admin:
        raise ForbiddenError(
            "PERMISSION_DENIED", "service accounts cannot create namespaces", user=who.name
        )
    require_global(who, "admin", admin=False)


async def record_refusal(request: Request, exc: ModelyardError) -> None:
    """Called by the error handler for every 403, wherever it was raised: each is recorded,
    with what the error's details say of the action and the target."""
    db: Database = request.app.state.db
    who: Principal | None = getattr(request.state, "principal", None)
    action = str(exc.details.get("permission") or exc.code.lower())
    target = str(exc.details.get("target") or exc.details.get("user") or "")[:300]
    await record(request, db, who, action, target, exc.status, exc.code)


async def record(
    request: Request,
    db: Database,
    who: Principal | None,
    action: str,
    target: str,
    status: int,
    code: str,
) -> None:
    denial = Denial(
        action=action,
        target=target,
        method=request.method,
        path=request.url.path[:1024],
        status=status,
        code=code,
        actor=who.name if who else "",
        actor_id=who.user_id if who else None,
        token_id=who.token_id if who else None,
        client=client_of(request)[:64],
        request_id=str(getattr(request.state, "request_id", ""))[:64],
    )
    await run(db, denials.record, db, denial)


class Need:
    """Dependency: the caller holds ``permission`` on the route's ``{namespace}`` (and
    ``{name}``, the model, when the path has one)."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:
        who = await authenticated(request)
        params = request.path_params
        await authorize(
            request, _db(request), who, self.permission, params["namespace"], params.get("name")
        )
        return who


# The request state's key for a generation a write must confirm in its transaction
# (``held_writer``); absent when the guard read the generation itself.
ASSUMED_GENERATION = "assumed_access_generation"


def held_writer(request: Request, namespace: str, model: str) -> tuple[Principal, int] | None:
    """``Need(WRITE)`` decided from the access cache alone, for the version-creation fast
    path: the bearer token's caller and the generation assumed, when the cache holds
    everything the decision needs at the generation last read and the decision is ALLOW.
    ``None`` (take the usual guard) for anything else: no token, a client with failed
    sign-ins, a token or visibility not held, or any decision but ALLOW, so refusals are
    always made, and recorded, by the usual guard against a generation just read. Nothing is
    recorded or changed here; the request's state is set only on ALLOW."""
    header = _authorization(request.scope)
    if header is None or not limiter_of(request).nobody_failed():
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    cache: AccessCache = request.app.state.access_cache
    held = cache.held_sign_in(secret.strip())
    if held is None:
        return None
    who, generation = held
    visibility = None
    if not who.is_admin:
        seen = cache.held_visibility(namespace, generation)
        if seen is None:
            return None
        visibility = seen.value
    if access.decide(who, access.WRITE, namespace, model, visibility) is not Decision.ALLOW:
        return None
    state = _state(request)
    state["principal"] = who
    state["access_generation"] = state[ASSUMED_GENERATION] = generation
    audit.bind_request(actor=who.name, actor_id=who.user_id, token_id=who.token_id)
    return held


def forget_held_writer(request: Request) -> None:
    """Undo ``held_writer``'s state, so the usual guard signs the request in afresh."""
    state = _state(request)
    for key in ("principal", "access_generation", ASSUMED_GENERATION):
        state.pop(key, None)


async def can_read_reference(request: Request) -> Principal:
    """For routes that take ``?ref=namespace/name@REF``: read access to that model. A reference
    that does not parse names nothing; the route then answers REFERENCE_INVALID."""
    return await can_read(request, request.query_params.get("ref", ""))


async def can_read(request: Request, reference: str) -> Principal:
    """``can_read_reference`` for the reference ``reference`` (the fast path has parsed the
    query string already)."""
    who = await authenticated(request)
    try:
        ref = parse_reference(reference)
    except InvalidInputError:
        return who
    await authorize(request, _db(request), who, access.READ, ref.namespace, ref.name)
    return who


async def can_upload(
    request: Request, who: Annotated[Principal, Depends(authenticated)]
) -> Principal:
    """Blob uploads: a caller who may write to some namespace."""
    if not who.writes_somewhere():
        raise ForbiddenError(
            "PERMISSION_DENIED",
            f"{who.name} may not upload: it needs the contributor role somewhere and a token"
            " scope for 'write'",
            permission="upload",
        )
    return who


async def can_use_upload(
    request: Request,
    who: Annotated[Principal, Depends(can_upload)],
    db: Annotated[Database, Depends(get_db)],
) -> Principal:
    """An upload session belongs to the principal that started it: to anyone else, admins
    included, it does not exist (the same 404 UPLOAD_NOT_FOUND as a missing one), so nobody
    can write into, commit, cancel or even probe another caller's upload."""
    upload_id = str(request.path_params["upload_id"])
    owner = await run(db, uploads.owner_of, db, upload_id)
    if owner is not None and owner != who.name:
        await record(request, db, who, "upload", upload_id, 404, "UPLOAD_NOT_FOUND")
        raise uploads.not_found(upload_id)
    return who  # unknown sessions: the service answers UPLOAD_NOT_FOUND


async def can_read_blob(
    request: Request,
    who: Annotated[Principal, Depends(authenticated)],
    db: Annotated[Database, Depends(get_db)],
) -> Principal:
    """A blob is readable by whoever may read a model with a version holding it; to anyone
    else it does not exist (the same 404 as a missing blob)."""
    digest = check_digest(request.path_params["digest"])  # DIGEST_INVALID before anything
    if who.is_admin and who.has_global("read"):
        return who
    holders = await run(db, identity.blob_holders, db, digest)
    if any(access.decide(who, access.READ, ns, m, vis) is Decision.ALLOW for ns, m, vis in holders):
        return who
    if holders:
        await record(request, db, who, "read", digest, 404, "BLOB_NOT_FOUND")
    raise NotFoundError("BLOB_NOT_FOUND", f"no blob {digest}", digest=digest)


async def check_blobs_readable(
    request: Request, db: Database, who: Principal, digests: list[str]
) -> None:
    """``can_read_blob`` for many digests (a batch download): the first one the caller may
    not read, or that no version holds, is BLOB_NOT_FOUND for the whole request."""
    if who.is_admin and who.has_global("read"):
        return
    holders = await run(db, identity.blob_holders_of, db, digests)
    for digest in digests:
        held = holders.get(digest, [])
        if any(access.decide(who, access.READ, ns, m, v) is Decision.ALLOW for ns, m, v in held):
            continue
        if held:
            await record(request, db, who, "read", digest, 404, "BLOB_NOT_FOUND")
        raise NotFoundError("BLOB_NOT_FOUND", f"no blob {digest}", digest=digest)


Caller = Annotated[Principal, Depends(authenticated)]
SignedIn = Depends(authenticated)
CanRead = Depends(Need(access.READ))
CanWrite = Depends(Need(access.WRITE))
CanPromote = Depends(Need(access.PROMOTE))
CanManage = Depends(Need(access.MANAGE))
CanOwn = Depends(Need(access.OWN))
CanReadReference = Depends(can_read_reference)
CanUpload = Depends(can_upload)
CanUseUpload = Depends(can_use_upload)
CanReadBlob = Depends(can_read_blob)
