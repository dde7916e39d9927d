"""the newest version of a model in a stage found from the end of an index

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27

``ix_versions_model_id_stage`` was (model_id, stage): a reference to a stage
(``ns/name@development``) read every version of the model in that stage and sorted them to find
the newest. As (model_id, stage, number) the newest is the last entry for (model_id, stage),
and every look-up by (model_id, stage) keeps its index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_versions_model_id_stage", table_name="versions")
    op.create_index("ix_versions_model_id_stage", "versions", ["model_id", "stage", "number"])


def downgrade() -> None:
    op.drop_index("ix_versions_model_id_stage", table_name="versions")
    op.create_index("ix_versions_model_id_stage", "versions", ["model_id", "stage"])
