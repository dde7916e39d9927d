"""Helpers for transfer tests: a ``Transfers`` on the test database and local blob store,
and small functions that upload bytes through the real services or the real HTTP API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx

from modelyard.blobs import open_store
from modelyard.db.engine import Database
from modelyard.domain.digests import digest_of
from modelyard.services import uploads
from modelyard.services.uploads import HashCache, Transfers
from modelyard.settings import Settings

API = "/api/v1"


def make_transfers(settings: Settings, db: Database) -> Transfers:
    return Transfers(
        db=db,
        store=open_store(settings),
        hashes=HashCache(),
        max_blob_bytes=settings.max_blob_bytes,
        refresh_after=timedelta(seconds=settings.gc_grace_seconds / 4),
    )


def store_bytes(t: Transfers, data: bytes, chunk: int = 4096) -> str:
    """Upload ``data`` through a session in ``chunk``-sized chunks; returns its digest."""
    upload = uploads.start_upload(t, "tester", len(data))
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        uploads.write_chunk(t, upload.id, start, len(piece), [piece])
    return uploads.commit_upload(t, upload.id, digest_of(data)).digest


def never_read() -> Iterator[bytes]:
    """A body that fails the test if anything reads it."""
    raise AssertionError("the body was read")
    yield b""  # pragma: no cover


def put_blob(http: httpx.Client, data: bytes) -> str:
    digest = digest_of(data)
    r = http.put(f"{API}/blobs/{digest}", content=data)
    assert r.status_code in (200, 201), r.text
    return digest


def start(http: httpx.Client, size: int | None = None) -> str:
    r = http.post(f"{API}/blobs/uploads", json={} if size is None else {"size": size})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def patch(http: httpx.Client, upload_id: str, start_at: int, data: bytes) -> httpx.Response:
    end = start_at + len(data) - 1
    return http.patch(
        f"{API}/blobs/uploads/{upload_id}",
        content=data,
        headers={"content-range": f"bytes {start_at}-{end}/*"},
    )


def commit(http: httpx.Client, upload_id: str, digest: str, **extra: object) -> httpx.Response:
    return http.post(f"{API}/blobs/uploads/{upload_id}/commit", json={"digest": digest, **extra})


def model(http: httpx.Client, namespace: str, name: str) -> None:
    http.post(f"{API}/namespaces", json={"name": namespace})
    r = http.post(f"{API}/models", json={"namespace": namespace, "name": name})
    assert r.status_code == 201, r.text


def create_version(
    http: httpx.Client, full_name: str, files: dict[str, bytes], **extra: object
) -> httpx.Response:
    """Create a version whose manifest lists ``files`` (path -> bytes); blobs not uploaded."""
    artifacts = [
        {"path": path, "size": len(data), "digest": digest_of(data)} for path, data in files.items()
    ]
    return http.post(
        f"{API}/models/{full_name}/versions", json={"manifest": {"artifacts": artifacts}, **extra}
    )
