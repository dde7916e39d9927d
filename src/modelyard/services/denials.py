"""Records of refused sensitive requests (failed logins, bad tokens, authorization denials).

Written in a transaction of their own (a refused request changes nothing else). The governance
capability's audit log takes these rows over. A record that cannot be written is logged and
dropped: the request stays refused either way (failing closed), and a database outage must not
turn a 403 into a 500.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from modelyard.db.engine import Database
from modelyard.db.tables import DeniedRequestRow
from modelyard.domain.errors import ModelyardError

log = logging.getLogger("modelyard.access")


@dataclass(frozen=True)
class Denial:
    action: str
    target: str
    method: str
    path: str  # never the query string: it may hold a secret
    status: int
    code: str
    actor: str = ""
    actor_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    client: str = ""
    request_id: str = ""


def record(db: Database, denial: Denial) -> None:
    try:
        with db.write() as s:
            s.add(DeniedRequestRow(**denial.__dict__))
    except (ModelyardError, SQLAlchemyError, OSError) as exc:
        log.warning("could not record a denied request (%s): %s", denial.code, exc)


def recent(db: Database, limit: int = 100) -> list[Denial]:
    """The newest records first (for tests and, until the audit log exists, operators)."""
    stmt = select(DeniedRequestRow).order_by(DeniedRequestRow.at.desc()).limit(limit)
    with db.read() as s:
        return [_denial(r) for r in s.scalars(stmt)]


def _denial(row: DeniedRequestRow) -> Denial:
    return Denial(
        action=row.action,
        target=row.target,
        method=row.method,
        path=row.path,
        status=row.status,
        code=row.code,
        actor=row.actor,
        actor_id=row.actor_id,
        token_id=row.token_id,
        client=row.client,
        request_id=row.request_id,
    )
