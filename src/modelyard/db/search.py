"""Compile the domain filter AST (``domain/filters.py``) into SQL for models or versions.

Field meanings per target:

    field        versions target                    models target
    name         model name                         model name
    namespace    namespace                          namespace
    description  the version's description          the model's description
    tags.<key>   the version's tag                  the model's tag
    stage        the version's stage                has a version whose stage matches
    alias        has an alias that matches          has an alias that matches
    version      version number                     has a version whose number matches
    risk         the model's risk level             the model's risk level
    created_at / updated_at   the version's         the model's

Provenance fields (classification, dataset, package, packages.<name>, complete, missing,
data_revoked) are compiled by ``db/provenance_filters.py``.

``risk`` compares by rank (unassessed < low < medium < high) with < <= > >=, so
``risk >= 'medium'`` means medium or high. Tag comparisons need the tag to be present.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Text, and_, case, exists, false, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from modelyard.db.provenance_filters import compile_provenance
from modelyard.db.tables import AliasRow, ModelRow, ModelTagRow, VersionRow, VersionTagRow
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.filters import PROVENANCE_FIELDS, BoolOp, Comparison, Filter
from modelyard.domain.lifecycle import RISK_LEVELS
from modelyard.domain.pagination import OrderItem

RISK_RANK = {level: rank for rank, level in enumerate(RISK_LEVELS)}
LIKE_ESCAPE = "\\"


def risk_rank(column: Any) -> ColumnElement[int]:
    return case(RISK_RANK, value=column, else_=-1)


class Bytewise(FunctionElement[str]):
    """``text COLLATE "C"`` on PostgreSQL, plain ``text`` on SQLite (already bytewise).

    Descriptions and tag values use the database's default collation on PostgreSQL, which in
    most locales ignores case and punctuation when ordering ('Payments' > 'h' in en_US), so
    ``tags.team < 'h'`` would differ from SQLite. Ordering comparisons go through this."""

    type = Text()
    inherit_cache = True


@compiles(Bytewise)
def _bytewise_plain(element: Bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(Bytewise, "postgresql")
def _bytewise_postgresql(element: Bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return f'{compiler.process(element.clauses, **kw)} COLLATE "C"'


@dataclass(frozen=True)
class Target:
    """What a filter runs over: the entity table and how each field maps onto it."""

    kind: str  # "models" | "versions"

    @property
    def id_column(self) -> InstrumentedAttribute[Any]:
        return ModelRow.id if self.kind == "models" else VersionRow.id

    def column(self, field: str) -> Any:
        m, v = ModelRow, VersionRow
        plain: dict[str, Any] = {
            "name": m.name if self.kind == "models" else v.model_name,
            "namespace": m.namespace if self.kind == "models" else v.namespace,
            "description": m.description if self.kind == "models" else v.description,
            "created_at": m.created_at if self.kind == "models" else v.created_at,
            "updated_at": m.updated_at if self.kind == "models" else v.updated_at,
            "risk": m.risk_level,
        }
        if self.kind == "versions":
            plain.update(stage=v.stage, version=v.number)
        return plain.get(field)

    def sort_value(self, row: Any, field: str) -> Any:
        """The value ``order_column(field)`` has for a result row, read from the row's own
        columns (a page token holds the last row's; no extra columns are selected for it)."""
        if field == "risk":
            return RISK_RANK.get(row.risk_level, -1)
        if field == "version":
            return row.number if self.kind == "versions" else row.version_counter
        if field == "name" and self.kind == "versions":
            return row.model_name
        return getattr(row, field)

    def order_column(self, field: str) -> Any:
        if field == "risk":
            return risk_rank(ModelRow.risk_level)
        if field == "version":
            return VersionRow.number if self.kind == "versions" else ModelRow.version_counter
        return self.column(field)


MODELS = Target("models")
VERSIONS = Target("versions")


def compile_filter(node: Filter | None, target: Target) -> ColumnElement[bool]:
    if node is None:
        return true()
    if isinstance(node, BoolOp):
        parts = [compile_filter(item, target) for item in node.items]
        return and_(*parts) if node.op == "AND" else or_(*parts)
    return _comparison(node, target)


def _comparison(c: Comparison, target: Target) -> ColumnElement[bool]:
    if c.field in PROVENANCE_FIELDS or c.field == "packages":
        return compile_provenance(c, target.kind)
    if c.field == "tags":
        return _tag_exists(c, target)
    if c.field == "alias":
        owner = (
            AliasRow.model_id == ModelRow.id
            if target.kind == "models"
            else (AliasRow.version_id == VersionRow.id)
        )
        return exists().where(owner, _apply(AliasRow.alias, c))
    if c.field == "risk" and c.op in ("<", "<=", ">", ">="):
        return _apply(risk_rank(ModelRow.risk_level), c, _rank_of(c))
    column = target.column(c.field)
    if column is None:  # stage / version over models: "has a version whose … matches"
        vcol = VersionRow.stage if c.field == "stage" else VersionRow.number
        return exists().where(VersionRow.model_id == ModelRow.id, _apply(vcol, c))
    return _apply(column, c)


def _tag_exists(c: Comparison, target: Target) -> ColumnElement[bool]:
    if target.kind == "models":
        tag: Any = ModelTagRow
        owner = ModelTagRow.model_id == ModelRow.id
    else:
        tag = VersionTagRow
        owner = VersionTagRow.version_id == VersionRow.id
    return exists().where(owner, tag.key == c.tag_key, _apply(tag.value, c))


def _rank_of(c: Comparison) -> int:
    if c.value not in RISK_RANK:
        raise InvalidInputError(
            "FILTER_INVALID",
            f"invalid filter at position {c.position}: risk is one of {', '.join(RISK_LEVELS)}",
            position=c.position,
        )
    return RISK_RANK[str(c.value)]


def _apply(column: Any, c: Comparison, value: Any = None) -> ColumnElement[bool]:
    v = c.value if value is None else value
    if c.op in ("<", "<=", ">", ">=") and isinstance(v, str):
        column = Bytewise(column)
    match c.op:
        case "=":
            return column == v  # type: ignore[no-any-return]
        case "!=":
            return column != v  # type: ignore[no-any-return]
        case "<":
            return column < v  # type: ignore[no-any-return]
        case "<=":
            return column <= v  # type: ignore[no-any-return]
        case ">":
            return column > v  # type: ignore[no-any-return]
        case ">=":
            return column >= v  # type: ignore[no-any-return]
        case "LIKE":
            return column.like(v, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
        case "ILIKE":
            return column.ilike(v, escape=LIKE_ESCAPE)  # type: ignore[no-any-return]
        case "IN":
            return column.in_(list(cast(tuple[Any, ...], v))) if v else false()
        case "NOT IN":
            return column.not_in(list(cast(tuple[Any, ...], v))) if v else true()
    raise AssertionError(f"unknown operator {c.op}")


def order_clauses(order: tuple[OrderItem, ...], target: Target) -> list[Any]:
    cols = [target.order_column(item.field) for item in order]
    clauses = [
        col.desc() if item.descending else col.asc() for col, item in zip(cols, order, strict=True)
    ]
    last_desc = order[-1].descending if order else False
    clauses.append(target.id_column.desc() if last_desc else target.id_column.asc())
    return clauses


def sort_key_columns(order: tuple[OrderItem, ...], target: Target) -> list[Any]:
    return [target.order_column(item.field) for item in order] + [target.id_column]


def sort_key(row: Any, order: tuple[OrderItem, ...], target: Target) -> tuple[Any, ...]:
    """The values of ``sort_key_columns`` for ``row``."""
    return (*(target.sort_value(row, item.field) for item in order), row.id)


def after_key(
    order: tuple[OrderItem, ...], target: Target, key: tuple[Any, ...]
) -> ColumnElement[bool]:
    """Rows strictly after ``key`` in ``order`` (the keyset condition for the next page)."""
    cols = sort_key_columns(order, target)
    directions = [item.descending for item in order] + [order[-1].descending if order else False]
    values = [*key[:-1], uuid.UUID(str(key[-1]))]
    alternatives = []
    for i, (col, desc) in enumerate(zip(cols, directions, strict=True)):
        equal_prefix = [cols[j] == values[j] for j in range(i)]
        beyond = col < values[i] if desc else col > values[i]
        alternatives.append(and_(*equal_prefix, beyond))
    return or_(*alternatives)
