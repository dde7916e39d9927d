"""The body of a batch upload: many small blobs in one request, as a POSIX tar (ustar) stream.

    ┌────────────┬──────────────────────┬─────────┬────────────┬─────┬──────────────────┐
    │ header 512 │ blob bytes (size)    │ pad→512 │ header 512 │ ... │ two zero blocks  │
    └────────────┴──────────────────────┴─────────┴────────────┴─────┴──────────────────┘
      name = the digest ("sha256:<64 hex>"), type regular file, size = the blob's length

Any tar writer makes one (``tar cf - sha256:…``); ``tar tvf`` reads one. Only regular-file
members named by a well-formed digest are accepted: no directories, links, long-name or pax
extension headers (a digest always fits the 100-byte name field). Each header's checksum is
checked; a stream cut short, or anything but zeros after the end marker, is BATCH_INVALID.

Bodies are read lazily: ``read_batch`` yields one member at a time, whose ``chunks`` must be
consumed (the caller writes and hashes them) before the next member is read. Nothing here
checks digests against bytes: the upload service does, as they stream past.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from modelyard.domain.digests import check_digest
from modelyard.domain.errors import InvalidInputError

BLOCK = 512
END = b"\0" * (2 * BLOCK)
MEDIA_TYPE = "application/x-tar"
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE)


def member_header(digest: str, size: int) -> bytes:
    """The 512-byte ustar header of a member holding blob ``digest`` (``size`` bytes)."""
    info = tarfile.TarInfo(check_digest(digest))
    info.size = size
    info.mode = 0o444
    return info.tobuf(format=tarfile.USTAR_FORMAT, encoding="utf-8", errors="strict")


def padding(size: int) -> bytes:
    """The zeros that follow ``size`` bytes of a member, up to the next block."""
    return b"\0" * (-size % BLOCK)


def invalid(reason: str, **details: object) -> InvalidInputError:
    return InvalidInputError("BATCH_INVALID", f"the batch is not readable: {reason}", **details)


@dataclass
class Member:
    index: int
    digest: str
    size: int
    chunks: Iterator[bytes]


def read_batch(body: Iterable[bytes]) -> Iterator[Member]:
    """The members of a batch body, in order (see the module docstring)."""
    reader = _Reader(body)
    index = 0
    while True:
        block = reader.exact(BLOCK, "the end-of-batch marker is missing")
        if block == END[:BLOCK]:
            reader.expect_zeros()
            return
        digest, size = _parse_header(block, index)
        member = Member(index, digest, size, reader.pieces(size))
        yield member
        for _ in member.chunks:  # whatever the consumer left unread
            pass
        reader.skip(-size % BLOCK)
        index += 1


def _parse_header(block: bytes, index: int) -> tuple[str, int]:
    try:
        info = tarfile.TarInfo.frombuf(block, "utf-8", "strict")
    except (tarfile.HeaderError, UnicodeDecodeError) as exc:
        raise invalid(f"member {index} has a damaged header ({exc})", member=index) from None
    if info.type not in _REGULAR:
        raise invalid(f"member {index} is not a regular file", member=index)
    try:
        digest = check_digest(info.name)
    except InvalidInputError:
        raise invalid(
            f"member {index} is named {info.name[:80]!r}, not by a digest", member=index
        ) from None
    return digest, info.size


class _Reader:
    """Exact-length reads over an iterator of byte strings of any sizes."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = iter(body)
        self._buf = b""
        self._at = 0

    def _fill(self) -> bool:
        while self._at >= len(self._buf):
            piece = next(self._body, None)
            if piece is None:
                return False
            self._buf, self._at = piece, 0
        return True

    def pieces(self, n: int) -> Iterator[bytes]:
        while n > 0:
            if not self._fill():
                raise invalid("the body ends inside a member")
            piece = self._buf[self._at : self._at + n]
            self._at += len(piece)
            n -= len(piece)
            yield piece

    def exact(self, n: int, truncated: str) -> bytes:
        parts = []
        while n > 0:
            if not self._fill():
                raise invalid(truncated)
            piece = self._buf[self._at : self._at + n]
            self._at += len(piece)
            n -= len(piece)
            parts.append(piece)
        return b"".join(parts)

    def skip(self, n: int) -> None:
        if self.exact(n, "the body ends inside a member").strip(b"\0"):
            raise invalid("a member's padding is not zeros")

    def expect_zeros(self) -> None:
        """After the end marker's first block: only zeros may follow (tar pads to records)."""
        while self._fill():
            rest = self._buf[self._at :]
            self._at = len(self._buf)
            if rest.strip(b"\0"):
                raise invalid("there are bytes after the end-of-batch marker")
