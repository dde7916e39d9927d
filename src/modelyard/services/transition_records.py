"""Reading transitions: one by id, lists (newest first, keyset pages, only what the caller
may read), and the row -> ``Transition`` record conversion the services share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from modelyard.db.engine import Database
from modelyard.db.tables import TransitionRow, VoteRow
from modelyard.db.types import utcnow
from modelyard.db.visibility import readable_clause
from modelyard.domain.access import Readable
from modelyard.domain.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.domain.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    fingerprint,
)
from modelyard.domain.records import Page
from modelyard.domain.transitions import STATUSES, CheckOutcome, Transition, Vote, tally


def row_of(s: Session, transition_id: int, for_update: bool = False) -> TransitionRow:
    stmt = select(TransitionRow).where(TransitionRow.id == transition_id)
    row = None
    if 1 <= transition_id < 2**31:
        row = s.scalars(stmt.with_for_update() if for_update else stmt).first()
    if row is None:
        raise NotFoundError(
            "TRANSITION_NOT_FOUND", f"no transition #{transition_id}", transition=transition_id
        )
    return row


def refuse_closed(row: TransitionRow) -> None:
    if row.status != "pending":
        raise ConflictError(
            "TRANSITION_CLOSED",
            f"transition #{row.id} is {row.status}; it takes no more decisions",
            transition=row.id,
            status=row.status,
        )
    if row.expires_at <= utcnow():
        raise ConflictError(
            "TRANSITION_CLOSED",
            f"transition #{row.id} expired at {row.expires_at.isoformat()}",
            transition=row.id,
            status="expired",
        )


def ref_of(row: TransitionRow) -> str:
    return f"{row.namespace}/{row.model_name}@{row.version_number}"


def votes_of(s: Session, transition_id: int) -> list[Vote]:
    stmt = select(VoteRow).where(VoteRow.transition_id == transition_id).order_by(VoteRow.cast_at)
    return [
        Vote(v.voter, v.capacity, v.decision, v.comment, v.risk_level, v.manifest_digest,
             v.cast_at, v.superseded_at)
        for v in s.scalars(stmt)
    ]  # fmt: skip


def record(s: Session, row: TransitionRow) -> Transition:
    votes = votes_of(s, row.id)
    req = row.requirement or {}
    return Transition(
        id=row.id, namespace=row.namespace, name=row.model_name, version=row.version_number,
        kind=row.kind, from_stage=row.from_stage, to_stage=row.to_stage, status=row.status,
        reason=row.reason, risk_level=row.risk_level, manifest_digest=row.manifest_digest,
        requested_by=row.requested_by, created_at=row.created_at, expires_at=row.expires_at,
        approvals=tally(req.get("approvals", {}), votes, row.manifest_digest),
        checks=[CheckOutcome.from_dict(c) for c in row.checks or []], votes=votes,
        refused=bool(req.get("refused")), closed_at=row.closed_at, closed_by=row.closed_by,
        close_reason=row.close_reason, replaced_version=row.replaced_number,
    )  # fmt: skip


def get_transition(db: Database, transition_id: int) -> Transition:
    with db.read() as s:
        return record(s, row_of(s, transition_id))


def locate(db: Database, transition_id: int) -> tuple[str, str]:
    """The (namespace, model) a transition belongs to, for access checks."""
    with db.read() as s:
        row = row_of(s, transition_id)
        return row.namespace, row.model_name


def list_transitions(
    db: Database,
    readable: Readable | None,
    namespace: str | None = None,
    model: str | None = None,
    status: str | None = None,
    page_size: int | None = None,
    page_token: str | None = None,
) -> Page[Transition]:
    """Newest first; ``model`` is ``namespace/name``; ``readable``: only what the caller may
    read (``None``: everything)."""
    if status is not None and status not in STATUSES:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"status is one of {', '.join(STATUSES)}", status=status
        )
    size = clamp_page_size(page_size)
    query = fingerprint("transitions", namespace, model, status)
    stmt = _filtered(select(TransitionRow), readable, namespace, model, status)
    if page_token:
        (last,) = decode_page_token(page_token, query, 1)
        if not isinstance(last, int):
            raise InvalidInputError(
                "PAGE_TOKEN_INVALID", "page_token does not belong to this query"
            )
        stmt = stmt.where(TransitionRow.id < last)
    with db.read() as s:
        rows = list(s.scalars(stmt.order_by(TransitionRow.id.desc()).limit(size + 1)))
        items = [record(s, r) for r in rows[:size]]
    token = encode_page_token((rows[size - 1].id,), query) if len(rows) > size else None
    return Page(items, token)


def _filtered(
    stmt: Select[Any],
    readable: Readable | None,
    namespace: str | None,
    model: str | None,
    status: str | None,
) -> Select[Any]:
    if readable is not None:
        stmt = stmt.where(
            readable_clause(readable, TransitionRow.namespace, TransitionRow.model_name)
        )
    if namespace is not None:
        stmt = stmt.where(TransitionRow.namespace == namespace)
    if model is not None:
        ns, _, name = model.partition("/")
        stmt = stmt.where(TransitionRow.namespace == ns, TransitionRow.model_name == name)
    if status is not None:
        stmt = stmt.where(TransitionRow.status == status)
    return stmt
