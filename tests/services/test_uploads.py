"""Upload sessions and single-request uploads through the services, on SQLite and PostgreSQL
with the local blob store (and one S3 run of the resume path)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from modelyard.db.engine import Database
from modelyard.db.tables import BlobRow, UploadRow, VersionRow
from modelyard.domain.digests import digest_of
from modelyard.domain.errors import (
    InvalidInputError,
    ModelyardError,
    PayloadTooLargeError,
    RangeNotSatisfiableError,
)
from modelyard.domain.manifests import build_manifest
from modelyard.services import uploads, versions
from modelyard.services.uploads import HashCache, Transfers
from modelyard.settings import Settings
from tests import factories
from tests.transfer_support import make_transfers, never_read, store_bytes


@pytest.fixture
def transfers(settings: Settings, db: Database) -> Iterator[Transfers]:
    t = make_transfers(settings.with_(max_blob_bytes=10_000), db)
    yield t
    t.store.close()


def restarted(t: Transfers) -> Transfers:
    """The same database and store as a freshly started server sees them: no hash state."""
    return Transfers(t.db, t.store, HashCache(), t.max_blob_bytes, t.refresh_after)


def cut_off(data: bytes, after: int) -> Iterator[bytes]:
    """A body whose client goes away after ``after`` bytes."""
    yield data[:after]
    raise ConnectionError("client went away")


def blob_rows(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(BlobRow)) or 0)


def stored_files(t: Transfers) -> list[Path]:
    root: Path = t.store.root  # type: ignore[attr-defined]
    return sorted((root / "sha256").glob("*/*"))


def test_interrupted_upload_resumes_to_identical_bytes_and_one_version(
    transfers: Transfers,
) -> None:
    data = os.urandom(9000)
    model = factories.model(transfers.db, "team/resumed")
    upload = uploads.start_upload(transfers, "tester", len(data))
    uploads.write_chunk(transfers, upload.id, 0, 4000, [data[:4000]])
    with pytest.raises(ConnectionError):
        uploads.write_chunk(transfers, upload.id, 4000, 5000, cut_off(data[4000:], 1500))
    # The server restarts; the client asks where it stands and sends the rest.
    after = restarted(transfers)
    assert uploads.get_upload(after, upload.id).received == 4000
    uploads.write_chunk(after, upload.id, 4000, 5000, [data[4000:]])
    blob = uploads.commit_upload(after, upload.id, digest_of(data), len(data))
    manifest = build_manifest([{"path": "w.bin", "size": len(data), "digest": blob.digest}])
    versions.create_version(after.db, "tester", model.namespace, model.name, manifest=manifest)
    assert b"".join(after.store.read(blob.digest)) == data
    with after.db.read() as s:
        numbers = s.scalars(select(VersionRow.number).where(VersionRow.model_name == model.name))
        assert list(numbers) == [1]


def test_commit_after_restart_rehashes_the_stored_bytes(transfers: Transfers) -> None:
    upload = uploads.start_upload(transfers, "tester")
    uploads.write_chunk(transfers, upload.id, 0, 6, [b"stored"])
    data_file = transfers.store.root / "uploads" / upload.id / "data"  # type: ignore[attr-defined]
    data_file.write_bytes(b"STORED")  # what is on disk is what counts once hash state is gone
    with pytest.raises(InvalidInputError) as err:
        uploads.commit_upload(restarted(transfers), upload.id, digest_of(b"stored"))
    assert err.value.code == "DIGEST_INVALID"
    assert err.value.details["actual"] == digest_of(b"STORED")


def test_bytes_lost_from_the_store_rewind_the_session(transfers: Transfers) -> None:
    upload = uploads.start_upload(transfers, "tester")
    uploads.write_chunk(transfers, upload.id, 0, 8, [b"01234567"])
    data_file = transfers.store.root / "uploads" / upload.id / "data"  # type: ignore[attr-defined]
    os.truncate(data_file, 3)  # a power cut took unsynced bytes
    with pytest.raises(RangeNotSatisfiableError) as err:
        uploads.write_chunk(transfers, upload.id, 8, 2, [b"89"])
    assert err.value.details["received"] == 3
    uploads.write_chunk(transfers, upload.id, 3, 7, [b"3456789"])
    blob = uploads.commit_upload(restarted(transfers), upload.id, digest_of(b"0123456789"))
    assert b"".join(transfers.store.read(blob.digest)) == b"0123456789"


def test_twenty_concurrent_uploads_of_identical_bytes_give_one_intact_blob(
    transfers: Transfers,
) -> None:
    data = os.urandom(9000)
    results: list[str] = []
    failures: list[BaseException] = []

    def push() -> None:
        try:
            results.append(store_bytes(transfers, data, chunk=3000))
        except BaseException as exc:  # re-raised below, on the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=push) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert results == [digest_of(data)] * 20
    assert blob_rows(transfers.db) == 1
    assert [p.name for p in stored_files(transfers)] == [digest_of(data)[7:]]
    assert stored_files(transfers)[0].read_bytes() == data
    with transfers.db.read() as s:
        assert s.scalar(select(func.count()).select_from(UploadRow)) == 0


def test_declared_size_over_the_limit_is_refused_at_start(transfers: Transfers) -> None:
    with pytest.raises(PayloadTooLargeError) as err:
        uploads.start_upload(transfers, "tester", 10_001)
    assert err.value.code == "BLOB_TOO_LARGE"


def test_chunk_ending_past_the_limit_is_refused_before_its_body_is_read(
    transfers: Transfers,
) -> None:
    upload = uploads.start_upload(transfers, "tester")
    with pytest.raises(PayloadTooLargeError):
        uploads.write_chunk(transfers, upload.id, 0, 10_001, never_read())


def test_single_upload_over_the_limit_is_refused_before_its_body_is_read(
    transfers: Transfers,
) -> None:
    with pytest.raises(PayloadTooLargeError):
        uploads.put_blob(transfers, digest_of(b"x"), 10_001, never_read())


def test_body_without_length_is_cut_off_at_the_limit(transfers: Transfers) -> None:
    endless = iter(lambda: b"x" * 4096, None)
    with pytest.raises(PayloadTooLargeError):
        uploads.put_blob(transfers, digest_of(b"x"), None, endless)
    assert stored_files(transfers) == []


def test_held_blob_is_not_read_again(transfers: Transfers) -> None:
    digest = store_bytes(transfers, b"held")
    blob = uploads.put_blob(transfers, digest, 4, never_read())
    assert (blob.digest, blob.created) == (digest, False)


@pytest.mark.parametrize(("announced", "body"), [(5, b"abcd"), (3, b"abcd")])
def test_body_length_must_match_what_was_announced(
    transfers: Transfers, announced: int, body: bytes
) -> None:
    with pytest.raises(InvalidInputError) as err:
        uploads.put_blob(transfers, digest_of(body), announced, [body])
    assert err.value.code == "SIZE_INVALID"
    upload = uploads.start_upload(transfers, "tester")
    with pytest.raises(InvalidInputError):
        uploads.write_chunk(transfers, upload.id, 0, announced, [body])
    assert uploads.get_upload(transfers, upload.id).received == 0


def test_cancelled_session_accepts_nothing_more(transfers: Transfers) -> None:
    upload = uploads.start_upload(transfers, "tester")
    uploads.cancel_upload(transfers, upload.id)
    with pytest.raises(ModelyardError) as err:
        uploads.write_chunk(transfers, upload.id, 0, 1, [b"x"])
    assert err.value.code == "UPLOAD_NOT_FOUND"


def test_resume_works_on_s3_too(
    settings: Settings, db: Database, s3_endpoint: str, s3_bucket: str
) -> None:
    s3 = settings.with_(blob_url=f"s3://{s3_bucket}/reg", s3_endpoint_url=s3_endpoint)
    t = make_transfers(s3, db)
    data = os.urandom(5000)
    upload = uploads.start_upload(t, "tester")
    uploads.write_chunk(t, upload.id, 0, 2000, [data[:2000]])
    with pytest.raises(ConnectionError):
        uploads.write_chunk(t, upload.id, 2000, 3000, cut_off(data[2000:], 100))
    after = restarted(t)
    uploads.write_chunk(after, upload.id, 2000, 3000, [data[2000:]])
    blob = uploads.commit_upload(after, upload.id, digest_of(data))
    assert b"".join(t.store.read(blob.digest)) == data
    assert list(t.store.list_uploads()) == []
    t.store.close()
