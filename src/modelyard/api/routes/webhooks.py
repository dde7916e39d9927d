"""/api/v1/webhooks: webhooks, their delivery log, test events and redelivery.

Who manages a webhook follows its namespace filter:
- a global webhook (no namespaces: every event, server-wide ones included) belongs to global
  admins (with a token scoped ``admin:*``);
- a webhook filtered to namespaces belongs to whoever manages every one of them (maintainers
  and admins of each, with a token scoped ``admin`` there).
A webhook the caller may not manage does not exist for them (404 WEBHOOK_NOT_FOUND, recorded).
Targets on non-public addresses are refused (400 WEBHOOK_TARGET_FORBIDDEN) unless
MODELYARD_WEBHOOKS_ALLOW_PRIVATE is on; the worker checks again after each DNS look-up.
"""

from __future__ import annotations

import asyncio
import socket
import uuid

from fastapi import APIRouter, Query, Request, Response

from modelyard.api.access import Caller, authorize, record, require_global
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.schemas import PageOut
from modelyard.api.webhook_schemas import (
    DeliveryOut,
    RotateIn,
    WebhookCreate,
    WebhookOut,
    WebhookUpdate,
    WebhookWithSecretOut,
)
from modelyard.domain import access
from modelyard.domain import webhooks as rules
from modelyard.domain.access import Decision, Principal
from modelyard.domain.errors import InvalidInputError, NotFoundError
from modelyard.domain.webhooks import CreatedWebhook, Webhook
from modelyard.services import deliveries, identity
from modelyard.services import webhooks as svc
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses=ERROR_RESPONSES)
ONE = "/webhooks/{webhook_id}"
DNS_TIMEOUT_SECONDS = 5.0


@router.post("/webhooks", status_code=201)
async def create_webhook(
    body: WebhookCreate, request: Request, db: Db, who: Caller
) -> WebhookWithSecretOut:
    """Create a webhook. The answer holds its signing secret, shown this once."""
    namespaces = rules.check_namespace_filters(body.namespaces)
    await _may_manage_filter(request, db, who, namespaces)
    spec = svc.WebhookSpec(
        url=await _checked_url(request, body.url),
        events=rules.check_event_filters(body.events),
        namespaces=namespaces,
        active=body.active,
        description=body.description,
    )
    return _with_secret(await run(db, svc.create_webhook, db, _box(request), who.name, spec))


@router.get("/webhooks")
async def list_webhooks(db: Db, who: Caller) -> list[WebhookOut]:
    """The webhooks the caller manages."""
    hooks = await run(db, svc.list_webhooks, db)
    return [WebhookOut.of(h) for h in hooks if _can_manage(who, h.namespaces)]


@router.get(ONE)
async def get_webhook(webhook_id: str, request: Request, db: Db, who: Caller) -> WebhookOut:
    return WebhookOut.of(await _manageable(request, db, who, webhook_id))


@router.patch(ONE)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, request: Request, db: Db, who: Caller
) -> WebhookOut:
    """Change the URL, filters, description or active flag (fields left out stay)."""
    await _manageable(request, db, who, webhook_id)
    change = svc.WebhookChange(
        url=await _checked_url(request, body.url) if body.url is not None else None,
        events=rules.check_event_filters(body.events) if body.events is not None else None,
        namespaces=(
            rules.check_namespace_filters(body.namespaces) if body.namespaces is not None else None
        ),
        active=body.active,
        description=body.description,
    )
    if change.namespaces is not None:
        await _may_manage_filter(request, db, who, change.namespaces)
    return WebhookOut.of(await run(db, svc.update_webhook, db, who.name, webhook_id, change))


@router.delete(ONE, status_code=204)
async def delete_webhook(webhook_id: str, request: Request, db: Db, who: Caller) -> Response:
    """Delete the webhook, its pending deliveries and its delivery log."""
    await _manageable(request, db, who, webhook_id)
    await run(db, svc.delete_webhook, db, who.name, webhook_id)
    return Response(status_code=204)


@router.post(ONE + "/rotate-secret")
async def rotate_secret(
    webhook_id: str, request: Request, db: Db, who: Caller, body: RotateIn | None = None
) -> WebhookWithSecretOut:
    """A new signing secret, shown this once. The old one stops signing at once, or after
    ``keep_previous_seconds`` during which deliveries carry both signatures."""
    await _manageable(request, db, who, webhook_id)
    keep = body.keep_previous_seconds if body is not None else 0
    made = await run(db, svc.rotate_secret, db, _box(request), who.name, webhook_id, keep)
    return _with_secret(made)


@router.post(ONE + "/test", status_code=202)
async def send_test_event(webhook_id: str, request: Request, db: Db, who: Caller) -> DeliveryOut:
    """Queue a ``webhook.test`` event for this webhook; follow it in its delivery log."""
    await _manageable(request, db, who, webhook_id)
    return DeliveryOut.of(await run(db, svc.send_test_event, db, who.name, webhook_id))


@router.get(ONE + "/deliveries")
async def list_deliveries(
    webhook_id: str,
    request: Request,
    db: Db,
    who: Caller,
    status: str | None = Query(None, max_length=16, description="pending, delivered or dead"),
    page_size: int | None = Query(None, ge=1, le=1000),
    page_token: str | None = Query(None, max_length=2000),
) -> PageOut[DeliveryOut]:
    """The delivery log, newest first: status, attempts, last answer, next attempt."""
    hook = await _manageable(request, db, who, webhook_id)
    items, token = await run(
        db, deliveries.list_deliveries, db, uuid.UUID(hook.id), status, page_size, page_token
    )
    return PageOut(items=[DeliveryOut.of(d) for d in items], next_page_token=token)


@router.get(ONE + "/deliveries/{delivery_id}")
async def get_delivery(
    webhook_id: str, delivery_id: str, request: Request, db: Db, who: Caller
) -> DeliveryOut:
    """One delivery with every attempt (time, status code, error, duration)."""
    hook = await _manageable(request, db, who, webhook_id)
    found = await run(db, deliveries.get_delivery, db, uuid.UUID(hook.id), delivery_id)
    return DeliveryOut.of(found)


@router.post(ONE + "/deliveries/{delivery_id}/redeliver", status_code=202)
async def redeliver(
    webhook_id: str, delivery_id: str, request: Request, db: Db, who: Caller
) -> DeliveryOut:
    """Send a dead-lettered (or delivered) event again: same webhook-id, same body, a fresh
    round of attempts."""
    hook = await _manageable(request, db, who, webhook_id)
    found = await run(db, deliveries.redeliver, db, who.name, uuid.UUID(hook.id), delivery_id)
    return DeliveryOut.of(found)


# ------------------------------------------------------------------------------- helpers


def _box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.webhook_secrets
    return box


def _with_secret(created: CreatedWebhook) -> WebhookWithSecretOut:
    return WebhookWithSecretOut(secret=created.secret, **WebhookOut.of(created.webhook).__dict__)


def _can_manage(who: Principal, namespaces: list[str]) -> bool:
    if not namespaces:
        return who.is_admin and who.has_global("admin")
    return all(
        access.decide(who, access.MANAGE, ns, None, None) is Decision.ALLOW for ns in namespaces
    )


async def _manageable(request: Request, db: Db, who: Principal, webhook_id: str) -> Webhook:
    hook = await run(db, svc.get_webhook, db, webhook_id)
    if not _can_manage(who, hook.namespaces):
        await record(request, db, who, "manage", f"webhook:{hook.id}", 404, "WEBHOOK_NOT_FOUND")
        raise NotFoundError(
            "WEBHOOK_NOT_FOUND", f"no webhook {webhook_id!r}", webhook_id=webhook_id
        )
    return hook


async def _may_manage_filter(
    request: Request, db: Db, who: Principal, namespaces: list[str]
) -> None:
    """Global webhooks: global admins. Namespaced ones: managers of every namespace named,
    each of which must exist."""
    if not namespaces:
        require_global(who, "admin")
        return
    for namespace in namespaces:
        await authorize(request, db, who, access.MANAGE, namespace)
        if await run(db, identity.namespace_visibility, db, namespace) is None:
            raise NotFoundError(
                "NAMESPACE_NOT_FOUND", f"namespace {namespace!r} not found", namespace=namespace
            )


async def _checked_url(request: Request, url: str) -> str:
    """The URL, if it is well formed and (unless private targets are allowed) its host is not
    a non-public address, by itself or through DNS."""
    target = rules.parse_target(url)
    settings: Settings = request.app.state.settings
    if settings.webhooks_allow_private:
        return url
    reason = rules.non_public_host_reason(target.host)
    if reason is None and rules.literal_address(target.host) is None:
        reason = await _resolved_reason(target.host, target.port)
    if reason:
        raise InvalidInputError(
            "WEBHOOK_TARGET_FORBIDDEN",
            f"webhooks may not target {target.origin}: {reason}. Private, loopback and"
            " link-local targets need MODELYARD_WEBHOOKS_ALLOW_PRIVATE on the server",
            origin=target.origin,
            reason=reason,
        )
    return url


async def _resolved_reason(host: str, port: int) -> str | None:
    """Why the addresses ``host`` resolves to are refused, if they are. A name that does not
    resolve now is accepted: the worker checks again, after its own look-up, at every attempt."""
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), DNS_TIMEOUT_SECONDS
        )
    except (OSError, UnicodeError, TimeoutError):
        return None
    for info in infos:
        reason = rules.refusal(host, str(info[4][0]))
        if reason:
            return reason
    return None
