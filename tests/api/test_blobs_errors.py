"""The two transfer errors a client cannot provoke against a healthy server on its own:
another writer holding an upload (UPLOAD_BUSY) and a failing blob store (BLOB_STORE_UNAVAILABLE).
Both answer in the one error shape (checked with test_errors.shape_problems)."""

from __future__ import annotations

import fcntl
import os

import httpx
from fastapi import FastAPI

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.domain.digests import digest_of
from modelyard.settings import Settings
from tests.api.test_errors import shape_problems
from tests.support import sync_transport
from tests.transfer_support import API, patch, start


def test_second_writer_of_an_upload_gets_409_upload_busy(http: httpx.Client, app: FastAPI) -> None:
    upload_id = start(http)
    directory = app.state.blobs.root / "uploads" / upload_id
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a chunk in flight holds
        r = patch(http, upload_id, 0, b"abc")
    finally:
        os.close(fd)
    assert shape_problems(r, "UPLOAD_BUSY") == []
    assert patch(http, upload_id, 0, b"abc").status_code == 202  # free again


def test_failing_blob_store_is_503_blob_store_unavailable(
    settings: Settings, db: Database, s3_endpoint: str, admin_token: str
) -> None:
    broken = settings.with_(blob_url="s3://no-such-bucket/blobs", s3_endpoint_url=s3_endpoint)
    app = create_app(broken, db)
    with (
        sync_transport(app) as transport,
        httpx.Client(
            transport=transport,
            base_url="http://modelyard.test",
            headers={"Authorization": f"Bearer {admin_token}"},
        ) as http,
    ):
        r = http.put(f"{API}/blobs/{digest_of(b'x')}", content=b"x")
    assert shape_problems(r, "BLOB_STORE_UNAVAILABLE") == []
    assert "no-such-bucket" not in r.text  # vendor details stay in the log
