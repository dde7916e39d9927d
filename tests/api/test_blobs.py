"""The transfer API over real HTTP in process: missing, upload sessions, single-request
uploads, downloads with ranges (on SQLite and PostgreSQL, local blob store)."""

from __future__ import annotations

import base64
import hashlib
import os

import httpx
import pytest
from fastapi import FastAPI

from modelyard.domain.digests import EMPTY_DIGEST, digest_of
from tests.transfer_support import API, commit, patch, put_blob, start


def blob_files(app: FastAPI) -> list[str]:
    root = app.state.blobs.root / "sha256"
    return sorted(p.name for p in root.glob("*/*"))


def test_missing_lists_only_the_digests_the_server_lacks(http: httpx.Client) -> None:
    held = put_blob(http, b"held")
    lacking = digest_of(b"lacking")
    r = http.post(f"{API}/blobs/missing", json={"digests": [lacking, held, lacking]})
    assert r.status_code == 200
    assert r.json() == {"missing": [lacking]}


def test_missing_refuses_a_malformed_digest(http: httpx.Client) -> None:
    r = http.post(f"{API}/blobs/missing", json={"digests": ["sha256:nothex"]})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "DIGEST_INVALID"


def test_chunked_upload_commits_a_byte_identical_blob(http: httpx.Client, app: FastAPI) -> None:
    data = os.urandom(50_000)
    upload_id = start(http, len(data))
    for at in range(0, len(data), 16_384):
        r = patch(http, upload_id, at, data[at : at + 16_384])
        assert r.status_code == 202, r.text
        assert r.json()["received"] == min(at + 16_384, len(data))
    r = commit(http, upload_id, digest_of(data), size=len(data))
    assert r.status_code == 201, r.text
    assert r.json()["created"] is True
    assert r.headers["location"] == f"{API}/blobs/{digest_of(data)}"
    assert http.get(f"{API}/blobs/{digest_of(data)}").content == data
    assert blob_files(app) == [digest_of(data)[7:]]


def test_out_of_order_chunk_gets_416_with_the_current_range(http: httpx.Client) -> None:
    upload_id = start(http)
    assert patch(http, upload_id, 0, b"0123456789").status_code == 202
    for wrong_start in (5, 11, 0):
        r = patch(http, upload_id, wrong_start, b"xyz")
        assert r.status_code == 416
        assert r.json()["error"]["code"] == "CHUNK_OUT_OF_ORDER"
        assert r.json()["error"]["details"]["received"] == 10
        assert r.headers["range"] == "bytes=0-9"
        assert r.headers["upload-offset"] == "10"
    assert http.get(f"{API}/blobs/uploads/{upload_id}").json()["received"] == 10


def test_status_tells_where_to_resume(http: httpx.Client) -> None:
    upload_id = start(http, 8)
    r = http.get(f"{API}/blobs/uploads/{upload_id}")
    assert (r.status_code, r.json()["received"], r.json()["declared_size"]) == (200, 0, 8)
    assert "range" not in r.headers
    patch(http, upload_id, 0, b"abc")
    r = http.get(f"{API}/blobs/uploads/{upload_id}")
    assert (r.json()["received"], r.headers["range"]) == (3, "bytes=0-2")


def test_commit_rejects_a_digest_mismatch_and_drops_the_session(
    http: httpx.Client, app: FastAPI
) -> None:
    upload_id = start(http)
    patch(http, upload_id, 0, b"the real bytes")
    claimed = digest_of(b"other bytes")
    r = commit(http, upload_id, claimed)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "DIGEST_INVALID"
    assert error["details"] == {"expected": claimed, "actual": digest_of(b"the real bytes")}
    assert http.get(f"{API}/blobs/uploads/{upload_id}").status_code == 404
    assert http.head(f"{API}/blobs/{claimed}").status_code == 404
    assert blob_files(app) == []


@pytest.mark.parametrize(("declared", "given"), [(None, 5), (5, None), (4, 4)])
def test_commit_rejects_a_size_mismatch(
    http: httpx.Client, declared: int | None, given: int | None
) -> None:
    upload_id = start(http, declared)
    patch(http, upload_id, 0, b"abcd")
    r = commit(http, upload_id, digest_of(b"abcd"), **({"size": given} if given else {}))
    if declared == given == 4:
        assert r.status_code == 201
        return
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "SIZE_INVALID"
    assert http.head(f"{API}/blobs/{digest_of(b'abcd')}").status_code == 404


def test_chunk_past_the_declared_size_is_size_invalid(http: httpx.Client) -> None:
    upload_id = start(http, 4)
    r = patch(http, upload_id, 0, b"abcdef")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "SIZE_INVALID"
    assert http.get(f"{API}/blobs/uploads/{upload_id}").json()["received"] == 0


@pytest.mark.parametrize("header", [None, "bytes 5-2/*", "bytes=0-9", "lots"])
def test_chunk_needs_a_well_formed_content_range(http: httpx.Client, header: str | None) -> None:
    upload_id = start(http)
    headers = {} if header is None else {"content-range": header}
    r = http.patch(f"{API}/blobs/uploads/{upload_id}", content=b"abc", headers=headers)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "RANGE_INVALID"


def test_content_length_must_agree_with_content_range(http: httpx.Client) -> None:
    upload_id = start(http)
    r = http.patch(
        f"{API}/blobs/uploads/{upload_id}",
        content=b"abc",
        headers={"content-range": "bytes 0-9/*"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "SIZE_INVALID"


def test_cancel_drops_the_session(http: httpx.Client, app: FastAPI) -> None:
    upload_id = start(http)
    patch(http, upload_id, 0, b"abandoned")
    assert http.delete(f"{API}/blobs/uploads/{upload_id}").status_code == 204
    assert http.get(f"{API}/blobs/uploads/{upload_id}").status_code == 404
    assert list((app.state.blobs.root / "uploads").iterdir()) == []
    r = http.delete(f"{API}/blobs/uploads/{upload_id}")
    assert r.json()["error"]["code"] == "UPLOAD_NOT_FOUND"


def test_single_request_upload_stores_once_then_reports_it_held(
    http: httpx.Client, app: FastAPI
) -> None:
    data = b"a small file"
    first = http.put(f"{API}/blobs/{digest_of(data)}", content=data)
    again = http.put(f"{API}/blobs/{digest_of(data)}", content=data)
    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert first.json()["size"] == len(data)
    assert blob_files(app) == [digest_of(data)[7:]]


def test_single_request_upload_rejects_a_digest_mismatch(http: httpx.Client, app: FastAPI) -> None:
    r = http.put(f"{API}/blobs/{digest_of(b'claimed')}", content=b"actual")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "DIGEST_INVALID"
    assert blob_files(app) == []
    assert list((app.state.blobs.root / "uploads").iterdir()) == []


def test_zero_byte_blob_by_session_and_by_single_request(http: httpx.Client) -> None:
    upload_id = start(http, 0)
    r = commit(http, upload_id, EMPTY_DIGEST, size=0)
    assert (r.status_code, r.json()["size"]) == (201, 0)
    assert put_blob(http, b"") == EMPTY_DIGEST
    r = http.get(f"{API}/blobs/{EMPTY_DIGEST}")
    assert (r.status_code, r.content, r.headers["content-length"]) == (200, b"", "0")


def test_download_carries_the_digest_headers(http: httpx.Client) -> None:
    data = b"verify me"
    digest = put_blob(http, data)
    r = http.get(f"{API}/blobs/{digest}")
    assert r.headers["modelyard-digest"] == digest
    assert r.headers["etag"] == f'"{digest}"'
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert r.headers["repr-digest"] == f"sha-256=:{sha}:"
    assert r.headers["accept-ranges"] == "bytes"
    head = http.head(f"{API}/blobs/{digest}")
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))


@pytest.mark.parametrize(
    ("header", "expected", "content_range"),
    [
        ("bytes=0-3", b"0123", "bytes 0-3/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-2", b"89", "bytes 8-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
        ("bytes=9-9", b"9", "bytes 9-9/10"),
    ],
)
def test_range_request_gets_206_with_that_part(
    http: httpx.Client, header: str, expected: bytes, content_range: str
) -> None:
    digest = put_blob(http, b"0123456789")
    r = http.get(f"{API}/blobs/{digest}", headers={"range": header})
    assert r.status_code == 206
    assert r.content == expected
    assert r.headers["content-range"] == content_range
    assert r.headers["content-length"] == str(len(expected))


@pytest.mark.parametrize("header", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_range_past_the_end_gets_416(http: httpx.Client, header: str) -> None:
    digest = put_blob(http, b"0123456789")
    r = http.get(f"{API}/blobs/{digest}", headers={"range": header})
    assert r.status_code == 416
    assert r.json()["error"]["code"] == "RANGE_NOT_SATISFIABLE"
    assert r.headers["content-range"] == "bytes */10"


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=0-1,4-5", "items=0-1", "bytes=x-"])
def test_unusable_range_headers_are_ignored(http: httpx.Client, header: str) -> None:
    digest = put_blob(http, b"0123456789")
    r = http.get(f"{API}/blobs/{digest}", headers={"range": header})
    assert (r.status_code, r.content) == (200, b"0123456789")


def test_unknown_blob_is_404_and_malformed_digest_400(http: httpx.Client) -> None:
    r = http.get(f"{API}/blobs/{digest_of(b'nothing')}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "BLOB_NOT_FOUND")
    r = http.get(f"{API}/blobs/sha256:xyz")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "DIGEST_INVALID")


def test_unknown_upload_is_404(http: httpx.Client) -> None:
    r = http.get(f"{API}/blobs/uploads/00000000-0000-4000-8000-000000000000")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "UPLOAD_NOT_FOUND")


def test_chunk_body_is_not_bound_by_the_json_body_limit(http: httpx.Client, app: FastAPI) -> None:
    data = os.urandom(app.state.settings.max_request_body_bytes + 1)
    assert put_blob(http, data) == digest_of(data)
