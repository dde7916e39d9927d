"""Versions created with a manifest: every blob must be held, paths are checked, the manifest
is served byte-exact and its digest is a reference."""

from __future__ import annotations

import hashlib
import json

import httpx
import pytest
from fastapi import FastAPI

from modelyard.domain.digests import EMPTY_DIGEST, digest_of
from tests.transfer_support import API, create_version, model, put_blob

FILES = {"model.onnx": b"onnx bytes", "weights/part-1.bin": b"w1", "config.json": b"{}"}


def upload_all(http: httpx.Client, files: dict[str, bytes]) -> None:
    for data in files.values():
        put_blob(http, data)


def test_version_with_a_manifest_serves_it_byte_exact(http: httpx.Client) -> None:
    model(http, "team", "m")
    upload_all(http, FILES)
    r = create_version(http, "team/m", FILES, description="first")
    assert r.status_code == 201, r.text
    digest = r.json()["manifest_digest"]
    got = http.get(f"{API}/models/team/m/versions/1/manifest")
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/vnd.modelyard.manifest.v1+json"
    assert "sha256:" + hashlib.sha256(got.content).hexdigest() == digest
    assert got.headers["modelyard-digest"] == digest
    doc = json.loads(got.content)
    assert [a["path"] for a in doc["artifacts"]] == sorted(FILES)
    assert doc["artifacts"][0] == {
        "path": "config.json",
        "size": 2,
        "digest": digest_of(b"{}"),
        "media_type": "application/json",
    }


def test_manifest_digest_is_a_reference(http: httpx.Client) -> None:
    model(http, "team", "m")
    upload_all(http, FILES)
    digest = create_version(http, "team/m", FILES).json()["manifest_digest"]
    create_version(http, "team/m", {"other.bin": b"w1"})
    r = http.get(f"{API}/resolve", params={"ref": f"team/m@{digest}"})
    assert (r.status_code, r.json()["version"]) == (200, 1)
    r = http.get(f"{API}/manifests", params={"ref": f"team/m@{digest}"})
    assert (r.status_code, r.headers["modelyard-reference"]) == (200, "team/m@1")
    assert r.headers["modelyard-digest"] == digest


def test_manifest_naming_an_unknown_blob_creates_no_version(http: httpx.Client) -> None:
    model(http, "team", "m")
    put_blob(http, b"onnx bytes")
    r = create_version(http, "team/m", FILES)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "MANIFEST_BLOB_UNKNOWN"
    assert sorted(error["details"]["digests"]) == sorted([digest_of(b"w1"), digest_of(b"{}")])
    assert http.get(f"{API}/models/team/m/versions").json()["items"] == []
    upload_all(http, FILES)
    assert create_version(http, "team/m", FILES).json()["version"] == 1  # no number consumed


def test_artifact_size_must_match_its_blob(http: httpx.Client) -> None:
    model(http, "team", "m")
    digest = put_blob(http, b"four")
    artifacts = [{"path": "a.bin", "size": 5, "digest": digest}]
    r = http.post(f"{API}/models/team/m/versions", json={"manifest": {"artifacts": artifacts}})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "SIZE_INVALID"
    assert r.json()["error"]["details"]["paths"] == ["a.bin"]


@pytest.mark.parametrize(
    "path",
    [
        "../escape.bin",
        "a/../../b.bin",
        "/etc/passwd",
        "C:/Windows/evil.dll",
        "weights\\part.bin",
        "nul\x00byte",
        "new\nline",
        "bell\x07",
        "a//b",
        "trailing/",
        "./here",
        "",
    ],
)
def test_every_invalid_artifact_path_is_refused(http: httpx.Client, path: str) -> None:
    model(http, "team", "m")
    digest = put_blob(http, b"x")
    artifacts = [{"path": path, "size": 1, "digest": digest}]
    r = http.post(f"{API}/models/team/m/versions", json={"manifest": {"artifacts": artifacts}})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "ARTIFACT_PATH_INVALID"
    assert http.get(f"{API}/models/team/m/versions").json()["items"] == []


@pytest.mark.parametrize(
    "paths", [["a.bin", "a.bin"], ["caf\u00e9.bin", "cafe\u0301.bin"], ["w", "w/x.bin"]]
)
def test_duplicate_and_clashing_paths_are_refused(http: httpx.Client, paths: list[str]) -> None:
    model(http, "team", "m")
    digest = put_blob(http, b"x")
    artifacts = [{"path": p, "size": 1, "digest": digest} for p in paths]
    r = http.post(f"{API}/models/team/m/versions", json={"manifest": {"artifacts": artifacts}})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "ARTIFACT_PATH_INVALID"


def test_paths_are_stored_nfc_normalised(http: httpx.Client) -> None:
    model(http, "team", "m")
    digest = put_blob(http, b"x")
    artifacts = [{"path": "cafe\u0301.bin", "size": 1, "digest": digest}]
    r = http.post(f"{API}/models/team/m/versions", json={"manifest": {"artifacts": artifacts}})
    assert r.status_code == 201
    doc = http.get(f"{API}/models/team/m/versions/1/manifest").json()
    assert doc["artifacts"][0]["path"] == "caf\u00e9.bin"


def test_zero_byte_file_in_a_version(http: httpx.Client) -> None:
    model(http, "team", "m")
    put_blob(http, b"")
    r = create_version(http, "team/m", {"empty.txt": b""})
    assert r.status_code == 201, r.text
    doc = http.get(f"{API}/models/team/m/versions/1/manifest").json()
    assert doc["artifacts"] == [
        {"path": "empty.txt", "size": 0, "digest": EMPTY_DIGEST, "media_type": "text/plain"}
    ]


def test_identical_bytes_in_two_models_are_stored_once(http: httpx.Client, app: FastAPI) -> None:
    model(http, "team", "one")
    model(http, "team", "two")
    shared = b"the same weights" * 100
    upload_all(http, {"w": shared})
    missing = http.post(f"{API}/blobs/missing", json={"digests": [digest_of(shared)]})
    assert missing.json()["missing"] == []  # the second push sends nothing
    assert create_version(http, "team/one", {"w.bin": shared}).status_code == 201
    assert create_version(http, "team/two", {"weights/w.bin": shared}).status_code == 201
    stored = list((app.state.blobs.root / "sha256").glob("*/*"))
    assert [p.name for p in stored] == [digest_of(shared)[7:]]


def test_version_without_files_has_no_manifest(http: httpx.Client) -> None:
    model(http, "team", "m")
    http.post(f"{API}/models/team/m/versions", json={})
    r = http.get(f"{API}/models/team/m/versions/1/manifest")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "MANIFEST_NOT_FOUND")


def test_manifest_of_an_unknown_version_is_404(http: httpx.Client) -> None:
    model(http, "team", "m")
    r = http.get(f"{API}/models/team/m/versions/3/manifest")
    assert r.json()["error"]["code"] == "VERSION_NOT_FOUND"
