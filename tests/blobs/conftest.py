"""The blob store under test: every conformance test runs on local disk and on S3 (a real S3
server on loopback, see ``s3_endpoint`` in tests/conftest.py). Stores are made from a blob URL
through ``open_store``, the way the server makes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from modelyard.blobs import BlobStore, open_store
from modelyard.domain.digests import digest_of
from modelyard.settings import Settings

SMALL_PART = 6 * 1024 * 1024  # S3 part objects this big, so tests cross part boundaries


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        settings = Settings(data_dir=tmp_path)
    else:
        bucket = request.getfixturevalue("s3_bucket")
        endpoint = request.getfixturevalue("s3_endpoint")
        settings = Settings(
            data_dir=tmp_path, blob_url=f"s3://{bucket}/team/blobs", s3_endpoint_url=endpoint
        )
    opened = open_store(settings)
    if hasattr(opened, "part_bytes"):
        opened.part_bytes = SMALL_PART
    yield opened
    opened.close()


def put(store: BlobStore, chunks: Iterable[bytes]) -> str:
    """Write a blob through the upload area, the way the upload service does."""
    pieces = list(chunks)
    data = b"".join(pieces)
    digest = digest_of(data)
    upload_id = str(uuid.uuid4())
    with store.open_upload(upload_id) as writer:
        segments = writer.append(0, pieces)
    staged = store.stage(upload_id, segments, digest, len(data))
    store.publish(staged)
    store.delete_upload(upload_id)
    return digest


def read_all(store: BlobStore, digest: str, start: int = 0, stop: int | None = None) -> bytes:
    return b"".join(store.read(digest, start, stop))
