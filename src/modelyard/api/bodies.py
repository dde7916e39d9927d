"""Streaming request bodies into blocking service code, and the HTTP range headers.

Upload bodies are never held whole: ``run_with_body`` runs a service call in a worker thread
and hands it an ordinary iterator whose items are pieces of about ``PIECE`` bytes, read from
``request.stream()`` on the event loop as the service asks for them. Coalescing the ASGI
messages (tens of KiB each) into 1 MiB pieces keeps the thread hops few (about a thousand per
GiB) while memory stays at a piece or two per request, whatever the blob's size.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import TypeVar

import anyio.from_thread
import anyio.to_thread
from fastapi import Request
from starlette.requests import ClientDisconnect

from modelyard.domain.errors import InvalidInputError, RangeNotSatisfiableError

PIECE = 1024 * 1024
R = TypeVar("R")

_CONTENT_RANGE_RE = re.compile(r"^(?:bytes )?(\d{1,19})-(\d{1,19})(?:/(?:\d{1,19}|\*))?$")
_RANGE_RE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


async def _pieces(request: Request) -> AsyncGenerator[bytes, None]:
    buffer = bytearray()
    async for message in request.stream():
        buffer += message
        if len(buffer) >= PIECE:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def _blocking(pieces: AsyncIterator[bytes]) -> Iterator[bytes]:
    """Iterate ``pieces`` from a worker thread started by ``anyio.to_thread``."""

    async def next_piece() -> bytes:
        return await anext(pieces)

    while True:
        try:
            yield anyio.from_thread.run(next_piece)
        except StopAsyncIteration:
            return


async def run_with_body(request: Request, call: Callable[[Iterator[bytes]], R]) -> R:
    """``call(body)`` in a worker thread, ``body`` streaming the request's body."""
    pieces = _pieces(request)
    try:
        return await anyio.to_thread.run_sync(call, _blocking(pieces))
    except ClientDisconnect:
        raise InvalidInputError("BAD_REQUEST", "the client went away mid-body") from None
    finally:
        await pieces.aclose()


def content_length(request: Request) -> int | None:
    raw = request.headers.get("content-length")
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 19:
        raise InvalidInputError("BAD_REQUEST", f"Content-Length {raw!r} is not a number")
    return int(raw)


def parse_content_range(header: str | None) -> tuple[int, int]:
    """``bytes START-END/TOTAL`` (or ``START-END``, TOTAL may be ``*``) → (start, length)."""
    m = _CONTENT_RANGE_RE.match(header or "")
    if m is None or int(m.group(2)) < int(m.group(1)):
        raise InvalidInputError(
            "RANGE_INVALID",
            f"a chunk needs Content-Range: bytes START-END/*, not {header!r}",
            header=(header or "")[:100],
        )
    start = int(m.group(1))
    return start, int(m.group(2)) - start + 1


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The byte span ``[start, stop)`` a ``Range`` header asks of ``size`` bytes; None for the
    whole blob (no header, or one this server ignores: malformed or several ranges, which
    RFC 9110 allows a server to ignore). RANGE_NOT_SATISFIABLE when it starts past the end."""
    m = _RANGE_RE.match((header or "").strip())
    if m is None or m.group(1) == m.group(2) == "":
        return None
    first, last = m.group(1), m.group(2)
    if first == "":  # suffix: the last N bytes
        start, stop = max(size - int(last), 0), size
        if int(last) == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return start, stop
    start = int(first)
    stop = size if last == "" else min(int(last) + 1, size)
    if last != "" and int(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(header, size)
    return start, stop


def _unsatisfiable(header: str | None, size: int) -> RangeNotSatisfiableError:
    return RangeNotSatisfiableError(
        "RANGE_NOT_SATISFIABLE",
        f"range {header!r} starts past the end of the {size} bytes",
        size=size,
    )
