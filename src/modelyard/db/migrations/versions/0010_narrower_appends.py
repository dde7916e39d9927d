"""fewer b-trees written per change: sequence numbers as rowids, no outbox type index, tag rows
in their key, no per-document sizes in the SQLite free-text index

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

Every b-tree a transaction touches is at least one more page appended to SQLite's write-ahead
log at COMMIT (and copied again at the checkpoint); a version creation wrote about 40. This
migration removes up to seven of them without changing what any query can do:

- ``audit_events.seq`` and ``outbox_events.seq`` become ``INTEGER`` on SQLite, so the primary
  key is the rowid instead of an index beside the table (PostgreSQL keeps ``BIGINT``);
- ``ix_outbox_events_type`` is dropped (both databases): nothing looks events up by type;
- ``uq_versions_model_id_exclusive_stage`` (a constraint until now) and
  ``ix_versions_manifest_digest`` become partial indexes without the NULL rows (both
  databases): NULLs never collided in the one nor were looked up in the other, and most
  versions hold no exclusive stage (a version without files has no digest either);
- ``version_tags`` is a ``WITHOUT ROWID`` table on SQLite: rows stored in the primary key;
- ``search_fts`` is made again with ``columnsize=0``: the per-document token counts it kept are
  only for ranking functions (bm25), which the search never calls (db/fulltext.py).

Rebuilding the four tables on SQLite copies their rows (batch mode, foreign keys off:
db/migrate.py); none of them has triggers of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Partial indexes on versions (name, columns, unique), each without the rows whose last column
# is NULL.
_PARTIAL = [
    ("uq_versions_model_id_exclusive_stage", ["model_id", "exclusive_stage"], True),
    ("ix_versions_manifest_digest", ["manifest_digest"], False),
]

_FTS = (
    "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_documents', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0'{options})"
)
_FTS_TRIGGERS = [
    "CREATE TRIGGER search_fts_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER search_fts_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER search_fts_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
]


def upgrade() -> None:
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_events_type"))
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_versions_model_id_exclusive_stage", type_="unique")
        batch_op.drop_index("ix_versions_manifest_digest")
    for name, columns, unique in _PARTIAL:
        op.create_index(
            name,
            "versions",
            columns,
            unique=unique,
            sqlite_where=sa.text(f"{columns[-1]} IS NOT NULL"),
            postgresql_where=sa.text(f"{columns[-1]} IS NOT NULL"),
        )
    if op.get_bind().dialect.name != "sqlite":
        return
    _seq_type("audit_events", sa.BigInteger(), sa.Integer())
    _seq_type("outbox_events", sa.BigInteger(), sa.Integer())
    with op.batch_alter_table(
        "version_tags", recreate="always", table_kwargs={"sqlite_with_rowid": False}
    ):
        pass
    _fulltext(", columnsize=0")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _fulltext("")
        with op.batch_alter_table("version_tags", recreate="always"):
            pass
        _seq_type("outbox_events", sa.Integer(), sa.BigInteger())
        _seq_type("audit_events", sa.Integer(), sa.BigInteger())
    for name, _, _ in _PARTIAL:
        op.drop_index(name, table_name="versions")
    with op.batch_alter_table("versions", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_versions_model_id_exclusive_stage", ["model_id", "exclusive_stage"]
        )
        batch_op.create_index("ix_versions_manifest_digest", ["manifest_digest"], unique=False)
    with op.batch_alter_table("outbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_events_type"), ["type"], unique=False)


def _seq_type(table: str, old: sa.types.TypeEngine[int], new: sa.types.TypeEngine[int]) -> None:
    with op.batch_alter_table(table, recreate="always") as batch_op:
        batch_op.alter_column("seq", existing_type=old, type_=new, existing_nullable=False)


def _fulltext(options: str) -> None:
    """Make the SQLite free-text index again with ``options`` and fill it from the documents."""
    for name in ("search_fts_ai", "search_fts_ad", "search_fts_au"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute(_FTS.format(options=options))
    for statement in _FTS_TRIGGERS:
        op.execute(statement)
    op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
