"""Test support: a synchronous httpx transport that drives an ASGI app in process.

httpx's own ``ASGITransport`` is async-only; the SDK and CLI are synchronous. This transport runs
the real app on an event loop in a helper thread (anyio's blocking portal), so SDK tests go
through the whole HTTP stack with no port and no mock.
"""

from __future__ import annotations

import array
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx

from modelyard.blobs import inodes


class SyncASGITransport(httpx.BaseTransport):
    """``client``: the (host, port) the app sees the requests come from."""

    def __init__(
        self,
        app: Any,
        portal: anyio.from_thread.BlockingPortal,
        client: tuple[str, int] = ("127.0.0.1", 123),
    ) -> None:
        self._inner = httpx.ASGITransport(app=app, client=client)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            req = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            resp = await self._inner.handle_async_request(req)
            content = await resp.aread()
            return resp.status_code, resp.headers.raw, content

        status, headers, content = self._portal.call(call)
        return httpx.Response(status, headers=headers, content=content, request=request)


@contextmanager
def sync_transport(app: Any, **kwargs: Any) -> Iterator[SyncASGITransport]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield SyncASGITransport(app, portal, **kwargs)


@contextmanager
def started(app: Any) -> Iterator[None]:
    """Run the app's lifespan (startup and shutdown), as a server does."""
    with (
        anyio.from_thread.start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
    ):
        yield


def spread(path: Path) -> bool | None:
    """Whether ``path`` carries the T attribute; None where the file system has no flags."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, inodes.FS_IOC_GETFLAGS, flags, True)
        return bool(flags[0] & inodes.FS_TOPDIR_FL)
    except OSError:
        return None
    finally:
        os.close(fd)
