"""A version's manifest: attached once, inside the transaction that creates the version, and
never changed afterwards (its artifact rows are only ever inserted).

``attach`` checks that the server holds every blob the manifest names, live and with the size
the manifest states, and locks those blob rows ``FOR SHARE`` (PostgreSQL) until the version
commits: garbage collection needs ``FOR UPDATE`` on a blob row to delete it, so it cannot
delete a blob between this check and the commit; the foreign key from artifacts to blobs
is the last line of defence. On SQLite writers are serialised and the same holds trivially.
"""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.prepared import Prepared
from modelyard.db.tables import ArtifactRow, BlobRow, VersionRow
from modelyard.domain.errors import InvalidInputError, NotFoundError
from modelyard.domain.manifests import Artifact, Manifest
from modelyard.domain.records import Version
from modelyard.services import references
from modelyard.services.blobs import batches
from modelyard.services.lookup import model_row, version_row

_SHOWN = 50  # at most this many offending digests or paths in an error's details
# One executemany beneath SQLAlchemy's ORM bulk path, which cost about 0.1 ms per row (a
# manifest of 2,000 files: a fifth of the server CPU of pushing them).
_INSERT_ARTIFACTS = Prepared(insert(cast(Table, ArtifactRow.__table__)))


def attach(s: Session, version_id: uuid.UUID, manifest: Manifest) -> None:
    sizes = _held_sizes(s, sorted(manifest.blob_digests))
    unknown = sorted(manifest.blob_digests - sizes.keys())
    if unknown:
        raise InvalidInputError(
            "MANIFEST_BLOB_UNKNOWN",
            f"the server lacks {len(unknown)} of the manifest's blobs; upload them first",
            digests=unknown[:_SHOWN],
            count=len(unknown),
        )
    wrong = [a.path for a in manifest.artifacts if sizes[a.digest] != a.size]
    if wrong:
        raise InvalidInputError(
            "SIZE_INVALID",
            f"{len(wrong)} artifacts state a size other than their blob's",
            paths=wrong[:_SHOWN],
        )
    rows = [{"version_id": version_id, **a.to_dict()} for a in manifest.artifacts]
    _INSERT_ARTIFACTS.run_many(s, rows)


def _held_sizes(s: Session, digests: list[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for batch in batches(digests):
        stmt = (
            select(BlobRow.digest, BlobRow.size)
            .where(BlobRow.digest.in_(batch), BlobRow.condemned_at.is_(None))
            .with_for_update(read=True)
        )
        sizes.update({d: int(n) for d, n in s.execute(stmt)})
    return sizes


def manifest_of(s: Session, version: VersionRow) -> Manifest:
    """The manifest a version was created with; MANIFEST_NOT_FOUND if it has no files."""
    if version.manifest_digest is None:
        reference = f"{version.namespace}/{version.model_name}@{version.number}"
        raise NotFoundError(
            "MANIFEST_NOT_FOUND",
            f"{reference} was created without files",
            reference=reference,
        )
    columns = (ArtifactRow.path, ArtifactRow.size, ArtifactRow.digest, ArtifactRow.media_type)
    rows = s.execute(select(*columns).where(ArtifactRow.version_id == version.id))
    artifacts = sorted((Artifact(*row) for row in rows), key=lambda a: a.path)
    manifest = Manifest(tuple(artifacts))
    # The rows never change, so this can only fail on a bug or a hand-edited database.
    assert manifest.digest == version.manifest_digest, f"manifest of {version.id} drifted"
    return manifest


def get_manifest(db: Database, namespace: str, name: str, number: int) -> Manifest:
    with db.read() as s:
        model = model_row(s, namespace, name)
        return manifest_of(s, version_row(s, model, number))


def resolve_manifest(db: Database, reference: str) -> tuple[Version, Manifest]:
    """The version ``namespace/name@REF`` names, with its manifest."""
    version = references.resolve(db, reference)
    return version, get_manifest(db, version.namespace, version.name, version.version)
