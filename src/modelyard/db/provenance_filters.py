"""Compile the provenance fields of the filter language (``domain/filters.py``) into SQL.

    field              a version matches when …
    classification     it inherits a dataset classification that matches (db/lineage.py)
    data_revoked       'true': it inherits a revoked dataset
    dataset            it was trained or evaluated on a registered dataset whose
                       ``ns/name@version`` (or ``ns/name``, for a value without '@') matches
    package            its environment lists a package whose (normalised) name matches
    packages.<name>    its environment lists <name> with a version that matches
    complete           'true': all four ingredients are recorded
    missing            that part of the ingredients is not recorded (versions created without
                       ingredients miss all four)

``!=`` and ``NOT IN`` on the set-valued fields mean "none matches" (a version trained on no
dataset is ``dataset != 'x'``); on ``packages.<name>`` they need the package present, as a tag
comparison needs the tag. Over models, each field means "has a version that matches".
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true

from modelyard.db.lineage import REVOKED, classified, inheriting
from modelyard.db.tables import (
    DataEdgeRow,
    DatasetRow,
    IngredientsRow,
    ModelRow,
    PackageRow,
    VersionRow,
)
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.filters import Comparison
from modelyard.domain.ingredients import normalise_package

LIKE_ESCAPE = "\\"
_NEGATIVE = {"!=": "=", "NOT IN": "IN"}


def compile_provenance(c: Comparison, kind: str) -> ColumnElement[bool]:
    """``kind``: "versions" or "models" (then: has a version that matches)."""
    on_version = _version_predicate(c)
    if kind == "versions":
        return on_version
    return exists().where(VersionRow.model_id == ModelRow.id, on_version)


def _values(c: Comparison) -> list[Any]:
    return list(cast(tuple[Any, ...], c.value)) if c.op in ("IN", "NOT IN") else [c.value]


def _match(column: Any, c: Comparison) -> ColumnElement[bool]:
    """The positive form of ``c`` (= / IN / LIKE / ILIKE) on ``column``."""
    if c.op == "LIKE":
        return cast(ColumnElement[bool], column.like(c.value, escape=LIKE_ESCAPE))
    if c.op == "ILIKE":
        return cast(ColumnElement[bool], column.ilike(c.value, escape=LIKE_ESCAPE))
    values = _values(c)
    return column.in_(values) if values else false()


def _positive(c: Comparison) -> tuple[Comparison, bool]:
    """(the comparison with != / NOT IN turned positive, whether it was negated)."""
    if c.op in _NEGATIVE:
        return Comparison(c.field, _NEGATIVE[c.op], c.value, c.tag_key, c.position), True
    return c, False


def _version_predicate(c: Comparison) -> ColumnElement[bool]:
    if c.field == "packages":
        return _package_version(c)
    if c.field in ("complete", "data_revoked"):
        wanted = (c.value == "true") != (c.op == "!=")
        found = _complete() if c.field == "complete" else _revoked()
        return found if wanted else not_(found)
    if c.field == "missing":
        return _missing(c)
    positive, negated = _positive(c)
    found = {"classification": _classified, "dataset": _dataset, "package": _package}[c.field](
        positive
    )
    return not_(found) if negated else found


def _classified(c: Comparison) -> ColumnElement[bool]:
    heirs = inheriting(classified(lambda column: _match(column, c)))
    return VersionRow.id.in_(select(heirs.c.vid))


def _revoked() -> ColumnElement[bool]:
    heirs = inheriting(REVOKED)
    return VersionRow.id.in_(select(heirs.c.vid))


def _complete() -> ColumnElement[bool]:
    return exists().where(
        IngredientsRow.version_id == VersionRow.id, IngredientsRow.complete.is_(True)
    )


def _missing(c: Comparison) -> ColumnElement[bool]:
    """``missing = 'data'``: no ingredients row that has data. IN: any of them missing."""
    parts = [_has(str(part)) for part in _values(c)]
    if c.op in ("=", "IN"):
        return or_(*(not_(p) for p in parts)) if parts else false()
    return and_(*parts) if parts else true()


def _has(part: str) -> ColumnElement[bool]:
    flag = getattr(IngredientsRow, f"has_{part}")
    return exists().where(IngredientsRow.version_id == VersionRow.id, flag.is_(True))


def _dataset(c: Comparison) -> ColumnElement[bool]:
    d = DatasetRow
    base = d.namespace + "/" + d.name
    full = base + "@" + d.version
    if c.op in ("LIKE", "ILIKE"):
        matched = _match(full, c)
    else:
        values = [str(v) for v in _values(c)]
        matched = or_(*((full if "@" in v else base) == v for v in values), false())
    return exists().where(
        DataEdgeRow.version_id == VersionRow.id, DataEdgeRow.dataset_id == d.id, matched
    )


def _package(c: Comparison) -> ColumnElement[bool]:
    names = c if c.op in ("LIKE", "ILIKE") else _normalised(c)
    return exists().where(PackageRow.version_id == VersionRow.id, _match(PackageRow.name, names))


def _normalised(c: Comparison) -> Comparison:
    values = tuple(_normal(str(v)) for v in _values(c))
    return Comparison(c.field, "IN", values, c.tag_key, c.position)


def _normal(value: str) -> str:
    try:
        return normalise_package(value)
    except InvalidInputError:
        return value  # not a package name: it matches nothing, as itself


def _package_version(c: Comparison) -> ColumnElement[bool]:
    """``packages.scipy = '1.11.4'``: the package present with a matching version."""
    positive, negated = _positive(c)
    version = _match(PackageRow.version, positive)
    return exists().where(
        PackageRow.version_id == VersionRow.id,
        PackageRow.name == c.tag_key,
        not_(version) if negated else version,
    )
