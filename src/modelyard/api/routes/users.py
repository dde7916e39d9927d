"""/api/v1/users and /api/v1/service-accounts.

Any signed-in caller may read users (to add them to a team); global admins create people and
change admin flags; a namespace's admins create and manage the service accounts it owns.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from modelyard.api.access import Caller, SignedIn, authorize, require_global
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.identity_schemas import (
    AdminFlag,
    PasswordChange,
    ServiceAccountCreate,
    UserCreate,
    UserOut,
    UserUpdate,
)
from modelyard.api.schemas import PageOut
from modelyard.db.engine import Database
from modelyard.domain import access
from modelyard.domain.access import Principal, parse_role
from modelyard.domain.accounts import User
from modelyard.domain.errors import ForbiddenError, InvalidInputError
from modelyard.services import users as svc

router = APIRouter(prefix="/api/v1", tags=["identity"], responses=ERROR_RESPONSES)
TokenQ = Annotated[str | None, Query(max_length=4096)]


@router.post("/users", status_code=201)
async def create_user(body: UserCreate, db: Db, who: Caller) -> UserOut:
    """Create a person (global admins only). Without a password they use tokens only."""
    require_global(who, "admin")
    user = await run_in_threadpool(  # argon2 hashing: keep it off the event loop
        svc.create_user,
        db,
        who.name,
        body.name,
        body.password,
        body.display_name,
        body.email,
        body.admin,
    )
    return UserOut.of(user)


@router.get("/users", dependencies=[SignedIn])
async def list_users(
    db: Db,
    kind: Literal["user", "service"] | None = None,
    page_size: int | None = None,
    page_token: TokenQ = None,
) -> PageOut[UserOut]:
    page = await run(db, svc.list_users, db, kind, page_size, page_token)
    return PageOut(items=[UserOut.of(u) for u in page.items], next_page_token=page.next_page_token)


@router.get("/users/{user}", dependencies=[SignedIn])
async def get_user(user: str, db: Db) -> UserOut:
    return UserOut.of(await run(db, svc.get_user, db, user))


@router.patch("/users/{user}")
async def update_user(
    user: str, body: UserUpdate, request: Request, db: Db, who: Caller
) -> UserOut:
    """Display name and e-mail: the user themselves, or whoever manages the account."""
    await may_manage(request, db, who, await run(db, svc.get_user, db, user), own=True)
    return UserOut.of(await run(db, svc.update_user, db, user, body.display_name, body.email))


@router.put("/users/{user}/password", status_code=204)
async def set_password(
    user: str, body: PasswordChange, request: Request, db: Db, who: Caller
) -> None:
    """People change their own password (giving the current one); global admins reset anyone's.
    Every web session of the user ends."""
    target = await run(db, svc.get_user, db, user)
    current = body.current_password
    if who.name == target.name and current is not None:
        require_global(who, "admin", admin=False)  # a read-only token changes no password
    elif who.name == target.name and not who.is_admin:
        raise InvalidInputError(
            "PASSWORD_INVALID", "give current_password to change your own password"
        )
    else:
        await may_manage(request, db, who, target, own=False)
    await run_in_threadpool(svc.set_password, db, user, body.password, current)


@router.put("/users/{user}/admin")
async def set_admin(user: str, body: AdminFlag, db: Db, who: Caller) -> UserOut:
    """Make or unmake a global admin (global admins only; one always remains)."""
    require_global(who, "admin")
    return UserOut.of(await run(db, svc.set_admin, db, user, body.admin))


@router.post("/users/{user}/disable")
async def disable_user(user: str, request: Request, db: Db, who: Caller) -> UserOut:
    """Disable an account: its sessions end and its tokens are refused from the next request."""
    await may_manage(request, db, who, await run(db, svc.get_user, db, user), own=False)
    return UserOut.of(await run(db, svc.set_disabled, db, user, True))


@router.post("/users/{user}/enable")
async def enable_user(user: str, request: Request, db: Db, who: Caller) -> UserOut:
    await may_manage(request, db, who, await run(db, svc.get_user, db, user), own=False)
    return UserOut.of(await run(db, svc.set_disabled, db, user, False))


@router.post("/service-accounts", status_code=201)
async def create_service_account(
    body: ServiceAccountCreate, request: Request, db: Db, who: Caller
) -> UserOut:
    """A machine user for CI, owned by ``namespace`` (its admins, and global admins, manage
    it) and a member there with ``role``. It has tokens only and never approves."""
    role = parse_role(body.role)
    await authorize(request, db, who, access.OWN, body.namespace)
    user = await run(
        db,
        svc.create_service_account,
        db,
        who.name,
        body.name,
        body.namespace,
        role,
        body.display_name,
    )
    return UserOut.of(user)


@router.get("/service-accounts", dependencies=[SignedIn])
async def list_service_accounts(
    db: Db, page_size: int | None = None, page_token: TokenQ = None
) -> PageOut[UserOut]:
    page = await run(db, svc.list_users, db, "service", page_size, page_token)
    return PageOut(items=[UserOut.of(u) for u in page.items], next_page_token=page.next_page_token)


async def may_manage(
    request: Request, db: Database, who: Principal, target: User, own: bool
) -> None:
    """Global admins manage every account; a namespace's admins its service accounts; with
    ``own``, people also manage themselves."""
    if who.is_admin and who.has_global("admin"):
        return
    if own and who.name == target.name and who.has_global("admin"):
        return
    if target.kind == "service" and target.owner_namespace is not None:
        await authorize(request, db, who, access.OWN, target.owner_namespace)
        return
    raise ForbiddenError(
        "PERMISSION_DENIED",
        f"{who.name} may not manage user {target.name!r}: a global admin may",
        permission="manage-user",
        target=target.name,
    )
