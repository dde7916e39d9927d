"""the outbox's event ids without an index of their own

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27

``outbox_events.event_id`` had a unique constraint, so every change wrote one more b-tree (on
SQLite about 1.3 pages of the write-ahead log per version creation, the ids being random).
Nothing looks an outbox row up by its event id (deliveries are fanned out by ``seq``), and the
ids are unique without it: ``db/audit.py`` writes each outbox row with the audit event of the
same ``seq`` and copies that event's id, which ``audit_events``' own unique constraint keeps
unique. The constraint is dropped on both databases; on SQLite the table is rebuilt (batch
mode copies its rows; it has no triggers).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_outbox_events_event_id"), type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_outbox_events_event_id"), ["event_id"])
