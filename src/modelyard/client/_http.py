"""The one place the SDK speaks HTTP: headers, timeouts, JSON, and errors turned into exceptions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from modelyard import __version__
from modelyard.client._bodies import Body, HttpxBody, direct_get, direct_ok
from modelyard.client._errors import connection_failed, from_response, unexpected

T = TypeVar("T")

DEFAULT_TIMEOUT = 30.0
USER_AGENT = f"modelyard/{__version__}"


def segment(value: str | int) -> str:
    """One URL path segment: every reserved character escaped, ``/`` included."""
    return quote(str(value), safe="")


class Http:
    """A thin wrapper over ``httpx.Client`` that returns decoded records or raises."""

    def __init__(
        self,
        url: str,
        token: str | None,
        transport: httpx.BaseTransport | None,
        timeout: float | httpx.Timeout,
    ) -> None:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.url = url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.url, headers=headers, transport=transport, timeout=timeout
        )
        self._direct = direct_ok(self.url, transport is not None)
        self._read_timeout = timeout.read if isinstance(timeout, httpx.Timeout) else timeout

    def call(
        self,
        method: str,
        path: str,
        decode: Callable[[Any], T],
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> T:
        """Send one request; return ``decode(body)`` or raise the server's error."""
        response = self._send(method, path, json, params)
        if response.status_code >= 400:
            raise from_response(response)
        try:
            return decode(response.json() if response.content else None)  # 204: no body
        except (ValueError, KeyError, TypeError) as exc:
            raise unexpected(response, f"a body Modelyard does not send ({exc!r})") from exc

    def _send(
        self, method: str, path: str, json: dict[str, Any] | None, params: dict[str, Any] | None
    ) -> httpx.Response:
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            return self._client.request(method, path, json=json, params=query)
        except httpx.TransportError as exc:
            raise connection_failed(self.url, exc) from exc

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request whose body or answer is not JSON (blob bytes); errors raised as by
        ``call``. ``kwargs`` go to ``httpx.Client.request`` (content, headers, params)."""
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise connection_failed(self.url, exc) from exc
        if response.status_code >= 400:
            raise from_response(response)
        return response

    @contextmanager
    def stream(self, method: str, path: str, **kwargs: Any) -> Iterator[httpx.Response]:
        """A response read as it arrives (downloads); errors raised as by ``call``, also
        those that cut the body off half-way."""
        try:
            with self._client.stream(method, path, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    raise from_response(response)
                yield response
        except httpx.TransportError as exc:
            raise connection_failed(self.url, exc) from exc

    @contextmanager
    def download(self, path: str, headers: dict[str, str], big: bool) -> Iterator[Body]:
        """A GET whose body is read with ``readinto`` (blob downloads). ``big``: worth a
        connection of its own, read without httpx's copies where possible (client/_bodies.py)."""
        if big and self._direct:
            sent = {**self._client.headers, **headers}
            with direct_get(self.url, path, sent, self._read_timeout) as body:
                yield body
        else:
            with self.stream("GET", path, headers=headers) as response:
                yield HttpxBody(response)

    def close(self) -> None:
        self._client.close()
