"""Blob storage: the ``BlobStore`` protocol (``store.py``), the layout (``layout.py``) and its
backends, chosen by the scheme of ``MODELYARD_BLOB_URL``:

    file:///var/lib/modelyard/blobs   local disk (default: <data dir>/blobs)
    s3://bucket/prefix                S3 or an S3-compatible store (MODELYARD_S3_ENDPOINT_URL)
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from modelyard.blobs.store import (
    BatchWriter,
    BlobInfo,
    BlobStore,
    Segment,
    Staged,
    UploadGapError,
    UploadInfo,
)
from modelyard.settings import Settings

__all__ = [
    "BACKENDS",
    "BatchWriter",
    "BlobInfo",
    "BlobStore",
    "Segment",
    "Staged",
    "UploadGapError",
    "UploadInfo",
    "open_store",
]


def _local(url: str, endpoint_url: str) -> BlobStore:
    from modelyard.blobs.local import LocalBlobStore

    return LocalBlobStore.from_url(url, endpoint_url)


def _s3(url: str, endpoint_url: str) -> BlobStore:
    from modelyard.blobs.s3 import S3BlobStore  # boto3 is only imported when S3 is used

    return S3BlobStore.from_url(url, endpoint_url)


BACKENDS: dict[str, Callable[[str, str], BlobStore]] = {"file": _local, "s3": _s3}


def open_store(settings: Settings) -> BlobStore:
    """The blob store named by ``settings.resolved_blob_url``."""
    url = settings.resolved_blob_url
    scheme = urlsplit(url).scheme
    if scheme not in BACKENDS:
        known = ", ".join(f"{s}://" for s in BACKENDS)
        raise ValueError(f"MODELYARD_BLOB_URL {url!r}: unknown scheme; use one of {known}")
    return BACKENDS[scheme](url, settings.s3_endpoint_url)
