"""Digests: how blobs and manifests are named.

A digest is ``sha256:`` followed by 64 lower-case hex digits, the SHA-256 of the exact bytes.
Everything content-addressed (blobs, manifests, the ``ns/name@sha256:…`` reference) uses this
one form. Digests are compared with ``hmac.compare_digest`` so a comparison takes the same time
whatever the input (the habit costs nothing and rules out timing questions).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from modelyard.domain.errors import InvalidInputError

B = TypeVar("B", bytes, memoryview)  # a piece of a byte stream

ALGORITHM = "sha256"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
DIGEST_LENGTH = len("sha256:") + 64
EMPTY_DIGEST = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def check_digest(text: object, what: str = "digest") -> str:
    """``text`` if it is a well-formed digest, else DIGEST_INVALID."""
    if not isinstance(text, str) or not DIGEST_RE.match(text):
        raise InvalidInputError(
            "DIGEST_INVALID",
            f"{what} {text!r} is not a digest: expected sha256: and 64 lower-case hex digits",
            digest=str(text)[:200],
        )
    return text


def hex_of(digest: str) -> str:
    """The 64 hex digits of a well-formed digest."""
    return check_digest(digest)[len("sha256:") :]


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class Hasher:
    """SHA-256 of a byte stream, counting its length as it goes."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)
        self.size += len(data)

    def copy(self) -> Hasher:
        twin = Hasher()
        twin._h = self._h.copy()
        twin.size = self.size
        return twin

    @property
    def digest(self) -> str:
        return f"sha256:{self._h.hexdigest()}"


def hashing(chunks: Iterable[B], hasher: Hasher) -> Iterator[B]:
    """Pass ``chunks`` through, feeding each one to ``hasher`` (hash while streaming)."""
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk


def hashing_alongside(chunks: Iterable[bytes], hasher: Hasher) -> Iterator[bytes]:
    """``hashing``, with the hash computed on a helper thread while the caller writes each
    chunk: SHA-256 and file writes both release the GIL, so a big upload costs the longer of
    the two instead of their sum. The chunks must not change after they are yielded (bytes
    never do). ``hasher`` is complete when the generator is exhausted."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="hash") as pool:
        pending: Future[None] | None = None
        for chunk in chunks:
            if pending is not None:
                pending.result()  # at most one chunk ahead: memory stays at two chunks
            pending = pool.submit(hasher.update, chunk)
            yield chunk
        if pending is not None:
            pending.result()
