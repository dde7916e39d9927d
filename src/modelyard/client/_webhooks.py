"""Webhooks: create (the secret shown once), list, show, update, delete, rotate the secret,
send a test event, the delivery log and redelivery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from modelyard.client._http import Http, segment
from modelyard.client._pages import every_item
from modelyard.domain.records import Page
from modelyard.domain.webhooks import Attempt, CreatedWebhook, Delivery, Webhook

API = "/api/v1"


def _hook(webhook_id: str) -> str:
    return f"{API}/webhooks/{segment(webhook_id)}"


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def webhook(data: dict[str, Any]) -> Webhook:
    return Webhook(
        id=data["id"],
        url=data["url"],
        description=data["description"],
        events=list(data["events"]),
        namespaces=list(data["namespaces"]),
        active=data["active"],
        created_by=data["created_by"],
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_by=data["updated_by"],
        updated_at=datetime.fromisoformat(data["updated_at"]),
        previous_secret_until=_when(data.get("previous_secret_until")),
    )


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def created(data: dict[str, Any]) -> CreatedWebhook:
    return CreatedWebhook(webhook(data), str(data["secret"]))


def attempt(data: dict[str, Any]) -> Attempt:
    return Attempt(
        number=data["number"],
        at=datetime.fromisoformat(data["at"]),
        status_code=data.get("status_code"),
        error=data["error"],
        duration_ms=data["duration_ms"],
    )


def delivery(data: dict[str, Any]) -> Delivery:
    return Delivery(
        id=data["id"],
        webhook_id=data["webhook_id"],
        event_id=data["event_id"],
        event_type=data["event_type"],
        status=data["status"],
        attempts=data["attempts"],
        next_attempt_at=_time(data.get("next_attempt_at")),
        last_status_code=data.get("last_status_code"),
        last_error=data["last_error"],
        created_at=datetime.fromisoformat(data["created_at"]),
        delivered_at=_time(data.get("delivered_at")),
        attempt_log=[attempt(a) for a in data.get("attempt_log") or []],
    )


def _deliveries_page(data: dict[str, Any]) -> Page[Delivery]:
    return Page([delivery(d) for d in data["items"]], data.get("next_page_token"))


def _nothing(_: Any) -> None:
    return None


class WebhooksMixin:
    _http: Http

    def create_webhook(
        self,
        url: str,
        events: list[str] | None = None,
        namespaces: list[str] | None = None,
        active: bool = True,
        description: str = "",
    ) -> CreatedWebhook:
        """A new webhook; ``.secret`` (``whsec_…``) is its signing secret, returned this once.
        No ``namespaces``: a global webhook (global admins only)."""
        body = {
            "url": url,
            "events": events or [],
            "namespaces": namespaces or [],
            "active": active,
            "description": description,
        }
        return self._http.call("POST", f"{API}/webhooks", created, json=body)

    def list_webhooks(self) -> list[Webhook]:
        """The webhooks you manage."""
        return self._http.call("GET", f"{API}/webhooks", lambda d: [webhook(w) for w in d])

    def get_webhook(self, webhook_id: str) -> Webhook:
        """Raises ``NotFoundError`` (WEBHOOK_NOT_FOUND)."""
        return self._http.call("GET", _hook(webhook_id), webhook)

    def update_webhook(
        self,
        webhook_id: str,
        url: str | None = None,
        events: list[str] | None = None,
        namespaces: list[str] | None = None,
        active: bool | None = None,
        description: str | None = None,
    ) -> Webhook:
        """Change the fields given; ``[]`` clears a filter."""
        given = {
            "url": url,
            "events": events,
            "namespaces": namespaces,
            "active": active,
            "description": description,
        }
        body = {k: v for k, v in given.items() if v is not None}
        return self._http.call("PATCH", _hook(webhook_id), webhook, json=body)

    def delete_webhook(self, webhook_id: str) -> None:
        self._http.call("DELETE", _hook(webhook_id), _nothing)

    def rotate_webhook_secret(
        self, webhook_id: str, keep_previous_seconds: int = 0
    ) -> CreatedWebhook:
        """A new signing secret (returned this once). The old one is no longer used, or, with
        ``keep_previous_seconds`` (at most 7 days), deliveries carry both signatures until then
        so the receiver can switch secrets without refusing events."""
        body = {"keep_previous_seconds": keep_previous_seconds}
        return self._http.call("POST", _hook(webhook_id) + "/rotate-secret", created, json=body)

    def test_webhook(self, webhook_id: str) -> Delivery:
        """Queue a ``webhook.test`` event for this webhook; returns its (pending) delivery."""
        return self._http.call("POST", _hook(webhook_id) + "/test", delivery)

    def list_deliveries(
        self,
        webhook_id: str,
        status: str | None = None,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> Page[Delivery]:
        """One page of the delivery log, newest first; ``status``: pending, delivered, dead."""
        params = {"status": status, "page_size": page_size, "page_token": page_token}
        path = _hook(webhook_id) + "/deliveries"
        return self._http.call("GET", path, _deliveries_page, params=params)

    def iter_deliveries(
        self, webhook_id: str, status: str | None = None, page_size: int | None = None
    ) -> Iterator[Delivery]:
        return every_item(partial(self.list_deliveries, webhook_id, status, page_size))

    def get_delivery(self, webhook_id: str, delivery_id: str) -> Delivery:
        """One delivery with its attempt log."""
        path = f"{_hook(webhook_id)}/deliveries/{segment(delivery_id)}"
        return self._http.call("GET", path, delivery)

    def redeliver(self, webhook_id: str, delivery_id: str) -> Delivery:
        """Send a dead-lettered or delivered event again (same webhook-id)."""
        path = f"{_hook(webhook_id)}/deliveries/{segment(delivery_id)}/redeliver"
        return self._http.call("POST", path, delivery)
