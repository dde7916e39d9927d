"""The batch body format (domain/batches.py): written by the SDK, read by the server."""

from __future__ import annotations

import os

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


def test_a_stream_cut_inside_a_member_is_batch_invalid() -> None:
    body = body_of([os.urandom(1000)])[:800]
    with pytest.raises(InvalidInputError) as err:
        read_all([body])
    assert err.value.code == "BATCH_INVALID"
