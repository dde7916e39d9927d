"""SQLAlchemy 2 typed tables: the metadata store's schema.

Portable types only (UUIDs made in Python, JSON, timestamps through ``UTCDateTime``); Alembic
migrations in ``db/migrations`` create exactly this schema on SQLite and PostgreSQL, and
``alembic check`` in CI fails when the two drift.

Invariants held by the schema:
- version numbers are unique per model (``uq_versions_model_id_number``); the model row's
  ``version_counter`` hands them out gapless inside the creating transaction.
- aliases point at one version of their own model; one alias name per model.
- a version's ingredients, packages and lineage edges are inserted with the version and never
  changed; edges point at versions that existed before it, so lineage is acyclic.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from modelyard.db.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Names compare byte-wise on both databases (PostgreSQL's locale collations would ignore '-' and
# '.' when ordering), so ordering and keyset pages agree between SQLite and PostgreSQL.
Name = String(64).with_variant(String(64, collation="C"), "postgresql")
Key = String(128).with_variant(String(128, collation="C"), "postgresql")
# The audit chain's and the outbox's sequence number: BIGINT, and on SQLite INTEGER, which makes
# the primary key the table's rowid, so an append writes the table's b-tree only, not a
# separate key index besides (migration 0010).
Seq = BigInteger().with_variant(Integer(), "sqlite")
ArtifactPath = String(1024).with_variant(String(1024, collation="C"), "postgresql")
Digest = String(71)
PackageName = String(200).with_variant(String(200, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class NamespaceRow(Base):
    __tablename__ = "namespaces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Name, unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    # private: members only; internal: readable by every signed-in user (domain/access.py).
    visibility: Mapped[str] = mapped_column(String(16), default="private", server_default="private")
    archived_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelRow(Base):
    __tablename__ = "models"
    __table_args__ = (
        UniqueConstraint("namespace_id", "name"),
        # The order of every model list and search page (namespace, name, id): walked, not
        # sorted, and a page stops after its rows (migration 0012).
        Index("ix_models_namespace_name_id", "namespace", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id"), index=True)
    # Denormalised copy of the namespace name: namespaces are never renamed, and search,
    # ordering and keyset pagination by namespace then need no join.
    namespace: Mapped[str] = mapped_column(Name)
    name: Mapped[str] = mapped_column(Name, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    risk_level: Mapped[str] = mapped_column(String(16), default="unassessed")
    risk_reason: Mapped[str] = mapped_column(Text, default="")
    version_counter: Mapped[int] = mapped_column(Integer, default=0)
    archived_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ModelTagRow(Base):
    __tablename__ = "model_tags"

    model_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Key, primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class VersionRow(Base):
    """A version. ``stage`` moves only through transitions (services/stages.py).

    ``exclusive_stage`` equals ``stage`` while the version holds an exclusive stage (production
    by default) and is NULL otherwise; ``uq_versions_model_id_exclusive_stage`` then lets at most
    one version per model hold each exclusive stage, on SQLite and PostgreSQL alike, and
    ``ck_versions_exclusive_is_stage`` keeps the column honest. That unique index, and the one
    on ``manifest_digest``, leave out the NULLs (partial indexes, migration 0010): no query looks
    them up, and a version created with neither writes two index pages fewer."""

    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("model_id", "number"),
        Index(
            "uq_versions_model_id_exclusive_stage",
            "model_id",
            "exclusive_stage",
            unique=True,
            sqlite_where=text("exclusive_stage IS NOT NULL"),
            postgresql_where=text("exclusive_stage IS NOT NULL"),
        ),
        CheckConstraint(
            "exclusive_stage IS NULL OR exclusive_stage = stage", name="exclusive_is_stage"
        ),
        # (model_id, stage, number): the newest version of a model in a stage is the index's
        # last entry for (model_id, stage) (migration 0011).
        Index("ix_versions_model_id_stage", "model_id", "stage", "number"),
        Index(
            "ix_versions_manifest_digest",
            "manifest_digest",
            sqlite_where=text("manifest_digest IS NOT NULL"),
            postgresql_where=text("manifest_digest IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id"))
    number: Mapped[int] = mapped_column(Integer)
    # Denormalised (never change after creation) so version search needs no join to order.
    namespace: Mapped[str] = mapped_column(Name)
    model_name: Mapped[str] = mapped_column(Name, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(32), default="development", index=True)
    exclusive_stage: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="ready")
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    manifest_digest: Mapped[str | None] = mapped_column(String(71))
    archived_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class VersionTagRow(Base):
    """A version's tags. On SQLite the rows live in the primary key's b-tree (``WITHOUT
    ROWID``): a tag insert writes one b-tree, not a table and its key index (migration 0010)."""

    __tablename__ = "version_tags"
    __table_args__ = {"sqlite_with_rowid": False}

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(Key, primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class AliasRow(Base):
    __tablename__ = "aliases"

    model_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(Name, primary_key=True)
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SearchDocumentRow(Base):
    """Free-text body of one model or version. SQLite indexes it with an FTS5 table kept in step
    by triggers; PostgreSQL with a GIN index on ``to_tsvector('simple', body)``. Both are made
    by the migration and read by ``db/fulltext.py``."""

    __tablename__ = "search_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text, default="")


class BlobRow(Base):
    """A blob the store holds, by digest. Blob first, row second: the row is written in the
    transaction that publishes the bytes, so a live row always has its bytes in the store.

    ``condemned_at`` is GC's first phase: a condemned row counts as absent (missing, refused in
    manifests) until GC deletes the bytes and the row, or an upload of the same bytes revives it.
    See services/gc.py for the whole protocol."""

    __tablename__ = "blobs"

    digest: Mapped[str] = mapped_column(Digest, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Refreshed when an upload commits or a client is told the blob is present, so a blob a
    # push is about to reference outlives the GC grace window.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    condemned_at: Mapped[datetime | None]


class ArtifactRow(Base):
    """A file of a version: written with the version, never changed (the manifest)."""

    __tablename__ = "artifacts"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    path: Mapped[str] = mapped_column(ArtifactPath, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    # No ON DELETE: the database refuses to drop a blob row some artifact still names.
    digest: Mapped[str] = mapped_column(Digest, ForeignKey("blobs.digest"), index=True)
    media_type: Mapped[str] = mapped_column(String(255))


class UploadRow(Base):
    """An upload session in progress. Its bytes live in the blob store's uploads area; this
    row says how many count (``received``), so a restarted server resumes where it stood."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    declared_size: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class UploadPartRow(Base):
    """Where the store put a run of an upload's bytes (S3: one part object each)."""

    __tablename__ = "upload_parts"

    upload_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("uploads.id", ondelete="CASCADE"), primary_key=True
    )
    start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(512))


class UserRow(Base):
    """A person (``kind='user'``) or a service account (``kind='service'``, a machine user for
    CI pipelines: tokens only, no password, no reviewer capacities, never approves).

    ``password_hash`` is argon2id (PHC string); no password is ever stored. A service account's
    ``owner_namespace_id`` names the team whose admins manage it."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Name, unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="user")
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    is_admin: Mapped[bool] = mapped_column(default=False)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    owner_namespace_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("namespaces.id"))
    disabled_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebSessionRow(Base):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored, so a
    copy of the database signs nobody in. The CSRF token is derived from the secret."""

    __tablename__ = "web_sessions"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class MembershipRow(Base):
    """A user's role in a namespace (viewer, contributor, maintainer, admin)."""

    __tablename__ = "memberships"

    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CapacityRow(Base):
    """A reviewer capacity (technical, business, legal, …) a member holds in a namespace.
    Removing the membership removes its capacities (the composite foreign key cascades)."""

    __tablename__ = "reviewer_capacities"
    __table_args__ = (
        ForeignKeyConstraint(
            ["namespace_id", "user_id"],
            ["memberships.namespace_id", "memberships.user_id"],
            ondelete="CASCADE",
        ),
    )

    namespace_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    capacity: Mapped[str] = mapped_column(String(32), primary_key=True)
    granted_by: Mapped[str] = mapped_column(String(128))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiTokenRow(Base):
    """An API token. Only its SHA-256 digest (for look-up), its first 8 and last 4 characters
    (to recognise it in lists) are stored; the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    last_four: Mapped[str] = mapped_column(String(4))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeniedRequestRow(Base):
    """A refused sensitive request: failed login, bad token, or an authorization denial (403,
    or the 404 that hides a private target). Append-only; the audit log takes these rows
    over. Never holds a secret: the path is kept without its query string."""

    __tablename__ = "denied_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(128), default="")
    actor_id: Mapped[uuid.UUID | None]
    token_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(300), default="")
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(1024))
    status: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str] = mapped_column(String(64), default="")


class IngredientsRow(Base):
    """A version's ingredients (code, environment, config) and its completeness report, written
    with the version and never changed. Data references are lineage rows (``DataEdgeRow``);
    installed packages are rows of their own (``PackageRow``) so they can be queried."""

    __tablename__ = "version_ingredients"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    code: Mapped[dict[str, Any] | None]
    environment: Mapped[dict[str, Any] | None]
    config: Mapped[dict[str, Any] | None]
    code_commit: Mapped[str] = mapped_column(String(64), default="", index=True)
    has_code: Mapped[bool] = mapped_column(default=False)
    has_environment: Mapped[bool] = mapped_column(default=False)
    has_config: Mapped[bool] = mapped_column(default=False)
    has_data: Mapped[bool] = mapped_column(default=False)
    complete: Mapped[bool] = mapped_column(default=False, index=True)
    missing: Mapped[dict[str, Any]] = mapped_column(default=dict)  # part -> why


class PackageRow(Base):
    """One installed distribution of a version's environment (name normalised, PEP 503)."""

    __tablename__ = "version_packages"
    __table_args__ = (Index("ix_version_packages_name_version", "name", "version"),)

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(PackageName, primary_key=True)
    version: Mapped[str] = mapped_column(String(128))


class DatasetRow(Base):
    """A registered dataset version. ``uri``, ``digest`` and ``size`` never change."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("namespace", "name", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id"), index=True)
    namespace: Mapped[str] = mapped_column(Name)
    name: Mapped[str] = mapped_column(Name)
    version: Mapped[str] = mapped_column(Name)
    uri: Mapped[str] = mapped_column(String(2048), default="")
    digest: Mapped[str | None] = mapped_column(Digest)
    size: Mapped[int | None] = mapped_column(BigInteger)
    owner: Mapped[str] = mapped_column(String(128), default="")
    licence: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    revoked_reason: Mapped[str] = mapped_column(Text, default="")
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str] = mapped_column(String(128), default="")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetClassificationRow(Base):
    __tablename__ = "dataset_classifications"

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    classification: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class DataEdgeRow(Base):
    """version -> data: a registered dataset (``dataset_id``) or ad-hoc ``uri`` + ``digest``."""

    __tablename__ = "lineage_data"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    relation: Mapped[str] = mapped_column(String(16))  # trained_on | evaluated_on
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("datasets.id"), index=True)
    uri: Mapped[str] = mapped_column(String(2048), default="")
    digest: Mapped[str | None] = mapped_column(Digest)


class VersionEdgeRow(Base):
    """version -> an older version: ``derived_from`` or ``depends_on``."""

    __tablename__ = "lineage_versions"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    relation: Mapped[str] = mapped_column(String(16), primary_key=True)
    upstream_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("versions.id"), primary_key=True, index=True
    )


class ConsumerRow(Base):
    """A service, pipeline or job that consumes ``reference`` (``ns/name@REF``) of a model."""

    __tablename__ = "consumers"
    __table_args__ = (UniqueConstraint("model_id", "name"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id"), index=True)
    name: Mapped[str] = mapped_column(Name)
    kind: Mapped[str] = mapped_column(String(16), default="service")
    reference: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    declared_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    last_version: Mapped[int | None] = mapped_column(Integer)


class MetricRow(Base):
    """One metric of a version, on a dataset and split ('' when not stated). The rows with
    neither are the version's ``metrics`` dict."""

    __tablename__ = "version_metrics"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    name: Mapped[str] = mapped_column(Key, primary_key=True, index=True)
    dataset: Mapped[str] = mapped_column(String(300), primary_key=True, default="")
    split: Mapped[str] = mapped_column(String(64), primary_key=True, default="")
    value: Mapped[float] = mapped_column(Float)


class CardRow(Base):
    """The author's markdown of a version's model card (the rest is generated)."""

    __tablename__ = "version_cards"

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    markdown: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEventRow(Base):
    """One entry of the tamper-evident audit log (see ``domain/audit.py`` for the chain).

    Append-only: written by ``db/audit.py`` in the transaction of the change it records, never
    updated or deleted by any code path. ``seq`` is gapless from 1; ``hash`` chains each row to
    the one before. Never holds a secret."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    actor_id: Mapped[uuid.UUID | None]
    token_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(300), index=True)
    namespace: Mapped[str | None] = mapped_column(Name, index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    request_id: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The chain's head: the last seq and hash (one row, ``id = 1``). Writers lock it, which
    serialises appends to the chain; ``audit verify`` checks the chain ends here."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class OutboxEventRow(Base):
    """A change notification waiting for delivery (transactional outbox), written with its audit
    event. ``seq`` is that event's seq: rows commit in seq order (the chain head is locked until
    commit), so consumers can keep a "last seq handled" cursor. ``event_id`` is the stable id
    deliveries carry: the audit event's, unique there, so no index of its own here (nothing
    looks an outbox row up by it; migration 0013)."""

    __tablename__ = "outbox_events"

    seq: Mapped[int] = mapped_column(Seq, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID]
    type: Mapped[str] = mapped_column(String(64))  # no index: nothing looks events up by type
    namespace: Mapped[str | None] = mapped_column(Name)
    target: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CacheGenerationRow(Base):
    """Counters that database triggers bump in the transaction of every change to what a
    process-local cache holds, so a process learns with one cheap read whether its cache is
    still true, whichever process (or ``modelyard`` command) made the change.

    ``access``: bumped by changes to API tokens (scopes, expiry, revocation), users (name,
    kind, admin flag, disabled), memberships, reviewer capacities and namespaces (created,
    deleted, renamed, visibility); read by ``services/access_cache.py``. The triggers are made
    by migration 0006 (and checked by tests/db/test_migrations.py)."""

    __tablename__ = "cache_generations"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)


class WebhookRow(Base):
    """A webhook: where events go, which ones (``events``: type filters, ``namespaces``: none
    means a global webhook) and the signing secret, sealed (``services/secretbox.py``): the
    server needs the secret itself to sign, so it is encrypted, never stored in the clear.
    After a rotation with an overlap, the previous secret also signs until its time is up.
    ``start_seq``: the outbox seq when it was made; it gets the events after it."""

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    events: Mapped[list[str]] = mapped_column(JSON)
    namespaces: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    secret_sealed: Mapped[str] = mapped_column(String(256))
    # After a rotation with an overlap: the previous secret, sealed, signs next to the new one
    # until ``previous_secret_until``.
    previous_secret_sealed: Mapped[str | None] = mapped_column(String(256))
    previous_secret_until: Mapped[datetime | None]
    start_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDeliveryRow(Base):
    """One event on its way to one webhook: at most one row per (webhook, event), so fanning
    out twice never sends an event twice. ``body`` is the exact JSON sent (and signed) on every
    attempt. A worker claims a due row by leasing it (``leased_by``, ``lease_expires_at``); a
    lease that runs out (the worker died) makes the row due again. ``seq`` is the outbox event's
    (none for test events). Failures count from ``round_start`` (a redelivery starts a round)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "event_id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_created_at", "webhook_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    round_start: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class WebhookAttemptRow(Base):
    """One HTTP attempt of a delivery, for the delivery log."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(Text, default="")
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str] = mapped_column(String(64), default="")


class WebhookCursorRow(Base):
    """How far the fan-out has read the outbox (one row, ``id = 1``): every outbox event with
    ``seq <= cursor`` has its delivery rows. Outbox rows commit in seq order, so nothing below
    the cursor can still appear."""

    __tablename__ = "webhook_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class TransitionRow(Base):
    """A request to move a version to a stage, and what became of it (services/transitions.py).

    ``open_version_id`` is the version's id while the request is pending and NULL once it is
    closed: the unique constraint lets each version have at most one pending request.
    ``requirement`` is what the policy asked at the model's risk level (recomputed when the
    risk level changes); ``checks`` the last evaluation of its checks. On an exclusive stage,
    ``replaced_version_id`` is the holder the applied transition moved out (the rollback
    target) and ``basis_id`` the transition that had brought that holder in."""

    __tablename__ = "transitions"
    __table_args__ = (
        UniqueConstraint("open_version_id"),
        Index("ix_transitions_model_id_status", "model_id", "status"),
        Index("ix_transitions_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id"))
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("versions.id"), index=True)
    open_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("versions.id"))
    namespace: Mapped[str] = mapped_column(Name, index=True)
    model_name: Mapped[str] = mapped_column(Name)
    version_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # promotion | rollback
    from_stage: Mapped[str] = mapped_column(String(32))
    to_stage: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    risk_level: Mapped[str] = mapped_column(String(16))
    manifest_digest: Mapped[str | None] = mapped_column(Digest)
    requirement: Mapped[dict[str, Any]] = mapped_column(default=dict)
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    replaced_version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("versions.id"))
    replaced_number: Mapped[int | None] = mapped_column(Integer)
    basis_id: Mapped[int | None] = mapped_column(ForeignKey("transitions.id"))
    requested_by: Mapped[str] = mapped_column(String(128))
    requested_by_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str] = mapped_column(String(128), default="")
    close_reason: Mapped[str] = mapped_column(Text, default="")


class VoteRow(Base):
    """An approval or rejection of a transition, cast in one reviewer capacity, bound to the
    version's manifest digest and the model's risk level at the time.

    ``active_voter_id`` is the voter's id while the vote counts and NULL once a raised risk
    level superseded it: the unique constraint holds one vote per person per request (NULLs
    never collide), and a superseded voter may vote again at the new level."""

    __tablename__ = "transition_votes"
    __table_args__ = (UniqueConstraint("transition_id", "active_voter_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    transition_id: Mapped[int] = mapped_column(ForeignKey("transitions.id"), index=True)
    voter: Mapped[str] = mapped_column(String(128))
    voter_id: Mapped[uuid.UUID]
    active_voter_id: Mapped[uuid.UUID | None]
    capacity: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(8))  # approve | reject
    comment: Mapped[str] = mapped_column(Text, default="")
    risk_level: Mapped[str] = mapped_column(String(16))
    manifest_digest: Mapped[str | None] = mapped_column(Digest)
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded_at: Mapped[datetime | None]


class CommentRow(Base):
    """Discussion next to the evidence: a comment on a model, or on one of its versions."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_model_id_created_at", "model_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id"))
    version_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("versions.id"), index=True)
    version_number: Mapped[int | None] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NamespacePolicyRow(Base):
    """A namespace's tightening of the server's policy (``domain/policy.py`` ``Override``)."""

    __tablename__ = "namespace_policies"

    namespace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("namespaces.id"), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_by: Mapped[str] = mapped_column(String(128))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
