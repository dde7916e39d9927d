"""Streaming request bodies into blocking service code, and the HTTP range headers.

Upload bodies are never held whole: ``run_with_body`` runs a service call in a worker thread
and hands it an ordinary iterator whose items are pieces of about ``PIECE`` bytes, read from
``request.stream()`` on the event loop a few pieces ahead of the thread. Coalescing the ASGI
messages (tens of KiB each) into 1 MiB pieces keeps the thread hops few (about a thousand per
GiB) while memory stays at a few pieces per request, whatever the blob's size.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TypeVar

import anyio
import anyio.from_thread
import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from fastapi import Request
from starlette.requests import ClientDisconnect

from modelyard.domain.errors import InvalidInputError, ModelyardError, RangeNotSatisfiableError

PIECE = 1024 * 1024
AHEAD = 4  # pieces read ahead of the writer
R = TypeVar("R")

_CONTENT_RANGE_RE = re.compile(r"^(?:bytes )?(\d{1,19})-(\d{1,19})(?:/(?:\d{1,19}|\*))?$")
_RANGE_RE = re.compile(r"^bytes=(\d{0,19})-(\d{0,19})$")


async def _pieces(request: Request) -> AsyncGenerator[list[bytes], None]:
    """The body's ASGI messages, grouped into pieces of at least ``PIECE`` bytes."""
    parts: list[bytes] = []
    size = 0
    async for message in request.stream():
        parts.append(message)
        size += len(message)
        if size >= PIECE:
            yield parts
            parts, size = [], 0
    if size:
        yield parts


Item = list[bytes] | Exception


async def _produce(request: Request, send: MemoryObjectSendStream[Item]) -> None:
    """Read the body into ``send``; a failure (client gone) travels down the stream too."""
    async with send:
        try:
            async for piece in _pieces(request):
                await send.send(piece)
        except ClientDisconnect:
            await send.send(InvalidInputError("BAD_REQUEST", "the client went away mid-body"))


def _blocking(receive: MemoryObjectReceiveStream[Item], joined: bool) -> Iterator[bytes]:
    """Iterate the pieces from a worker thread started by ``anyio.to_thread``: each joined
    into one (the one copy each byte takes on its way to the disk), or its messages one by
    one (no copy) when ``joined`` is False."""
    while True:
        try:
            item = anyio.from_thread.run(receive.receive)
        except anyio.EndOfStream:
            return
        if isinstance(item, Exception):
            raise item
        if joined:
            yield b"".join(item)
        else:
            yield from item


async def run_with_body(
    request: Request, call: Callable[[Iterator[bytes]], R], joined: bool = True
) -> R:
    """``call(body)`` in a worker thread, ``body`` streaming the request's body.

    The event loop keeps reading the socket while the thread writes and hashes: up to
    ``AHEAD`` pieces wait between them, so network and disk work overlap and memory stays
    bounded. If ``call`` returns without reading everything, the reader is cancelled.
    ``joined``: the body's items are pieces of about ``PIECE`` bytes (for a caller that
    writes and hashes each item: fewer calls); else the ASGI messages as they came (tens to
    hundreds of KiB each), still handed over a piece at a time, for a caller that splits
    the body itself and would only copy the joined piece apart again."""
    send, receive = anyio.create_memory_object_stream[Item](AHEAD)
    result: list[R] = []

    async def consume() -> None:
        result.append(await anyio.to_thread.run_sync(call, _blocking(receive, joined)))
        tasks.cancel_scope.cancel()  # the reader may still wait for a body nobody wants

    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_produce, request, send)
            tasks.start_soon(consume)
    except BaseExceptionGroup as group:
        raise _most_telling(group) from None
    finally:
        receive.close()
    return result[0]


def _most_telling(group: BaseExceptionGroup) -> BaseException:
    """The error to answer with: the service's own (a ModelyardError) before any other."""
    errors = _flat(group)
    return next((e for e in errors if isinstance(e, ModelyardError)), errors[0])


def _flat(group: BaseExceptionGroup) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out += _flat(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return out


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
