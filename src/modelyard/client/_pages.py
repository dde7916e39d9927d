"""Walking keyset pages: follow ``next_page_token`` until the server stops issuing one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

from modelyard.domain.records import Page

T = TypeVar("T")


def every_item(fetch: Callable[[str | None], Page[T]]) -> Iterator[T]:
    """Yield the items of every page; ``fetch(token)`` returns the page after ``token``."""
    token: str | None = None
    while True:
        page = fetch(token)
        yield from page.items
        token = page.next_page_token
        if not token:
            return
