"""governance: exclusive stages, transitions, votes, comments, namespace policies

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

``versions.exclusive_stage`` (NULL unless the version holds an exclusive stage; unique per
model, and always equal to ``stage`` when set) lets the database hold "at most one production
version per model". Existing versions are all in ``development``, so the column starts NULL.
Transition requests and their votes, comments on models and versions, and namespaces'
tightenings of the server's policy get tables of their own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import modelyard.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "namespace_policies",
        sa.Column("namespace_id", sa.Uuid(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["namespaces.id"],
            name=op.f("fk_namespace_policies_namespace_id_namespaces"),
        ),
        sa.PrimaryKeyConstraint("namespace_id", name=op.f("pk_namespace_policies")),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_comments_model_id_models")
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_comments_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
    )
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_comments_model_id_created_at", ["model_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_comments_version_id"), ["version_id"], unique=False)

    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("open_version_id", sa.Uuid(), nullable=True),
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
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_stage", sa.String(length=32), nullable=False),
        sa.Column("to_stage", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("manifest_digest", sa.String(length=71), nullable=True),
        sa.Column("requirement", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("replaced_version_id", sa.Uuid(), nullable=True),
        sa.Column("replaced_number", sa.Integer(), nullable=True),
        sa.Column("basis_id", sa.Integer(), nullable=True),
        sa.Column("requested_by", sa.String(length=128), nullable=False),
        sa.Column("requested_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=False),
        sa.Column("close_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["basis_id"], ["transitions.id"], name=op.f("fk_transitions_basis_id_transitions")
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_transitions_model_id_models")
        ),
        sa.ForeignKeyConstraint(
            ["open_version_id"],
            ["versions.id"],
            name=op.f("fk_transitions_open_version_id_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["replaced_version_id"],
            ["versions.id"],
            name=op.f("fk_transitions_replaced_version_id_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_transitions_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
        sa.UniqueConstraint("open_version_id", name=op.f("uq_transitions_open_version_id")),
    )
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transitions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_transitions_model_id_status", ["model_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transitions_namespace"), ["namespace"], unique=False)
        batch_op.create_index(
            "ix_transitions_status_expires_at", ["status", "expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_transitions_version_id"), ["version_id"], unique=False)

    op.create_table(
        "transition_votes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=False),
        sa.Column("voter", sa.String(length=128), nullable=False),
        sa.Column("voter_id", sa.Uuid(), nullable=False),
        sa.Column("active_voter_id", sa.Uuid(), nullable=True),
        sa.Column("capacity", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("risk_level", sa.String(length=16), nullable=False),
        sa.Column("manifest_digest", sa.String(length=71), nullable=True),
        sa.Column("cast_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("superseded_at", modelyard.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["transition_id"],
            ["transitions.id"],
            name=op.f("fk_transition_votes_transition_id_transitions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition_votes")),
        sa.UniqueConstraint(
            "transition_id",
            "active_voter_id",
            name=op.f("uq_transition_votes_transition_id_active_voter_id"),
        ),
    )
    with op.batch_alter_table("transition_votes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transition_votes_transition_id"), ["transition_id"], unique=False
        )

    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exclusive_stage", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_versions_model_id_exclusive_stage"), ["model_id", "exclusive_stage"]
        )
        batch_op.create_check_constraint(
            op.f("ck_versions_exclusive_is_stage"),
            "exclusive_stage IS NULL OR exclusive_stage = stage",
        )


def downgrade() -> None:
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_versions_exclusive_is_stage"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_versions_model_id_exclusive_stage"), type_="unique")
        batch_op.drop_column("exclusive_stage")

    with op.batch_alter_table("transition_votes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transition_votes_transition_id"))

    op.drop_table("transition_votes")
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transitions_version_id"))
        batch_op.drop_index("ix_transitions_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_transitions_namespace"))
        batch_op.drop_index("ix_transitions_model_id_status")
        batch_op.drop_index(batch_op.f("ix_transitions_created_at"))

    op.drop_table("transitions")
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_version_id"))
        batch_op.drop_index("ix_comments_model_id_created_at")

    op.drop_table("comments")
    op.drop_table("namespace_policies")
