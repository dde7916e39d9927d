"""The benchmarks' HTTP client: the standard library's ``http.client``, one connection per client.

Why not httpx: a benchmark measures the server, and the client must cost far less than the
server's answer. One httpx client gets about 1,350 answers a second from an endpoint that does
nothing (Modelyard's ``/healthz``) on this 2-core machine, where client and server share the
cores: its own CPU per request (about 0.5 ms: request and URL models, header normalisation,
the transport's pool and state machine) was the ceiling of every "ops/s" figure. This client
builds the request bytes itself, sends them with one ``sendall`` on a socket with TCP_NODELAY
and reads the answer with ``http.client.HTTPResponse``: about a fifth of the CPU.

Two modes, the same for every server measured:

    keep-alive   one persistent connection; when the server closed it while idle (its
                 keep-alive timeout), the request is sent again on a new one, as httpx does
    new-conn     a new connection per request, ``Connection: close``

Only what the benchmarks use: GET, POST and PUT with a JSON body or query parameters,
answers read whole.
"""

from __future__ import annotations

import http.client
import json
import socket
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

# What a request on a connection the server already closed raises (nothing of the answer read).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
# Any transport failure a measurement records as an error.
ClientError = (OSError, http.client.HTTPException)


class SentRequest:
    """Enough of the request for error messages (``r.request.method``, ``.url.path``)."""

    def __init__(self, method: str, path: str) -> None:
        self.method = method
        self.url = self  # ``request.url.path`` reads as with httpx
        self.path = path


class Reply:
    """An answer: status, headers, body."""

    def __init__(self, request: SentRequest, status: int, headers: dict[str, str], body: bytes):
        self.request = request
        self.status_code = status
        self.headers = headers
        self.content = body

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Client:
    """A client of one server (``base_url``: ``http://host:port``) sending ``headers`` with
    every request."""

    def __init__(self, base_url: str, keep_alive: bool, headers: dict[str, str] | None = None):
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.keep_alive = keep_alive
        fixed = {"Host": f"{self.host}:{self.port}", "Accept": "*/*", **(headers or {})}
        if not keep_alive:
            fixed["Connection"] = "close"
        self._head = "".join(f"{k}: {v}\r\n" for k, v in fixed.items())
        self._conn: http.client.HTTPConnection | None = None

    def get(self, path: str, params: dict[str, Any] | None = None) -> Reply:
        if params:
            path = f"{path}?{urlencode(params)}"
        return self.request("GET", path)

    def post(self, path: str, json: Any = None) -> Reply:
        return self.request("POST", path, json)

    def put(self, path: str, json: Any = None) -> Reply:
        return self.request("PUT", path, json)

    def request(self, method: str, path: str, body: Any = None) -> Reply:
        raw = b"" if body is None else _json_bytes(body)
        head = f"{method} {path} HTTP/1.1\r\n{self._head}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(raw)}\r\n"
        elif method != "GET":
            head += "Content-Length: 0\r\n"
        message = head.encode("latin-1") + b"\r\n" + raw
        reused = self._conn is not None
        try:
            return self._exchange(method, path, message)
        except _STALE:
            self.close()
            if not reused:
                raise
            return self._exchange(method, path, message)  # the server closed it while idle

    def _exchange(self, method: str, path: str, message: bytes) -> Reply:
        conn = self._connection()
        try:
            assert conn.sock is not None
            conn.sock.sendall(message)
            answer = http.client.HTTPResponse(conn.sock, method=method)
            answer.begin()
            body = answer.read()
        except BaseException:
            self.close()
            raise
        headers = {k.lower(): v for k, v in answer.getheaders()}
        if not self.keep_alive or answer.will_close:
            self.close()
        return Reply(SentRequest(method, path), answer.status, headers, body)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30.0)
            conn.connect()
            assert conn.sock is not None
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _json_bytes(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
