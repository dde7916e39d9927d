"""The SDK hashes a big file with the page cache filled ahead of its reads (a model written
long ago is read from the disk); a small file is read without advice."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modelyard import readahead
from modelyard.client import _upload
from modelyard.domain.digests import digest_of


@pytest.fixture
def advice(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    if not readahead.AVAILABLE:
        pytest.skip("no posix_fadvise here")
    monkeypatch.setattr(_upload, "PIECE", 64 * 1024)
    monkeypatch.setattr(readahead, "WINDOW", 256 * 1024)
    monkeypatch.setattr(readahead, "KEEP", 512 * 1024)
    offsets: list[int] = []

    def record(fd: int, offset: int, length: int, what: int) -> None:
        assert what == os.POSIX_FADV_WILLNEED
        offsets.append(offset)

    monkeypatch.setattr(os, "posix_fadvise", record)
    return offsets


def test_a_big_file_is_hashed_with_the_page_cache_filled_ahead(
    tmp_path: Path, advice: list[int]
) -> None:
    data = os.urandom(2 * 1024 * 1024 + 5)
    (tmp_path / "w.bin").write_bytes(data)
    assert _upload.hash_file(tmp_path / "w.bin", lambda n: None) == digest_of(data)
    assert advice[0] == 64 * 1024
    assert advice == [advice[0] + i * 256 * 1024 for i in range(len(advice))]
    assert advice[-1] < len(data) <= advice[-1] + 256 * 1024


def test_a_small_file_is_hashed_without_advice(tmp_path: Path, advice: list[int]) -> None:
    data = os.urandom(1000)
    (tmp_path / "s.bin").write_bytes(data)
    assert _upload.hash_file(tmp_path / "s.bin", lambda n: None) == digest_of(data)
    assert advice == []
