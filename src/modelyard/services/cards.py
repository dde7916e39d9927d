"""Model cards: the author's markdown, kept per version, merged with what the registry knows.

The author writes the prose (intended use, limitations, ethical considerations); the registry
generates the facts (ingredients, datasets and their classifications, metrics, lineage,
approvals once governance records them) from the version's immutable records. Each version has
its own card, so a card is versioned with the model. Rendering is in ``domain/cards.py``.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, aliased

from modelyard.db.engine import Database
from modelyard.db.tables import CardRow, VersionEdgeRow, VersionRow
from modelyard.db.types import utcnow
from modelyard.domain.cards import MAX_CARD, CardFacts, render_card
from modelyard.domain.checks import CheckResult
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.references import parse_reference
from modelyard.services import audit, consumers, metrics, provenance, references
from modelyard.services.lookup import model_row, version_row, writable_model, writable_version
from modelyard.services.records import one_version


def check_card(markdown: str) -> str:
    if len(markdown) > MAX_CARD or "\x00" in markdown:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"a model card is text of at most {MAX_CARD} characters"
        )
    return markdown


def put(s: Session, version_id: uuid.UUID, markdown: str, actor: str, now: datetime) -> None:
    """Set the author's text of a version's card (in the caller's transaction)."""
    check_card(markdown)
    s.execute(delete(CardRow).where(CardRow.version_id == version_id))
    s.execute(
        insert(CardRow),
        {"version_id": version_id, "markdown": markdown, "updated_by": actor, "updated_at": now},
    )


def set_card(db: Database, actor: str, namespace: str, name: str, number: int, text: str) -> str:
    """Replace the author's text of a version's card (documentation, not an ingredient)."""
    check_card(text)
    with db.write() as s:
        version = writable_version(s, writable_model(s, namespace, name), number)
        audit.record(
            s,
            actor,
            "card.updated",
            f"{namespace}/{name}@{number}",
            namespace=namespace,
            before={"characters": len(_text(s, version.id))},
            after={"characters": len(text)},
        )
        put(s, version.id, text, actor, utcnow())
    return text


def card_present(db: Database, reference: str) -> CheckResult:
    """The policy's ``model_card_present`` check: the author wrote something."""
    with db.read() as s:
        v = references.resolve_row(s, parse_reference(reference))
        return card_check(s, v.id)


def card_check(s: Session, version_id: uuid.UUID) -> CheckResult:
    """``model_card_present`` in the caller's transaction."""
    text = _text(s, version_id)
    ok = bool(text.strip())
    message = "the author's model card is present" if ok else "no model card text"
    return CheckResult("model_card_present", ok, message, {"characters": len(text)})


def _text(s: Session, version_id: uuid.UUID) -> str:
    return s.scalar(select(CardRow.markdown).where(CardRow.version_id == version_id)) or ""


def card_markdown(db: Database, namespace: str, name: str, number: int) -> str:
    """The whole card: the author's markdown, then the generated facts."""
    with db.read() as s:
        row = version_row(s, model_row(s, namespace, name), number)
        version = one_version(s, row)
        facts = CardFacts(
            version=version,
            ingredients=provenance.recorded(s, row.id, version.reference),
            metrics=metrics.of_version(s, row.id),
            upstream=_upstream(s, row.id),
            consumers=[
                consumers.record(c, namespace, name)
                for c, target in consumers.current_targets(s, [row.model_id])
                if target == row.id
            ],
        )
        return render_card(_text(s, row.id), facts)


def _upstream(s: Session, version_id: uuid.UUID) -> list[tuple[str, str]]:
    up = aliased(VersionRow)
    stmt = (
        select(VersionEdgeRow.relation, up.namespace, up.model_name, up.number)
        .join(up, up.id == VersionEdgeRow.upstream_id)
        .where(VersionEdgeRow.version_id == version_id)
        .order_by(VersionEdgeRow.relation, up.namespace, up.model_name, up.number)
    )
    return [(rel, f"{ns}/{n}@{num}") for rel, ns, n, num in s.execute(stmt)]
