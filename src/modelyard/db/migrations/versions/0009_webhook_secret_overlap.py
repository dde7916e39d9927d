"""webhook secret rotation with an overlap: the previous secret, sealed, and until when it signs

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

While ``previous_secret_until`` is in the future, deliveries carry a signature made with the
previous secret next to the current one, so receivers can switch secrets without dropping
events. Existing webhooks have no previous secret.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import modelyard.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("previous_secret_sealed", sa.String(length=256), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "previous_secret_until",
                modelyard.db.types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("webhooks", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_secret_sealed")
