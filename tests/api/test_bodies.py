"""Request bodies handed to blocking service code (api/bodies.py): in pieces of about a
mebibyte, or as the messages came for a caller that splits the body itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import cast

import anyio
from fastapi import Request

from modelyard.api import bodies

MESSAGES = [bytes([i]) * 300_000 for i in range(8)]  # 2.4 MB in ASGI-sized messages


class _Streaming:
    """What ``run_with_body`` reads of a request: its body's messages."""

    async def stream(self) -> AsyncIterator[bytes]:
        for message in MESSAGES:
            yield message


def _handed_over(joined: bool) -> list[bytes]:
    seen: list[bytes] = []

    def call(body: Iterator[bytes]) -> int:
        seen.extend(body)
        return len(seen)

    async def main() -> int:
        return await bodies.run_with_body(cast(Request, _Streaming()), call, joined=joined)

    assert anyio.run(main) == len(seen)
    return seen


def test_writers_get_the_body_joined_into_pieces_of_about_a_mebibyte() -> None:
    seen = _handed_over(joined=True)
    assert [len(piece) for piece in seen] == [1_200_000, 1_200_000]
    assert b"".join(seen) == b"".join(MESSAGES)


def test_a_caller_that_splits_the_body_itself_gets_the_messages_uncopied() -> None:
    seen = _handed_over(joined=False)
    assert len(seen) == len(MESSAGES)
    assert all(got is sent for got, sent in zip(seen, MESSAGES, strict=True))
