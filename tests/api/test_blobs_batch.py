"""Batch uploads: many small blobs in one tar stream (POST /api/v1/blobs/batch)."""

from __future__ import annotations

import io
import os
import tarfile

import httpx
import pytest
from fastapi import FastAPI

from modelyard.api.routes import blobs as blobs_route
from modelyard.db.engine import Database
from modelyard.domain.access import Role
from modelyard.domain.batches import END, member_header, padding, read_batch
from modelyard.domain.digests import EMPTY_DIGEST, digest_of
from modelyard.domain.transfers import Blob
from modelyard.services import blobs as blob_service
from modelyard.services import denials, uploads
from tests import identity
from tests.transfer_support import API, create_version, model, put_blob

BATCH = f"{API}/blobs/batch"


def batch_body(blobs: list[bytes], names: list[str] | None = None) -> bytes:
    names = names or [digest_of(b) for b in blobs]
    parts = [
        member_header(n, len(b)) + b + padding(len(b)) for n, b in zip(names, blobs, strict=True)
    ]
    return b"".join(parts) + END


def leftovers(app: FastAPI) -> list[str]:
    return [p.name for p in (app.state.blobs.root / "uploads").iterdir()]


def error(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def test_batch_stores_every_blob_and_says_which_were_new(http: httpx.Client, app: FastAPI) -> None:
    held = put_blob(http, b"held already")
    blobs = [os.urandom(100_000), b"held already", b"", os.urandom(513)]
    r = http.post(BATCH, content=batch_body(blobs), headers={"content-type": "application/x-tar"})
    assert r.status_code == 200, r.text
    got = r.json()["blobs"]
    assert [(b["digest"], b["size"], b["created"]) for b in got] == [
        (digest_of(blobs[0]), 100_000, True),
        (held, 12, False),
        (EMPTY_DIGEST, 0, True),
        (digest_of(blobs[3]), 513, True),
    ]
    assert [http.get(f"{API}/blobs/{digest_of(b)}").content for b in blobs] == blobs
    digests = [digest_of(b) for b in blobs]
    assert http.post(f"{API}/blobs/missing", json={"digests": digests}).json() == {"missing": []}
    assert leftovers(app) == []


def test_a_batch_is_all_or_nothing(http: httpx.Client, app: FastAPI) -> None:
    good, bad = os.urandom(1000), os.urandom(1000)
    names = [digest_of(good), digest_of(b"something else")]
    r = http.post(BATCH, content=batch_body([good, bad], names))
    assert error(r) == (400, "DIGEST_INVALID")
    assert r.json()["error"]["details"] == {
        "member": 1,
        "expected": names[1],
        "actual": digest_of(bad),
    }
    lacking = http.post(f"{API}/blobs/missing", json={"digests": [digest_of(good)]}).json()
    assert lacking == {"missing": [digest_of(good)]}
    assert leftovers(app) == []


def test_the_same_blob_twice_in_a_batch_is_stored_once(http: httpx.Client) -> None:
    data = os.urandom(2000)
    r = http.post(BATCH, content=batch_body([data, data]))
    assert [b["created"] for b in r.json()["blobs"]] == [True, False]


def test_an_empty_batch_stores_nothing(http: httpx.Client) -> None:
    r = http.post(BATCH, content=END)
    assert (r.status_code, r.json()) == (200, {"blobs": []})


def test_any_tar_writer_makes_a_batch(http: httpx.Client) -> None:
    data = os.urandom(3000)
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:  # default format, record padding
        info = tarfile.TarInfo(digest_of(data))
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    r = http.post(BATCH, content=out.getvalue())
    assert r.status_code == 200, r.text
    assert http.get(f"{API}/blobs/{digest_of(data)}").content == data


def _member(name: str, data: bytes, kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = len(data), kind
    return info.tobuf(format=tarfile.USTAR_FORMAT) + data + padding(len(data))


DATA = b"some bytes"
NAME = digest_of(DATA)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"not a tar stream at all" * 40, "damaged header"),
        (_member(NAME, DATA), "no end marker"),
        (_member(NAME, DATA)[:600], "cut off inside the member"),
        (_member("model.bin", DATA) + END, "named by a path, not a digest"),
        (_member(NAME, b"", tarfile.DIRTYPE) + END, "a directory"),
        (_member(NAME, b"", tarfile.SYMTYPE) + END, "a link"),
        (_member(NAME, DATA) + END + b"trailing", "bytes after the end"),
        (_member(NAME, DATA)[:523] + b"\x01" + _member(NAME, DATA)[524:] + END, "bad padding"),
    ],
)
def test_unreadable_batches_are_batch_invalid(
    http: httpx.Client, app: FastAPI, body: bytes, why: str
) -> None:
    r = http.post(BATCH, content=body)
    assert error(r) == (400, "BATCH_INVALID"), why
    assert http.post(f"{API}/blobs/missing", json={"digests": [NAME]}).json()["missing"] == [NAME]
    assert leftovers(app) == []


def test_batches_over_the_limits_are_413(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(uploads, "MAX_BATCH_BLOBS", 2)
    three = http.post(BATCH, content=batch_body([b"a", b"b", b"c"]))
    monkeypatch.setattr(uploads, "MAX_BATCH_BYTES", 10)
    big = http.post(BATCH, content=batch_body([b"0123456789x"]))
    assert error(three) == (413, "PAYLOAD_TOO_LARGE")
    assert error(big) == (413, "PAYLOAD_TOO_LARGE")
    assert big.json()["error"]["details"] == {"max_blobs": 2, "max_bytes": 10}
    missing = http.post(f"{API}/blobs/missing", json={"digests": [digest_of(b"a")]}).json()
    assert missing["missing"] == [digest_of(b"a")]


def test_a_declared_body_over_the_limit_is_refused_at_once(http: httpx.Client) -> None:
    limit = uploads.batch_body_limit()
    r = http.post(BATCH, content=b"x", headers={"content-length": str(limit + 1)})
    assert error(r) == (413, "PAYLOAD_TOO_LARGE")


# -- batch downloads ------------------------------------------------------------------------

FETCH = f"{API}/blobs/fetch"


def held_by_a_version(http: httpx.Client, blobs: list[bytes]) -> list[str]:
    for b in blobs:
        put_blob(http, b)
    files = {f"f{i}.bin": b for i, b in enumerate(blobs)}
    model(http, "team", "fetched")
    assert create_version(http, "team/fetched", files).status_code == 201
    return [digest_of(b) for b in blobs]


def test_fetch_sends_the_blobs_asked_for_as_a_tar_stream_in_order(http: httpx.Client) -> None:
    blobs = [os.urandom(5000), b"", os.urandom(100)]
    digests = held_by_a_version(http, blobs)
    asked = [digests[2], digests[0], digests[1], digests[2]]
    r = http.post(FETCH, json={"digests": asked})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/x-tar"
    assert int(r.headers["content-length"]) == len(r.content)
    members = [(m.digest, b"".join(m.chunks)) for m in read_batch([r.content])]
    assert members == [(digests[2], blobs[2]), (digests[0], blobs[0]), (digests[1], b"")]
    with tarfile.open(fileobj=io.BytesIO(r.content)) as tar:  # any tar reader reads it
        assert tar.extractfile(digests[0]).read() == blobs[0]  # type: ignore[union-attr]


def test_fetch_streams_many_small_blobs_in_pieces_of_about_a_mebibyte(
    app: FastAPI, http: httpx.Client
) -> None:
    blobs = [os.urandom(10_000 + i) for i in range(300)]  # about 3 MB
    r = http.post(BATCH, content=batch_body(blobs), headers={"Content-Type": "application/x-tar"})
    assert r.status_code == 200, r.text
    wanted = [Blob(digest_of(b), len(b)) for b in blobs]
    pieces = list(blobs_route._tar_of(app.state.transfers, wanted))
    total = sum(len(p) for p in pieces)
    assert len(pieces) == total // blobs_route.FETCH_PIECE + 1  # not 3 pieces for each blob
    assert all(len(p) >= blobs_route.FETCH_PIECE for p in pieces[:-1])
    members = [(m.digest, b"".join(m.chunks)) for m in read_batch(pieces)]
    assert members == [(digest_of(b), b) for b in blobs]


def test_fetch_of_a_blob_the_server_lacks_is_404_for_the_whole_request(
    http: httpx.Client,
) -> None:
    [held] = held_by_a_version(http, [b"held"])
    r = http.post(FETCH, json={"digests": [held, digest_of(b"lacking")]})
    assert error(r) == (404, "BLOB_NOT_FOUND")
    assert r.json()["error"]["details"] == {"digest": digest_of(b"lacking")}


def test_fetch_refuses_malformed_digests_and_too_much(
    http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    digests = held_by_a_version(http, [b"0123456789", b"abcdefghij"])
    assert error(http.post(FETCH, json={"digests": ["sha256:xyz"]})) == (400, "DIGEST_INVALID")
    monkeypatch.setattr(blob_service, "MAX_FETCH_BYTES", 15)
    assert error(http.post(FETCH, json={"digests": digests})) == (422, "VALIDATION_FAILED")


def test_fetch_hides_blobs_of_models_the_caller_may_not_read(
    app: FastAPI, db: Database, http: httpx.Client
) -> None:
    [secret] = held_by_a_version(http, [b"the team's weights"])
    identity.team(db, "elsewhere", contributor=Role.CONTRIBUTOR)
    with identity.http_as(app, identity.token(db, "contributor")) as stranger:
        r = stranger.post(FETCH, json={"digests": [secret]})
        lacking = stranger.post(FETCH, json={"digests": [digest_of(b"nothing")]})
    assert error(r) == (404, "BLOB_NOT_FOUND")
    assert r.json()["error"]["message"] == f"no blob {secret}"
    assert error(lacking) == (404, "BLOB_NOT_FOUND")
    recorded = {(d.actor, d.code, d.target) for d in denials.recent(db)}
    assert ("contributor", "BLOB_NOT_FOUND", secret) in recorded
