"""Records of refused sensitive requests (failed logins, bad tokens, authorization denials).

Written in a transaction of their own (a refused request changes nothing else), with an
``access.denied`` event in the audit log (audit only: no webhook event). A record that cannot
be written is logged and dropped: the request stays refused either way (failing closed), and a
database outage must not turn a 403 into a 500.
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
from modelyard.services import audit

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
            audit.record(
                s,
                denial.actor,
                "access.denied",
                denial.target or denial.path,
                namespace=_namespace_of(denial.target),
                after={
                    "action": denial.action,
                    "method": denial.method,
                    "path": denial.path,
                    "status": denial.status,
                    "code": denial.code,
                    "client": denial.client,
                    "actor_id": denial.actor_id,
                    "token_id": denial.token_id,
                },
                event=False,
            )
    except (ModelyardError, SQLAlchemyError, OSError) as exc:
        log.warning("could not record a denied request (%s): %s", denial.code, exc)


def _namespace_of(target: str) -> str | None:
    """``ns`` of a ``ns`` or ``ns/name…`` target; None for other targets (``user:…``)."""
    if not target or ":" in target.split("/", 1)[0]:
        return None
    return target.split("/", 1)[0].split("@", 1)[0][:64] or None


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
