"""A real ``modelyard serve`` process killed (SIGKILL) in the middle of an upload leaves no
version row and no partial blob; after a restart the upload resumes and succeeds."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from modelyard.db.engine import Database
from modelyard.db.tables import BlobRow, UploadRow, VersionRow
from modelyard.domain.digests import digest_of
from modelyard.settings import Settings
from tests.transfer_support import API, commit, create_version, model, patch, start

pytestmark = pytest.mark.slow
MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(settings: Settings, port: int, **extra_env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``modelyard serve`` in a process of its own; ``extra_env``: more ``MODELYARD_*``."""
    env = {
        **os.environ,
        **extra_env,
        "MODELYARD_DATA_DIR": str(settings.data_dir),
        "MODELYARD_DATABASE_URL": settings.resolved_database_url,
        "MODELYARD_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "modelyard", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(port, proc)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=30)


def _wait_until_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "modelyard serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("modelyard serve did not come up")


def send_half_a_chunk(
    port: int, upload_id: str, start_at: int, data: bytes, token: str
) -> socket.socket:
    """Start a PATCH announcing all of ``data`` but send only half of it."""
    sock = socket.create_connection(("127.0.0.1", port))
    head = (
        f"PATCH {API}/blobs/uploads/{upload_id} HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Length: {len(data)}\r\n"
        f"Content-Range: bytes {start_at}-{start_at + len(data) - 1}/*\r\n\r\n"
    )
    sock.sendall(head.encode() + data[: len(data) // 2])
    return sock


def count(db: Database, table: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def test_server_killed_mid_upload_leaves_no_version_and_no_partial_blob(
    settings: Settings, db: Database, admin_token: str
) -> None:
    auth = {"Authorization": f"Bearer {admin_token}"}
    data = os.urandom(3 * MIB)
    port = free_port()
    blob_dir = Path(settings.resolved_blob_url.removeprefix("file://")) / "sha256"
    with (
        serve(settings, port) as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth) as http,
    ):
        model(http, "team", "crash")
        upload_id = start(http, len(data))
        assert patch(http, upload_id, 0, data[:MIB]).status_code == 202
        sock = send_half_a_chunk(port, upload_id, MIB, data[MIB:], admin_token)
        time.sleep(0.5)  # the server is now streaming the chunk
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        sock.close()
    assert count(db, VersionRow) == 0
    assert count(db, BlobRow) == 0
    assert list(blob_dir.glob("*/*")) == []
    assert count(db, UploadRow) == 1

    with (
        serve(settings, port),
        httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth) as http,
    ):
        received = http.get(f"{API}/blobs/uploads/{upload_id}").json()["received"]
        assert received == MIB  # the cut-off chunk counts for nothing
        assert patch(http, upload_id, received, data[received:]).status_code == 202
        assert commit(http, upload_id, digest_of(data)).status_code == 201
        assert create_version(http, "team/crash", {"weights.bin": data}).status_code == 201
        assert http.get(f"{API}/blobs/{digest_of(data)}").content == data
    assert count(db, VersionRow) == 1
    assert [p.name for p in blob_dir.glob("*/*")] == [digest_of(data)[7:]]
