"""SQLAlchemy 2 typed tables: the metadata store's schema.

Portable types only (UUIDs made in Python, JSON, timestamps through ``UTCDateTime``); Alembic
migrations in ``db/migrations`` create exactly this schema on SQLite and PostgreSQL, and
``alembic check`` in CI fails when the two drift.

Invariants held by the schema:
- version numbers are unique per model (``uq_versions_model_id_number``); the model row's
  ``version_counter`` hands them out gapless inside the creating transaction.
- aliases point at one version of their own model; one alias name per model.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class NamespaceRow(Base):
    __tablename__ = "namespaces"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(Name, unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    archived_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModelRow(Base):
    __tablename__ = "models"
    __table_args__ = (UniqueConstraint("namespace_id", "name"),)

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
    __tablename__ = "versions"
    __table_args__ = (
        UniqueConstraint("model_id", "number"),
        Index("ix_versions_model_id_stage", "model_id", "stage"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    model_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("models.id"))
    number: Mapped[int] = mapped_column(Integer)
    # Denormalised (never change after creation) so version search needs no join to order.
    namespace: Mapped[str] = mapped_column(Name)
    model_name: Mapped[str] = mapped_column(Name, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(32), default="development", index=True)
    status: Mapped[str] = mapped_column(String(16), default="ready")
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    manifest_digest: Mapped[str | None] = mapped_column(String(71), index=True)
    archived_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class VersionTagRow(Base):
    __tablename__ = "version_tags"

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
