"""access cache generation: a counter bumped by triggers on every change to who may do what

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

``cache_generations`` holds one counter per cache (``access`` for now). Triggers bump
``access`` in the transaction of every change to API tokens (owner, digest, scopes, expiry,
revocation; delete), users (name, kind, admin flag, disabled; delete), memberships and reviewer
capacities (any change) and namespaces (insert, delete, name, visibility). A server keeps the
caller of a token and namespaces' visibility in memory and reads this one row per request: a
revoked token, a new role or a disabled user takes effect on the next request in every process.

On PostgreSQL the triggers are deferred constraint triggers: the bump runs at commit, the last
thing the transaction does, so the counter row's lock is never held while the transaction waits
for another lock (no deadlock can form around it). ``last_used_at`` is left out on purpose: it
is written as tokens are used, and must not empty every cache.

Triggers are not part of the tables Alembic compares; tests/db/test_migrations.py checks they
exist at head (a later batch migration that rebuilds one of these tables on SQLite drops its
triggers and must make them again).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the events that bump the access generation
WATCHED: dict[str, tuple[str, ...]] = {
    "api_tokens": ("UPDATE OF user_id, digest, scopes, expires_at, revoked_at", "DELETE"),
    "users": ("UPDATE OF name, kind, is_admin, disabled_at", "DELETE"),
    "memberships": ("INSERT", "UPDATE", "DELETE"),
    "reviewer_capacities": ("INSERT", "UPDATE", "DELETE"),
    "namespaces": ("INSERT", "UPDATE OF name, visibility", "DELETE"),
}

BUMP = (
    "INSERT INTO cache_generations (name, generation) VALUES ('access', 1) "
    "ON CONFLICT (name) DO UPDATE SET generation = cache_generations.generation + 1"
)


def trigger_name(table: str, event: str) -> str:
    return f"access_generation_{table}_{event.split()[0].lower()}"


def upgrade() -> None:
    op.create_table(
        "cache_generations",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_cache_generations")),
    )
    op.execute("INSERT INTO cache_generations (name, generation) VALUES ('access', 1)")
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers()
    else:
        _postgresql_triggers()


def _sqlite_triggers() -> None:
    for table, events in WATCHED.items():
        for event in events:
            op.execute(
                f"CREATE TRIGGER {trigger_name(table, event)} AFTER {event} ON {table} "
                f"BEGIN {BUMP}; END"
            )


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION bump_access_generation() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
    )
    for table, events in WATCHED.items():
        for event in events:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER {trigger_name(table, event)} AFTER {event} "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION bump_access_generation()"
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, events in WATCHED.items():
        for event in events:
            suffix = "" if sqlite else f" ON {table}"
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, event)}{suffix}")
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS bump_access_generation()")
    op.drop_table("cache_generations")
