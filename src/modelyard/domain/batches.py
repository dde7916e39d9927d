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

import struct
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
    """The 512-byte ustar header of a member holding blob ``digest`` (``size`` bytes): what
    ``tarfile`` writes for a regular file of mode 0444 owned by 0:0 at time 0, made directly
    (a fifth of its cost; both ends make and read one per small blob)."""
    name = check_digest(digest).encode("ascii")
    if not 0 <= size < 8**11:
        raise ValueError(f"a ustar member holds 0 to 8 GiB - 1 bytes, not {size}")
    header = bytearray(_HEADER_TEMPLATE)
    header[0 : len(name)] = name
    header[124:136] = b"%011o\0" % size
    header[148:156] = b"%06o\0 " % sum(header)  # counted with the field as eight spaces
    return bytes(header)


def _header_template() -> bytes:
    """A member header with every field but the name, size and checksum filled in (the
    checksum field as eight spaces, as the checksum is computed)."""
    header = bytearray(BLOCK)
    header[100:108] = b"0000444\0"  # mode
    header[108:116] = header[116:124] = b"0000000\0"  # uid, gid
    header[136:148] = b"00000000000\0"  # mtime
    header[148:156] = b" " * 8  # checksum
    header[156:157] = tarfile.REGTYPE
    header[257:265] = tarfile.POSIX_MAGIC
    return bytes(header)


_HEADER_TEMPLATE = _header_template()


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
    chunks: Iterator[memoryview]  # views of the body: valid while the body's piece is


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
    """The digest and size a member's header names. Only what the server uses is read (the
    checksum, name, ustar prefix, type and size; mode, owner and times are ignored), the way
    ``tarfile`` reads those fields, at a fifth of its cost."""
    stored = _number(block[148:156])
    if stored is None or not _checksum_matches(block, stored):
        raise invalid(f"member {index} has a damaged header (bad checksum)", member=index)
    try:
        name = _text(block[0:100])
        prefix = _text(block[345:500])
    except UnicodeDecodeError as exc:
        raise invalid(f"member {index} has a damaged header ({exc})", member=index) from None
    kind = block[156:157]
    if kind not in _REGULAR or (kind == tarfile.AREGTYPE and name.endswith("/")):
        raise invalid(f"member {index} is not a regular file", member=index)
    if prefix:  # a ustar long name: never a digest
        name = f"{prefix}/{name}"
    size = _number(block[124:136])
    if size is None or size < 0:
        raise invalid(f"member {index} has a damaged header (bad size)", member=index)
    try:
        digest = check_digest(name)
    except InvalidInputError:
        raise invalid(
            f"member {index} is named {name[:80]!r}, not by a digest", member=index
        ) from None
    return digest, size


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8")


def _number(field: bytes) -> int | None:
    """A numeric header field as ``tarfile`` reads it: octal digits up to a NUL, or GNU's
    base-256 (first byte 0o200, or 0o377 for a negative number); None when unreadable."""
    if field[0] in (0o200, 0o377):
        n = int.from_bytes(field[1:], "big")
        return n - 256 ** (len(field) - 1) if field[0] == 0o377 else n
    try:
        return int(field.split(b"\0", 1)[0].decode("ascii").strip() or "0", 8)
    except (UnicodeDecodeError, ValueError):
        return None


def _checksum_matches(block: bytes, stored: int) -> bool:
    """The header's checksum, the field itself counted as eight spaces, summed as unsigned
    bytes or (as some old tars did) as signed ones."""
    unsigned = 256 + sum(block[:148]) + sum(block[156:])
    if stored == unsigned:
        return True
    signed: tuple[int, ...] = struct.unpack_from("148b8x356b", block)
    return stored == 256 + sum(signed)


class _Reader:
    """Exact-length reads over an iterator of byte strings of any sizes. A member's bytes
    come out as views of the body's pieces, never copied."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = iter(body)
        self._buf = memoryview(b"")
        self._at = 0

    def _fill(self) -> bool:
        while self._at >= len(self._buf):
            piece = next(self._body, None)
            if piece is None:
                return False
            self._buf, self._at = memoryview(piece), 0
        return True

    def pieces(self, n: int) -> Iterator[memoryview]:
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
            if bytes(rest).strip(b"\0"):
                raise invalid("there are bytes after the end-of-batch marker")
