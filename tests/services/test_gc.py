"""Garbage collection of blobs and upload sessions (services/gc.py)."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from modelyard.blobs import BlobStore, Staged
from modelyard.blobs.local import LocalBlobStore
from modelyard.db.engine import Database
from modelyard.db.tables import BlobRow
from modelyard.db.types import utcnow
from modelyard.domain.digests import digest_of
from modelyard.domain.errors import ConflictError, InvalidInputError
from modelyard.domain.manifests import build_manifest
from modelyard.services import blobs, gc, uploads, versions
from modelyard.services.uploads import Transfers
from modelyard.settings import Settings
from tests import factories
from tests.blobs.conftest import put
from tests.transfer_support import make_transfers, store_bytes

GRACE = timedelta(hours=1)
LATER = timedelta(hours=2)  # past the grace window


@pytest.fixture
def transfers(settings: Settings, db: Database) -> Iterator[Transfers]:
    t = make_transfers(settings, db)
    yield t
    t.store.close()


def collect(t: Transfers, dry_run: bool = False, after: timedelta = LATER) -> gc.GcReport:
    return gc.collect(t.db, t.store, GRACE, dry_run=dry_run, now=utcnow() + after)


def version_with(t: Transfers, full_name: str, files: dict[str, bytes]) -> None:
    model = factories.model(t.db, full_name)
    manifest = build_manifest(
        [{"path": p, "size": len(d), "digest": digest_of(d)} for p, d in files.items()]
    )
    versions.create_version(t.db, "tester", model.namespace, model.name, manifest=manifest)


def held(t: Transfers, data: bytes) -> bool:
    return t.store.stat(digest_of(data)) is not None and not blobs.missing(
        t.db, [digest_of(data)], GRACE
    )


def test_unreferenced_blob_past_the_grace_window_is_removed(transfers: Transfers) -> None:
    store_bytes(transfers, b"orphaned by an abandoned push")
    report = collect(transfers)
    assert report.blobs == [(digest_of(b"orphaned by an abandoned push"), 29)]
    assert report.freed_bytes == 29
    assert not held(transfers, b"orphaned by an abandoned push")


def test_blob_within_the_grace_window_is_kept(transfers: Transfers) -> None:
    store_bytes(transfers, b"a push in progress")
    assert collect(transfers, after=timedelta(0)).blobs == []
    assert held(transfers, b"a push in progress")


def test_blob_shared_by_two_models_is_stored_once_and_kept(transfers: Transfers) -> None:
    shared = os.urandom(5000)
    store_bytes(transfers, shared)
    store_bytes(transfers, shared)  # the second push of the same bytes
    store_bytes(transfers, b"unreferenced")
    version_with(transfers, "team/one", {"w.bin": shared})
    version_with(transfers, "team/two", {"same/w.bin": shared})
    report = collect(transfers, after=timedelta(days=30))
    assert report.blobs == [(digest_of(b"unreferenced"), 12)]
    assert held(transfers, shared)
    assert [b.digest for b in transfers.store.list_blobs()] == [digest_of(shared)]


def test_dry_run_reports_and_removes_nothing(transfers: Transfers) -> None:
    store_bytes(transfers, b"would go")
    upload = uploads.start_upload(transfers, "tester")
    report = collect(transfers, dry_run=True)
    assert report.dry_run
    assert report.blobs == [(digest_of(b"would go"), 8)]
    assert report.uploads == [upload.id]
    assert held(transfers, b"would go")
    assert uploads.get_upload(transfers, upload.id).received == 0


def test_stale_upload_sessions_go_with_their_bytes(transfers: Transfers) -> None:
    upload = uploads.start_upload(transfers, "tester")
    uploads.write_chunk(transfers, upload.id, 0, 5, [b"stale"])
    fresh = uploads.start_upload(transfers, "tester")
    report = gc.collect(transfers.db, transfers.store, GRACE, now=upload.updated_at + LATER)
    assert upload.id in report.uploads
    assert [u.upload_id for u in transfers.store.list_uploads()] == []
    with pytest.raises(Exception, match="no upload"):
        uploads.get_upload(transfers, upload.id)
    assert fresh.id in report.uploads  # also older than `now` in this test's clock
    assert collect(transfers, after=timedelta(0)).uploads == []


def test_bytes_with_no_row_and_uploads_with_no_session_are_removed(
    transfers: Transfers,
) -> None:
    digest = put(transfers.store, [b"published, then the server died"])
    orphan_upload = str(uuid.uuid4())
    with transfers.store.open_upload(orphan_upload) as writer:
        writer.append(0, [b"single-request upload cut off"])
    report = collect(transfers)
    assert report.blobs == [(digest, 31)]
    assert report.uploads == [orphan_upload]
    assert list(transfers.store.list_blobs()) == []
    assert list(transfers.store.list_uploads()) == []


def test_condemned_blob_counts_as_absent_until_uploaded_again(transfers: Transfers) -> None:
    digest = store_bytes(transfers, b"condemned")
    gc._condemn(transfers.db, utcnow() + LATER)  # phase 1 only, as if the run died here
    assert blobs.missing(transfers.db, [digest], GRACE) == [digest]
    with pytest.raises(InvalidInputError) as err:
        version_with(transfers, "team/refused", {"c.bin": b"condemned"})
    assert err.value.code == "MANIFEST_BLOB_UNKNOWN"
    store_bytes(transfers, b"condemned")  # revived by a new upload
    version_with(transfers, "team/accepted", {"c.bin": b"condemned"})
    assert collect(transfers, after=timedelta(days=30)).blobs == []
    assert held(transfers, b"condemned")


def test_run_interrupted_after_deleting_bytes_is_finished_by_the_next(
    transfers: Transfers,
) -> None:
    digest = store_bytes(transfers, b"half gone")
    gc._condemn(transfers.db, utcnow() + LATER)
    transfers.store.delete(digest)  # phase 2 died after deleting the bytes
    assert blobs.missing(transfers.db, [digest], GRACE) == [digest]
    assert collect(transfers, after=timedelta(0)).blobs == [(digest, 9)]
    with transfers.db.read() as s:
        assert s.scalars(select(BlobRow)).all() == []


def test_gc_on_s3(settings: Settings, db: Database, s3_endpoint: str, s3_bucket: str) -> None:
    s3 = settings.with_(blob_url=f"s3://{s3_bucket}/gc", s3_endpoint_url=s3_endpoint)
    t = make_transfers(s3, db)
    store_bytes(t, b"kept")
    store_bytes(t, b"dropped")
    version_with(t, "team/s3", {"k": b"kept"})
    report = collect(t)
    assert report.blobs == [(digest_of(b"dropped"), 7)]
    store: BlobStore = t.store
    assert [b.digest for b in store.list_blobs()] == [digest_of(b"kept")]
    t.store.close()


class GcStrikesAfterPublish(LocalBlobStore):
    """A store on which GC deletes a blob right after it is published (the race register
    guards against: bytes published, then deleted before the row is written)."""

    def publish(self, staged: Staged) -> bool:
        created = super().publish(staged)
        self.delete(staged.digest)
        return created


def test_bytes_deleted_between_publish_and_row_fail_the_commit_with_conflict(
    transfers: Transfers,
) -> None:
    digest = store_bytes(transfers, b"re-pushed during gc")
    gc._condemn(transfers.db, utcnow() + LATER)
    transfers.store.delete(digest)
    unlucky = dataclasses.replace(transfers, store=GcStrikesAfterPublish(transfers.store.root))
    with pytest.raises(ConflictError) as err:
        store_bytes(unlucky, b"re-pushed during gc")
    assert err.value.code == "CONFLICT"
    assert blobs.missing(transfers.db, [digest], GRACE) == [digest]  # no row without bytes
    store_bytes(transfers, b"re-pushed during gc")  # the retry
    assert held(transfers, b"re-pushed during gc")


def batch_of(t: Transfers, *blobs_: bytes) -> list[bool]:
    from modelyard.domain.batches import END, member_header, padding

    body = b"".join(member_header(digest_of(b), len(b)) + b + padding(len(b)) for b in blobs_)
    return [b.created for b in uploads.put_batch(t, None, [body + END])]


def test_a_batch_revives_condemned_blobs_and_records_new_ones(transfers: Transfers) -> None:
    store_bytes(transfers, b"condemned")
    gc._condemn(transfers.db, utcnow() + LATER)
    assert batch_of(transfers, b"condemned", b"new") == [False, True]
    assert held(transfers, b"condemned")
    assert held(transfers, b"new")
    version_with(transfers, "team/batched", {"c.bin": b"condemned", "n.bin": b"new"})
    assert collect(transfers).blobs == []


class GcStrikesAfterBatchPublish(LocalBlobStore):
    """GC deletes held bytes between the batch's publish and its rows."""

    def open_batch(self):  # type: ignore[no-untyped-def]
        outer = super().open_batch()
        store = self

        class Wrapped:
            def __enter__(self):  # type: ignore[no-untyped-def]
                self.batch = outer.__enter__()
                return self

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                return outer.__exit__(*exc)

            def add(self, chunks):  # type: ignore[no-untyped-def]
                return self.batch.add(chunks)

            def publish(self, members):  # type: ignore[no-untyped-def]
                created = self.batch.publish(members)
                for digest, _ in members:
                    store.delete(digest)
                return created

        return Wrapped()


def test_held_bytes_deleted_between_batch_publish_and_rows_fail_with_conflict(
    transfers: Transfers,
) -> None:
    digest = store_bytes(transfers, b"held, then collected")
    gc._condemn(transfers.db, utcnow() + LATER)
    unlucky = dataclasses.replace(transfers, store=GcStrikesAfterBatchPublish(transfers.store.root))
    with pytest.raises(ConflictError) as err:
        batch_of(unlucky, b"held, then collected", b"another")
    assert err.value.code == "CONFLICT"
    lacking = blobs.missing(transfers.db, [digest, digest_of(b"another")], GRACE)
    assert lacking == [digest, digest_of(b"another")]  # one transaction: no row at all
    assert batch_of(transfers, b"held, then collected", b"another") == [True, True]
