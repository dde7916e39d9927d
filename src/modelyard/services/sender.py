"""Sending one webhook attempt: signed per Standard Webhooks, over a connection that refuses
non-public addresses after DNS resolution.

The address check happens where the socket is opened (``GuardedBackend.connect_tcp``): the
host is resolved once, every address it resolves to is checked, and the connection goes to a
checked address. A name that resolves to a public address when the webhook is created and to
``127.0.0.1`` later (DNS rebinding) is refused at that moment. TLS still verifies the
certificate for the URL's host name. Proxies from the environment are not used (the check
would apply to the proxy), and redirects are not followed (a 3xx is a failed attempt).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

from modelyard import __version__
from modelyard.domain import webhooks as rules
from modelyard.services.deliveries import Outcome

USER_AGENT = f"Modelyard-Webhooks/{__version__}"


class TargetRefused(Exception):
    """The target resolves to an address webhooks may not reach."""


class GuardedBackend(httpcore.SyncBackend):
    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = _resolve(host, port)
        if not self.allow_private:
            for address in addresses:
                reason = rules.refusal(host, address)
                if reason:
                    raise TargetRefused(reason)
        error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} resolves to no address")


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, allow_private: bool) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=20,
            network_backend=GuardedBackend(allow_private),
        )


class Sender:
    """Makes attempts; one per worker, safe to use from several threads."""

    def __init__(self, timeout: float, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._client = httpx.Client(
            transport=GuardedTransport(allow_private),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
        )

    def close(self) -> None:
        self._client.close()

    def send(self, url: str, secrets: Sequence[str], event_id: str, body: str) -> Outcome:
        """POST ``body`` signed for this moment with each of ``secrets`` (two while a
        rotation's overlap runs). The answer's body is not read."""
        timestamp = int(time.time())
        payload = body.encode()
        headers = {
            "content-type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": rules.signatures(secrets, event_id, timestamp, payload),
        }
        started = time.monotonic()
        try:
            with self._client.stream("POST", url, content=payload, headers=headers) as response:
                status = response.status_code
        except TargetRefused as exc:
            return _failed(started, None, f"refused: {exc} (MODELYARD_WEBHOOKS_ALLOW_PRIVATE)")
        except httpx.TimeoutException as exc:
            return _failed(started, None, f"timed out: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return _failed(started, None, f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return Outcome(status, "", _ms(started))
        note = " (redirects are not followed)" if 300 <= status < 400 else ""
        return _failed(started, status, f"HTTP {status}{note}")


def _failed(started: float, status: int | None, error: str) -> Outcome:
    return Outcome(status, error, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
