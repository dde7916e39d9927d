"""core registry schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27

Also creates the free-text index that db/fulltext.py reads: an FTS5 table kept in step by
triggers on SQLite, a GIN index on to_tsvector('simple', body) on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import modelyard.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "namespaces",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "name",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("archived_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_namespaces")),
        sa.UniqueConstraint("name", name=op.f("uq_namespaces_name")),
    )
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entity_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("entity_id", name=op.f("uq_search_documents_entity_id")),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("namespace_id", sa.Uuid(), nullable=False),
        sa.Column(
            "namespace",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "name",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("risk_reason", sa.Text(), nullable=False),
        sa.Column("version_counter", sa.Integer(), nullable=False),
        sa.Column("archived_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"], ["namespaces.id"], name=op.f("fk_models_namespace_id_namespaces")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_models")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f("uq_models_namespace_id_name")),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_models_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_models_namespace_id"), ["namespace_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_models_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "model_tags",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column(
            "key",
            sa.String(length=128).with_variant(sa.String(length=128, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["models.id"],
            name=op.f("fk_model_tags_model_id_models"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("model_id", "key", name=op.f("pk_model_tags")),
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column(
            "namespace",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "model_name",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("manifest_digest", sa.String(length=71), nullable=True),
        sa.Column("archived_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_versions_model_id_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_versions")),
        sa.UniqueConstraint("model_id", "number", name=op.f("uq_versions_model_id_number")),
    )
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_versions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_versions_manifest_digest"), ["manifest_digest"], unique=False
        )
        batch_op.create_index("ix_versions_model_id_stage", ["model_id", "stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_versions_model_name"), ["model_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_versions_stage"), ["stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_versions_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "aliases",
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column(
            "alias",
            sa.String(length=64).with_variant(sa.String(length=64, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_aliases_model_id_models"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_aliases_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("model_id", "alias", name=op.f("pk_aliases")),
    )
    with op.batch_alter_table("aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aliases_version_id"), ["version_id"], unique=False)

    op.create_table(
        "version_tags",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column(
            "key",
            sa.String(length=128).with_variant(sa.String(length=128, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["versions.id"],
            name=op.f("fk_version_tags_version_id_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "key", name=op.f("pk_version_tags")),
    )

    _create_fulltext()


def downgrade() -> None:
    _drop_fulltext()
    op.drop_table("version_tags")
    with op.batch_alter_table("aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_aliases_version_id"))

    op.drop_table("aliases")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_versions_updated_at"))
        batch_op.drop_index(batch_op.f("ix_versions_stage"))
        batch_op.drop_index(batch_op.f("ix_versions_model_name"))
        batch_op.drop_index("ix_versions_model_id_stage")
        batch_op.drop_index(batch_op.f("ix_versions_manifest_digest"))
        batch_op.drop_index(batch_op.f("ix_versions_created_at"))

    op.drop_table("versions")
    op.drop_table("model_tags")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_updated_at"))
        batch_op.drop_index(batch_op.f("ix_models_namespace_id"))
        batch_op.drop_index(batch_op.f("ix_models_name"))
        batch_op.drop_index(batch_op.f("ix_models_created_at"))

    op.drop_table("models")
    op.drop_table("search_documents")
    op.drop_table("namespaces")


_SQLITE_FULLTEXT = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_documents', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_fts_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_fts_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_fts_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
]


def _create_fulltext() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_FULLTEXT:
            op.execute(statement)
    else:
        op.execute(
            "CREATE INDEX ix_search_documents_body_tsv ON search_documents "
            "USING gin (to_tsvector('simple', body))"
        )


def _drop_fulltext() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_fts_ai", "search_fts_ad", "search_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_documents_body_tsv")
