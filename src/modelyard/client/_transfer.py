"""``push`` and ``pull``: the SDK side of the transfer protocol (docs/transfer.md).

push:  hash the files (in parallel; digests of unchanged files come from the local cache)
       -> ask which blobs the server lacks -> upload only those (in parallel, big ones in
       resumable chunks) -> create the version with the manifest. Small files go through
       these steps a batch at a time, so hashing overlaps sending.
pull:  fetch the manifest by reference (its digest checked) -> fetch each blob the local cache
       lacks (in parallel, resumable with Range, every digest verified) -> copy files out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from modelyard.capture import CodeOption, ConfigOption, DataOption, EnvironmentOption, capture
from modelyard.client import _records as records
from modelyard.client._cache import LocalCache, default_cache_dir, stat_key
from modelyard.client._download import DigestMismatch, Downloader, place, target_of
from modelyard.client._errors import unexpected
from modelyard.client._http import Http
from modelyard.client._models import model_path
from modelyard.client._progress import Advance, Reporter, reporter
from modelyard.client._provenance import extra_body, with_diff
from modelyard.client._upload import (
    BATCH_BLOB,
    CHUNK,
    Uploader,
    batches,
    hash_file,
    local_files,
)
from modelyard.domain.digests import EMPTY_DIGEST, digest_of, same_digest
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.manifests import (
    Artifact,
    Manifest,
    artifact,
    build_manifest,
    manifest_from_json,
)
from modelyard.domain.records import Version
from modelyard.domain.references import RefKind, parse_reference

WORKERS = 8
# Batches of small files hashed at once. All of them at once (one per worker) made each take
# as long as all of them, so the first upload waited for every file to be hashed (0.3-0.4 s
# of 2,000 files of 100 KB on 2 cores); two at a time, the first batch goes out after a
# tenth of that and the others are hashed while it is sent.
HASHING_AT_ONCE = 2
T = TypeVar("T")
R = TypeVar("R")


def _parallel(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(fn, items))


class TransferMixin:
    _http: Http

    def push(
        self,
        path: str | Path,
        model: str,
        description: str = "",
        tags: dict[str, str] | None = None,
        metrics: dict[str, float] | None = None,
        *,
        progress: bool | None = None,
        workers: int = WORKERS,
        chunk_size: int = CHUNK,
        cache_dir: str | Path | None = None,
        code: CodeOption = True,
        environment: EnvironmentOption = True,
        config: ConfigOption = None,
        data: DataOption = None,
        container_image: str | None = None,
        derived_from: Sequence[str] = (),
        depends_on: Sequence[str] = (),
        card: str | None = None,
        metric_details: Sequence[dict[str, Any]] = (),
    ) -> Version:
        """Push a file or a directory as the next version of ``namespace/name``. Only blobs
        the server lacks are sent. ``progress``: bars on stderr (None: if it is a terminal).

        Ingredients are captured by default (``modelyard.capture``): ``code`` from the git
        repository ``path`` lies in (True), another one (a path, e.g. "." when the model was
        written outside the repository), as given (a dict) or not at all (False); a dirty
        tree's diff (the pushed files left out) is stored as ``.modelyard/code.diff``;
        ``environment`` of this interpreter (True), as given (a dict) or not (False);
        ``config`` (a dict or a JSON/YAML file) and ``data`` (dataset references or dicts)
        when given. ``derived_from`` / ``depends_on``: upstream versions (``ns/name@REF``)."""
        # MODEL_NOT_FOUND (or NAME_INVALID) before any work, not after every byte moved.
        self._http.call("GET", model_path(model), lambda body: body)
        captured = capture(code, environment, config, data, container_image, pushed=path)
        extra = extra_body(captured, derived_from, depends_on, card, metric_details)
        with (
            with_diff(local_files(Path(path)), captured.diff) as files,
            _cache(cache_dir) as cache,
            reporter(progress) as bars,
        ):
            uploader = Uploader(self._http, chunk_size)
            hashed = self._hash_and_send(files, cache, bars, workers, uploader)
            manifest = build_manifest(a for a, _ in hashed)
            sources = {a.digest: (file, a.size) for a, file in hashed}
            body = {
                "description": description,
                "tags": tags or {},
                "metrics": metrics or {},
                "manifest": {"artifacts": [a.to_dict() for a in manifest.artifacts]},
                **extra,
            }
            return self._create(model, body, uploader, sources, bars, workers)

    def _hash_and_send(
        self,
        files: list[tuple[str, Path]],
        cache: LocalCache,
        bars: Reporter,
        workers: int,
        uploader: Uploader,
    ) -> list[tuple[Artifact, Path]]:
        """Each file's artifact (path checked, digest computed or remembered), and every blob
        the server lacks sent. Small files go a batch at a time: each batch is hashed, asks
        which of its blobs the server lacks and sends those at once, so that hashing overlaps
        sending and the server's writing instead of preceding them (for 2,000 files of 100 KB
        the hashing alone took 0.2-0.8 s of wall time). A big file of more than one chunk
        whose digest is not remembered is sent while it is hashed (docs/transfer.md); other
        big files are hashed, then sent if the server lacks them."""
        sizes = {path: path.stat().st_size for _, path in files}
        # Every refusal the manifest could meet (a path, a size, two paths alike, too many
        # files) before any byte is sent: the digests are not needed for that.
        build_manifest(
            {"path": name, "size": sizes[path], "digest": EMPTY_DIGEST} for name, path in files
        )
        total = sum(sizes.values())
        one = _hasher(cache, bars.task("hashing", total))
        sent = bars.task("uploading", total)  # bytes sent, and bytes the server held already
        limit = min(BATCH_BLOB, uploader.chunk_size)  # a file is never batched past a chunk
        small = [(name, path, sizes[path]) for name, path in files if sizes[path] <= limit]
        large = [(name, path) for name, path in files if sizes[path] > limit]
        claimed: set[str] = set()  # digests some batch has taken on (the same bytes twice)
        lock = threading.Lock()
        hashing = threading.Semaphore(HASHING_AT_ONCE)

        def batch(group: list[tuple[str, Path, int]]) -> list[tuple[Artifact, Path]]:
            with hashing:
                done = [one((name, path)) for name, path, _ in group]
            with lock:
                mine = {a.digest: (a, path) for a, path in done if a.digest not in claimed}
                claimed.update(mine)
            lacking = set(uploader.missing(list(mine))) if mine else set()
            members = [(d, path, a.size) for d, (a, path) in mine.items() if d in lacking]
            sent(sum(a.size for a, _ in done) - sum(size for _, _, size in members))
            if members:
                uploader.upload_batch(members, sent)
            return done

        hashed = [x for done in _parallel(batch, batches(small, workers), workers) for x in done]
        if not large:
            return hashed
        # A file of several chunks whose digest the cache does not know is sent while it is
        # hashed (``Uploader.upload_unhashed``); the others are hashed (or their digests
        # remembered), then only those the server lacks are sent.
        unhashed = [
            (name, path)
            for name, path in large
            if sizes[path] > uploader.chunk_size and cache.known_digest(stat_key(path)) is None
        ]
        later = {name for name, _ in unhashed}
        big = _parallel(one, [item for item in large if item[0] not in later], workers)
        hashed += big
        lacking = set(uploader.missing(sorted({a.digest for a, _ in big}))) if big else set()
        jobs: list[Callable[[], object]] = []
        for a, path in big:
            if a.digest in lacking and a.digest not in claimed:
                claimed.add(a.digest)
                jobs.append(partial(uploader.upload, a.digest, path, a.size, sent))
            else:
                sent(a.size)  # held already, or the same bytes as another file

        def wanted(digest: str) -> bool:
            """Whether an upload whose digest just became known goes on to its commit."""
            if not uploader.missing([digest]):
                return False
            with lock:
                if digest in claimed:
                    return False  # another file of this push sends the same bytes
                claimed.add(digest)
            return True

        artifacts: dict[str, Artifact] = {}
        with ThreadPoolExecutor(max(1, workers), thread_name_prefix="hash") as hashers:

            def digest_of_file(item: tuple[str, Path]) -> str:
                artifacts[item[0]], _ = one(item)
                return artifacts[item[0]].digest

            def send_unhashed(item: tuple[str, Path]) -> None:
                pending = hashers.submit(digest_of_file, item)
                uploader.upload_unhashed(item[1], sizes[item[1]], pending, wanted, sent)

            jobs += [partial(send_unhashed, item) for item in unhashed]
            _parallel(lambda job: job(), jobs, workers)
        return hashed + [(artifacts[name], path) for name, path in unhashed]

    def _upload(
        self,
        uploader: Uploader,
        sources: dict[str, tuple[Path, int]],
        digests: list[str],
        bars: Reporter,
        workers: int,
    ) -> None:
        advance = bars.task("uploading", sum(sources[d][1] for d in digests))
        limit = min(BATCH_BLOB, uploader.chunk_size)  # a file is never batched past a chunk
        small = [(d, *sources[d]) for d in digests if sources[d][1] <= limit]
        large = [d for d in digests if sources[d][1] > limit]
        groups = batches(small, workers)
        jobs = [partial(uploader.upload_batch, group, advance) for group in groups]
        jobs += [partial(uploader.upload, d, *sources[d], advance) for d in large]
        _parallel(lambda job: job(), jobs, workers)

    def _create(
        self,
        model: str,
        body: dict[str, Any],
        uploader: Uploader,
        sources: dict[str, tuple[Path, int]],
        bars: Reporter,
        workers: int,
    ) -> Version:
        url = model_path(model) + "/versions"
        try:
            return self._http.call("POST", url, records.version, json=body)
        except InvalidInputError as exc:
            if exc.code != "MANIFEST_BLOB_UNKNOWN":
                raise
        # Garbage collection took a blob between `missing` and now: send what it lacks, once.
        self._upload(uploader, sources, uploader.missing(sorted(sources)), bars, workers)
        return self._http.call("POST", url, records.version, json=body)

    def manifest(self, reference: str, consumer: str | None = None) -> tuple[str, Manifest]:
        """The manifest of ``namespace/name@REF`` and the version it resolved to
        (``namespace/name@N``). Its digest is checked against the server's header.
        ``consumer``: the service, pipeline or job pulling (its last-seen time is recorded)."""
        ref = parse_reference(reference)
        params = (
            {"ref": reference} if consumer is None else {"ref": reference, "consumer": consumer}
        )
        response = self._http.send("GET", "/api/v1/manifests", params=params)
        digest = digest_of(response.content)
        claimed = response.headers.get("modelyard-digest", "")
        wanted = ref.value if ref.kind is RefKind.DIGEST else claimed
        if not (same_digest(digest, claimed) and same_digest(digest, wanted)):
            raise unexpected(response, f"a manifest hashing to {digest}, not {wanted}")
        return response.headers.get("modelyard-reference", str(ref)), manifest_from_json(
            response.content
        )

    def pull(
        self,
        reference: str,
        dest: str | Path | None = None,
        *,
        progress: bool | None = None,
        workers: int = WORKERS,
        cache_dir: str | Path | None = None,
        consumer: str | None = None,
    ) -> Path:
        """Download the version ``namespace/name@REF`` into ``dest`` (default: ``./name``);
        returns ``dest``. Every blob is verified; cached blobs are not downloaded again.
        ``consumer``: who is pulling (a service, pipeline or job), recorded as last seen."""
        _, manifest = self.manifest(reference, consumer)
        target = Path(dest) if dest is not None else Path(parse_reference(reference).name)
        targets = {a.path: target_of(target, a) for a in manifest.artifacts}
        sizes = {a.digest: a.size for a in manifest.artifacts}
        with _cache(cache_dir) as cache, reporter(progress) as bars:
            advance = bars.task("downloading", sum(sizes.values()))
            fetched = _download_all(Downloader(self._http, cache), sizes, advance, workers)
            fresh = {d for d, (_, new) in fetched.items() if new}
            blobs = {d: path for d, (path, _) in fetched.items()}
            for a in manifest.artifacts:
                place(blobs[a.digest], targets[a.path], link=a.digest in fresh)
                fresh.discard(a.digest)  # a blob is linked into one destination file at most
        return target


def _download_all(
    downloader: Downloader, sizes: dict[str, int], advance: Advance, workers: int
) -> dict[str, tuple[Path, bool]]:
    """Every blob, into the cache: small ones many to a request (``batches``, spread over the
    workers), big ones (and any a cut-off pull left in part) one by one, resumable."""
    # A blob a cut-off pull left in part resumes with a range instead.
    batched = {d for d, n in sizes.items() if n <= BATCH_BLOB and not downloader.has_partial(d)}
    small = [(d, Path(), sizes[d]) for d in sizes if d in batched]
    jobs = [
        partial(downloader.fetch_many, {d: n for d, _, n in group}, advance)
        for group in batches(small, workers)
    ]
    big = [d for d in sizes if d not in batched]
    jobs += [partial(lambda d: {d: downloader.fetch(d, sizes[d], advance)}, d) for d in big]
    fetched: dict[str, tuple[Path, bool]] = {}
    for part in _parallel(lambda job: job(), jobs, workers):
        fetched.update(part)
    return fetched


def _hasher(
    cache: LocalCache, advance: Advance
) -> Callable[[tuple[str, Path]], tuple[Artifact, Path]]:
    """Hashes one ``(artifact path, file)``: its artifact, the digest remembered or computed."""

    def one(item: tuple[str, Path]) -> tuple[Artifact, Path]:
        name, path = item
        size, key = path.stat().st_size, stat_key(path)
        digest = cache.known_digest(key)
        if digest is None:
            digest = hash_file(path, advance)
            if stat_key(path) == key:  # unchanged while it was read
                cache.remember_digest(key, digest)
        else:
            advance(size)
        return artifact(name, size, digest), path

    return one


@contextmanager
def _cache(root: str | Path | None) -> Iterator[LocalCache]:
    cache = LocalCache(Path(root) if root is not None else default_cache_dir())
    try:
        yield cache
    finally:
        cache.close()


__all__ = ["DigestMismatch", "TransferMixin"]
