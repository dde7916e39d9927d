"""Big download bodies, read straight into the caller's buffers.

httpx (through h11) reads a response 64 KiB at a time and copies each piece twice in Python;
for a 1 GiB blob that was 1.2-1.4 s of CPU, more than hashing it. ``http.client`` reads a body
with a known length by ``recv_into`` the caller's buffer: about 0.2 s per GiB. So a big blob
is fetched over a connection of its own with ``http.client`` when nothing stands in the way:

    direct   the client was made without a custom transport, the URL is http(s), and no
             proxy applies to it (httpx would honour HTTP(S)_PROXY / ALL_PROXY / NO_PROXY)
    httpx    otherwise (tests drive the app through a transport; proxies): the same
             interface over ``Http.stream``, at httpx's speed

Either way the caller gets a ``Body``: a status, headers and ``readinto``. Errors are raised as
everywhere in the SDK: the server's error responses as ``ModelyardError``, a connection that
fails or breaks off as ``ConnectionFailed``.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from modelyard.client._errors import connection_failed, from_response


class Body(Protocol):
    status_code: int

    def header(self, name: str) -> str | None: ...

    def readinto(self, buffer: memoryview) -> int:
        """Fill ``buffer`` with the next bytes; 0 at the end of the body."""
        ...


class _DirectBody:
    def __init__(self, response: http.client.HTTPResponse, url: str) -> None:
        self.response, self.url = response, url
        self.status_code = response.status

    def header(self, name: str) -> str | None:
        return self.response.getheader(name)

    def readinto(self, buffer: memoryview) -> int:
        try:
            n = self.response.readinto(buffer)
        except (OSError, http.client.HTTPException) as exc:
            raise _broken(self.url, exc) from exc
        if n == 0 and self.response.length:  # the server stopped early
            raise _broken(self.url, http.client.IncompleteRead(b"", self.response.length))
        return n


class HttpxBody:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.status_code = response.status_code
        self._pieces = response.iter_bytes()
        self._left = b""

    def header(self, name: str) -> str | None:
        value: str | None = self.response.headers.get(name)
        return value

    def readinto(self, buffer: memoryview) -> int:
        while not self._left:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._left = piece
        n = min(len(buffer), len(self._left))
        buffer[:n] = self._left[:n]
        self._left = self._left[n:]
        return n


def _broken(url: str, exc: BaseException) -> Exception:
    return connection_failed(url, httpx.ReadError(str(exc) or type(exc).__name__))


def direct_ok(url: str, custom_transport: bool) -> bool:
    """May big bodies bypass httpx for this server (see the module docstring)?"""
    parts = urlsplit(url)
    if custom_transport or parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    proxies = urllib.request.getproxies()
    wanted = proxies.get(parts.scheme) or proxies.get("all")
    return not wanted or bool(urllib.request.proxy_bypass(parts.hostname))


@contextmanager
def direct_get(
    base_url: str, path: str, headers: dict[str, str], timeout: float | None
) -> Iterator[Body]:
    """GET ``path`` on a connection of its own, the body left for ``readinto``."""
    parts = urlsplit(base_url)
    target = parts.path.rstrip("/") + path
    connection = _connection(parts.scheme, parts.hostname or "", parts.port, timeout)
    url = f"{base_url.rstrip('/')}{path}"
    try:
        try:
            connection.request("GET", target, headers={**headers, "Accept-Encoding": "identity"})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise _broken(url, exc) from exc
        if response.status >= 400:
            raise from_response(_as_httpx(response, url))
        yield _DirectBody(response, url)
    finally:
        connection.close()


def _connection(
    scheme: str, host: str, port: int | None, timeout: float | None
) -> http.client.HTTPConnection:
    if scheme == "https":
        context: ssl.SSLContext = httpx.create_ssl_context()  # the CAs httpx would trust
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _as_httpx(response: http.client.HTTPResponse, url: str) -> httpx.Response:
    """An error answer in the shape the SDK's error decoding reads."""
    try:
        content = response.read()
    except (OSError, http.client.HTTPException):
        content = b""
    return httpx.Response(
        response.status,
        headers=response.getheaders(),
        content=content,
        request=httpx.Request("GET", url),
    )
