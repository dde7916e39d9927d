from __future__ import annotations

import hashlib

import pytest

from modelyard.domain.digests import (
    EMPTY_DIGEST,
    Hasher,
    check_digest,
    digest_of,
    hashing,
    hex_of,
    same_digest,
)
from modelyard.domain.errors import InvalidInputError


def test_digest_is_sha256_of_the_bytes() -> None:
    assert digest_of(b"abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()
    assert digest_of(b"") == EMPTY_DIGEST


@pytest.mark.parametrize(
    "text", ["", "sha256:", "sha256:" + "0" * 63, "SHA256:" + "0" * 64, "sha512:" + "0" * 64, 5]
)
def test_malformed_digests_are_digest_invalid(text: object) -> None:
    with pytest.raises(InvalidInputError) as err:
        check_digest(text)
    assert err.value.code == "DIGEST_INVALID"


def test_hex_of_strips_the_algorithm() -> None:
    assert hex_of(EMPTY_DIGEST) == EMPTY_DIGEST[7:]


def test_hasher_counts_and_hashes_streamed_chunks() -> None:
    hasher = Hasher()
    assert b"".join(hashing([b"ab", b"", b"c"], hasher)) == b"abc"
    assert (hasher.digest, hasher.size) == (digest_of(b"abc"), 3)


def test_hasher_copy_continues_independently() -> None:
    first = Hasher()
    first.update(b"ab")
    second = first.copy()
    second.update(b"c")
    assert first.digest == digest_of(b"ab")
    assert second.digest == digest_of(b"abc")


def test_same_digest_compares_exactly() -> None:
    assert same_digest(EMPTY_DIGEST, EMPTY_DIGEST)
    assert not same_digest(EMPTY_DIGEST, digest_of(b"x"))
