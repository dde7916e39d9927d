"""The batch body format (domain/batches.py): written by the SDK, read by the server."""

from __future__ import annotations

import os
import tarfile

import pytest

from modelyard.domain.batches import END, member_header, padding, read_batch
from modelyard.domain.digests import digest_of
from modelyard.domain.errors import InvalidInputError


def body_of(blobs: list[bytes]) -> bytes:
    parts = [member_header(digest_of(b), len(b)) + b + padding(len(b)) for b in blobs]
    return b"".join(parts) + END


def read_all(pieces: list[bytes]) -> list[tuple[int, str, bytes]]:
    return [(m.index, m.digest, b"".join(m.chunks)) for m in read_batch(pieces)]


@pytest.mark.parametrize("piece", [1, 7, 512, 4096, 10**6])
def test_members_read_back_whatever_the_body_is_cut_into(piece: int) -> None:
    blobs = [os.urandom(1000), b"", os.urandom(512), os.urandom(3)]
    body = body_of(blobs)
    pieces = [body[i : i + piece] for i in range(0, len(body), piece)]
    assert read_all(pieces) == [(i, digest_of(b), b) for i, b in enumerate(blobs)]


def test_a_member_the_reader_leaves_unread_is_skipped() -> None:
    blobs = [os.urandom(2000), b"second"]
    names = [m.digest for m in read_batch([body_of(blobs)])]  # never touches m.chunks
    assert names == [digest_of(b) for b in blobs]


def test_headers_are_ustar_with_the_digest_as_name() -> None:
    header = member_header(digest_of(b"x"), 1)
    assert len(header) == 512
    assert header[:71].decode() == digest_of(b"x")
    assert header[257:262] == b"ustar"


@pytest.mark.parametrize("size", [0, 1, 511, 512, 100_000, 8**11 - 1])
def test_headers_are_byte_for_byte_what_tarfile_writes(size: int) -> None:
    digest = digest_of(str(size).encode())
    info = tarfile.TarInfo(digest)
    info.size, info.mode = size, 0o444
    assert member_header(digest, size) == _header(info)
    with pytest.raises(ValueError, match="8 GiB"):
        member_header(digest, 8**11)


def test_a_stream_cut_inside_a_member_is_batch_invalid() -> None:
    body = body_of([os.urandom(1000)])[:800]
    with pytest.raises(InvalidInputError) as err:
        read_all([body])
    assert err.value.code == "BATCH_INVALID"


def test_members_come_out_as_views_of_the_body_not_copies() -> None:
    blob = os.urandom(5000)
    body = body_of([blob])
    chunks = [c for m in read_batch([body]) for c in m.chunks]
    assert all(isinstance(c, memoryview) and c.obj is body for c in chunks)
    assert b"".join(chunks) == blob


def _header(info: tarfile.TarInfo, fmt: int = tarfile.USTAR_FORMAT) -> bytes:
    return info.tobuf(format=fmt, encoding="utf-8", errors="strict")[:512]


def _read_one(header: bytes, data: bytes = b"") -> tuple[str, bytes]:
    member = next(read_batch([header + data + padding(len(data)) + END]))
    return member.digest, b"".join(member.chunks)


def _refused(header: bytes) -> str:
    with pytest.raises(InvalidInputError) as err:
        _read_one(header)
    assert err.value.code == "BATCH_INVALID"
    return err.value.message


def test_headers_read_as_tarfile_reads_them() -> None:
    data = b"twelve bytes"
    info = tarfile.TarInfo(digest_of(data))
    info.size = len(data)
    for fmt in (tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT):
        assert _read_one(_header(info, fmt), data) == (digest_of(data), data)
    old = bytearray(_header(info))  # a v7 header: no magic, "regular file" as NUL
    old[156], old[257:265] = 0, bytes(8)
    assert _read_one(_with_checksum(old), data) == (digest_of(data), data)


def _with_checksum(header: bytearray, signed: bool = False) -> bytes:
    header[148:156] = b" " * 8
    total = sum(b - 256 if signed and b > 127 else b for b in header)
    header[148:156] = b"%06o\0 " % total
    return bytes(header)


def test_a_checksum_summed_as_signed_bytes_is_accepted_as_tarfile_does() -> None:
    header = bytearray(member_header(digest_of(b""), 0))
    header[265:270] = "ü".encode() + b"\xff\xfe\xfd"  # owner name: bytes over 127 count
    assert _read_one(_with_checksum(header, signed=True)) == (digest_of(b""), b"")
    assert _read_one(_with_checksum(header)) == (digest_of(b""), b"")


def test_a_header_with_a_wrong_checksum_is_damaged() -> None:
    header = bytearray(member_header(digest_of(b"x"), 1))
    header[130] ^= 1  # the size field, checksum left as it was
    assert "bad checksum" in _refused(bytes(header))
    header = bytearray(member_header(digest_of(b"x"), 1))
    header[148:156] = b"notoctal"
    assert "bad checksum" in _refused(bytes(header))


def test_a_ustar_long_name_is_not_a_digest() -> None:
    header = bytearray(member_header(digest_of(b""), 0))
    header[345:349] = b"dir\0"
    assert "not by a digest" in _refused(_with_checksum(header))


def test_an_old_style_directory_is_not_a_regular_file() -> None:
    info = tarfile.TarInfo(digest_of(b"") + "/")
    info.type = tarfile.AREGTYPE
    header = bytearray(_header(info))
    header[156] = 0
    assert "not a regular file" in _refused(_with_checksum(header))


def test_sizes_in_base_256_are_read_and_negative_ones_refused() -> None:
    data = b"abc"
    header = bytearray(member_header(digest_of(data), 0))
    header[124:136] = b"\x80" + (3).to_bytes(11, "big")
    assert _read_one(_with_checksum(header), data) == (digest_of(data), data)
    header[124:136] = b"\xff" * 12  # -1
    assert "bad size" in _refused(_with_checksum(header))


def test_a_name_that_is_not_utf8_is_damaged() -> None:
    header = bytearray(member_header(digest_of(b""), 0))
    header[0:2] = b"\xff\xfe"
    assert "damaged header" in _refused(_with_checksum(header))
