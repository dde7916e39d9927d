"""The BlobStore contract (blobs/store.py), checked on every backend."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from modelyard.blobs import BlobStore, Segment, UploadGapError
from modelyard.domain.digests import EMPTY_DIGEST, digest_of
from modelyard.domain.errors import NotFoundError
from tests.blobs.conftest import SMALL_PART, put, read_all

MIB = 1024 * 1024


def new_id() -> str:
    return str(uuid.uuid4())


def test_written_blob_reads_back_byte_identical(store: BlobStore) -> None:
    data = os.urandom(300_000)
    digest = put(store, [data[:100_000], data[100_000:]])
    assert read_all(store, digest) == data
    info = store.stat(digest)
    assert info is not None
    assert (info.digest, info.size) == (digest, len(data))


@pytest.mark.parametrize(("start", "stop"), [(0, 1), (10, 20), (999, None), (0, 1000), (500, 500)])
def test_read_returns_the_requested_range(store: BlobStore, start: int, stop: int | None) -> None:
    data = os.urandom(1000)
    digest = put(store, [data])
    assert read_all(store, digest, start, stop) == data[start:stop]


def test_absent_blob_has_no_stat_and_reading_it_is_blob_not_found(store: BlobStore) -> None:
    missing = digest_of(b"never written")
    assert store.stat(missing) is None
    with pytest.raises(NotFoundError) as err:
        store.read(missing)
    assert err.value.code == "BLOB_NOT_FOUND"


def test_empty_blob_is_stored_listed_and_read_as_nothing(store: BlobStore) -> None:
    digest = put(store, [])
    assert digest == EMPTY_DIGEST
    info = store.stat(EMPTY_DIGEST)
    assert info is not None
    assert info.size == 0
    assert read_all(store, EMPTY_DIGEST) == b""
    assert EMPTY_DIGEST in {b.digest for b in store.list_blobs()}


def test_publishing_an_existing_blob_succeeds_and_keeps_it(store: BlobStore) -> None:
    data = b"same bytes twice"
    digest = put(store, [data])
    upload_id = new_id()
    with store.open_upload(upload_id) as writer:
        segments = writer.append(0, [data])
    assert store.publish(store.stage(upload_id, segments, digest, len(data))) is False
    store.delete_upload(upload_id)
    assert read_all(store, digest) == data


def test_first_publish_reports_a_new_blob(store: BlobStore) -> None:
    upload_id = new_id()
    with store.open_upload(upload_id) as writer:
        segments = writer.append(0, [b"fresh"])
    assert store.publish(store.stage(upload_id, segments, digest_of(b"fresh"), 5)) is True


def test_upload_bytes_appended_in_chunks_read_back_in_order(store: BlobStore) -> None:
    upload_id = new_id()
    segments: list[Segment] = []
    for offset, chunk in [(0, b"abc"), (3, b"defg"), (7, b"h")]:
        with store.open_upload(upload_id) as writer:
            segments += writer.append(offset, [chunk])
    assert b"".join(store.read_upload(upload_id, segments, 8)) == b"abcdefgh"


def _failing(first: bytes) -> Iterator[bytes]:
    yield first
    raise ConnectionError("client went away")


def test_failed_attempt_leaves_nothing_that_counts(store: BlobStore) -> None:
    upload_id = new_id()
    with store.open_upload(upload_id) as writer:
        segments = writer.append(0, [b"keep"])
    with pytest.raises(ConnectionError), store.open_upload(upload_id) as writer:
        writer.append(4, _failing(b"GARBAGE"))
    with store.open_upload(upload_id) as writer:
        segments += writer.append(4, [b"-this"])
    data = b"keep-this"
    assert b"".join(store.read_upload(upload_id, segments, len(data))) == data
    store.publish(store.stage(upload_id, segments, digest_of(data), len(data)))
    assert read_all(store, digest_of(data)) == data


def test_lost_upload_bytes_are_reported_as_a_gap(store: BlobStore) -> None:
    upload_id = new_id()
    with store.open_upload(upload_id) as writer:
        segments = writer.append(0, [b"0123"])
    with pytest.raises(UploadGapError) as gap:
        store.stage(upload_id, segments, digest_of(b"01234567"), 8)
    assert gap.value.size == 4


def test_blob_spanning_many_parts_of_mixed_sizes_is_assembled_exactly(store: BlobStore) -> None:
    # Small chunks (merged below S3's 5 MiB part minimum), then parts split at SMALL_PART.
    chunks = [os.urandom(2 * MIB), os.urandom(MIB), os.urandom(SMALL_PART + 3 * MIB), b"z"]
    upload_id = new_id()
    segments: list[Segment] = []
    offset = 0
    for chunk in chunks:
        with store.open_upload(upload_id) as writer:
            segments += writer.append(offset, [chunk])
        offset += len(chunk)
    data = b"".join(chunks)
    store.publish(store.stage(upload_id, segments, digest_of(data), len(data)))
    assert read_all(store, digest_of(data)) == data


def test_discarded_stage_publishes_nothing_and_can_be_staged_again(store: BlobStore) -> None:
    upload_id = new_id()
    with store.open_upload(upload_id) as writer:
        segments = writer.append(0, [b"maybe"])
    digest = digest_of(b"maybe")
    store.discard(store.stage(upload_id, segments, digest, 5))
    assert store.stat(digest) is None
    assert store.publish(store.stage(upload_id, segments, digest, 5)) is True


def test_no_blob_exists_until_published(store: BlobStore) -> None:
    upload_id = new_id()
    with store.open_upload(upload_id) as writer:
        segments = writer.append(0, [b"pending"])
    staged = store.stage(upload_id, segments, digest_of(b"pending"), 7)
    assert store.stat(digest_of(b"pending")) is None
    assert list(store.list_blobs()) == []
    store.publish(staged)
    assert store.stat(digest_of(b"pending")) is not None


def test_delete_removes_a_blob_and_tolerates_absent_ones(store: BlobStore) -> None:
    digest = put(store, [b"short-lived"])
    store.delete(digest)
    store.delete(digest)
    assert store.stat(digest) is None
    assert list(store.list_blobs()) == []


def test_list_blobs_names_every_blob_with_its_size(store: BlobStore) -> None:
    written = {put(store, [bytes([i]) * (i + 1)]): i + 1 for i in range(5)}
    listed = {b.digest: b.size for b in store.list_blobs()}
    assert listed == written


def test_uploads_are_listed_until_deleted(store: BlobStore) -> None:
    upload_id = new_id()
    before = datetime.now(UTC) - timedelta(minutes=5)
    with store.open_upload(upload_id) as writer:
        writer.append(0, [b"partial"])
    listed = {u.upload_id: u.modified for u in store.list_uploads()}
    assert upload_id in listed
    assert listed[upload_id] > before
    store.delete_upload(upload_id)
    store.delete_upload(upload_id)
    assert upload_id not in {u.upload_id for u in store.list_uploads()}


def test_concurrent_publishes_of_identical_bytes_leave_one_intact_blob(store: BlobStore) -> None:
    data = os.urandom(64 * 1024)
    results: list[bool] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            upload_id = new_id()
            with store.open_upload(upload_id) as writer:
                segments = writer.append(0, [data])
            results.append(
                store.publish(store.stage(upload_id, segments, digest_of(data), len(data)))
            )
            store.delete_upload(upload_id)
        except BaseException as exc:  # collected and re-raised on the main thread
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results.count(True) >= 1
    assert read_all(store, digest_of(data)) == data
    assert [b.digest for b in store.list_blobs()] == [digest_of(data)]


def test_sweep_of_a_clean_store_removes_nothing(store: BlobStore) -> None:
    put(store, [b"kept"])
    assert store.sweep(datetime.now(UTC) + timedelta(days=1)) == 0
    assert len(list(store.list_blobs())) == 1


# -- batches --------------------------------------------------------------------------------


def test_batch_publishes_every_blob_byte_identical(store: BlobStore) -> None:
    blobs = [os.urandom(n) for n in (1, 100_000, 3 * MIB, 0, 4097)]
    with store.open_batch() as batch:
        sizes = [batch.add([b[: len(b) // 2], b[len(b) // 2 :]]) for b in blobs]
        assert all(store.stat(digest_of(b)) is None for b in blobs)  # nothing before publish
        created = batch.publish([(digest_of(b), len(b)) for b in blobs])
    assert sizes == [len(b) for b in blobs]
    assert created == [True] * len(blobs)
    assert [read_all(store, digest_of(b)) for b in blobs] == blobs
    assert list(store.list_uploads()) == []  # the scratch area is gone


def test_batch_keeps_blobs_held_already_and_repeats_within_it(store: BlobStore) -> None:
    held = put(store, [b"held already"])
    fresh = b"fresh bytes"
    with store.open_batch() as batch:
        for data in (b"held already", fresh, fresh):
            batch.add([data])
        created = batch.publish([(held, 12), (digest_of(fresh), 11), (digest_of(fresh), 11)])
    assert created == [False, True, False]
    assert read_all(store, held) == b"held already"
    assert read_all(store, digest_of(fresh)) == fresh


def test_batch_left_unpublished_leaves_nothing(store: BlobStore) -> None:
    data = os.urandom(10_000)
    with store.open_batch() as batch:
        batch.add([data])
    assert store.stat(digest_of(data)) is None
    assert list(store.list_uploads()) == []


def test_batch_member_cut_off_propagates_and_publishes_nothing(store: BlobStore) -> None:
    def cut_off() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("client gone")

    with store.open_batch() as batch:
        batch.add([b"complete"])
        with pytest.raises(ConnectionError):
            batch.add(cut_off())
    assert store.stat(digest_of(b"complete")) is None
    assert list(store.list_uploads()) == []


def test_batch_publish_needs_one_digest_per_blob(store: BlobStore) -> None:
    with store.open_batch() as batch:
        batch.add([b"one"])
        with pytest.raises(ValueError, match="0 digests for 1 blobs"):
            batch.publish([])
