"""models listed in their order without a sort

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27

Model lists and searches are ordered by (namespace, name, id). No index had that order, so
every page read all the models that passed the filter and sorted them (1.3 ms at 10,000
models on SQLite, growing with the registry); with ``ix_models_namespace_name_id`` a page
walks the index and stops after its rows (0.12 ms). A version creation updates the model's
counter and time, not these columns, so it writes no page of this index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_models_namespace_name_id", "models", ["namespace", "name", "id"])


def downgrade() -> None:
    op.drop_index("ix_models_namespace_name_id", table_name="models")
