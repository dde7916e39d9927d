"""The audit log: list, export, verify, head."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from modelyard.client._http import Http
from modelyard.domain.audit import Verification

ROOT = "/api/v1/audit"


def _filters(
    action: str | None,
    actor: str | None,
    target: str | None,
    namespace: str | None,
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    return {
        "action": action,
        "actor": actor,
        "target": target,
        "namespace": namespace,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }


def _verification(data: dict[str, Any]) -> Verification:
    return Verification(**data)


class AuditMixin:
    _http: Http

    def audit_events(
        self,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        namespace: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        oldest_first: bool = False,
        page_size: int | None = None,
        page_token: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of audit events (newest first unless ``oldest_first``) and the token of
        the next page. ``action``/``target`` ending in ``*`` match by prefix."""
        params = _filters(action, actor, target, namespace, since, until)
        params.update(
            order="oldest" if oldest_first else "newest",
            page_size=page_size,
            page_token=page_token,
        )

        def decode(body: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
            return list(body["events"]), body["next_page_token"]

        return self._http.call("GET", ROOT + "/events", decode, params=params)

    def iter_audit_events(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every matching event, fetching pages as needed (same filters as ``audit_events``)."""
        token: str | None = None
        while True:
            events, token = self.audit_events(**filters, page_token=token)
            yield from events
            if token is None:
                return

    def export_audit(
        self,
        format: str = "jsonl",
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        namespace: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[bytes]:
        """The matching events, oldest first, as JSONL or CSV, streamed in chunks."""
        params = _filters(action, actor, target, namespace, since, until)
        params["format"] = format
        query = {k: v for k, v in params.items() if v is not None}
        with self._http.stream("GET", ROOT + "/export", params=query) as response:
            yield from response.iter_bytes()

    def verify_audit(self) -> Verification:
        """Have the server recompute the whole chain (global admins)."""
        return self._http.call("GET", ROOT + "/verify", _verification)

    def audit_head(self) -> dict[str, Any]:
        """The chain's last seq and hash, for anchoring elsewhere."""
        return self._http.call("GET", ROOT + "/head", dict)
