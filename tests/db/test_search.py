from __future__ import annotations

import pytest
from sqlalchemy import case, literal, select, text

from modelyard.db.engine import Database
from modelyard.db.search import Bytewise

ICU_EN = "en-US-x-icu"


def _less(db: Database, left: object, right: str) -> bool:
    with db.read() as s:
        return bool(s.scalar(select(case((Bytewise(left) < right, 1), else_=0))))


@pytest.mark.parametrize(
    ("left", "right"), [("Payments", "h"), ("Zebra", "apple"), ("a-b", "a.b"), ("a.b", "a_b")]
)
def test_bytewise_orders_text_by_bytes(db: Database, left: str, right: str) -> None:
    assert _less(db, literal(left), right)
    assert not _less(db, literal(right), left)


def test_bytewise_overrides_a_locale_collation_on_postgresql(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("collations are PostgreSQL's")
    with db.read() as s:
        icu = text("SELECT count(*) FROM pg_collation WHERE collname = :c")
        if not s.scalar(icu, {"c": ICU_EN}):
            pytest.skip("PostgreSQL built without ICU")
        in_locale = s.scalar(select(literal("Payments").collate(ICU_EN) < "h"))
    assert in_locale is False  # what a description or tag value compares like without Bytewise
    assert _less(db, literal("Payments").collate(ICU_EN), "h")
