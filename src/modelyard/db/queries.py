"""Prebuilt Core statements for the hot paths (version create, get, resolve).

Building a SQLAlchemy statement costs more CPU than running it on SQLite, so the statements the
registry runs on every request are built once here, with bind parameters, and reused; the
writes of model and version creation are ``Prepared`` (``db/prepared.py``): run beneath
SQLAlchemy's per-call machinery. Values
come in as parameters; results are Core rows whose attribute names match the ORM classes, so
``services/records.py`` turns either into domain records.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import JSON, Label, Table, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from modelyard.db.prepared import Prepared
from modelyard.db.tables import (
    AliasRow,
    CacheGenerationRow,
    DataEdgeRow,
    ModelRow,
    ModelTagRow,
    NamespaceRow,
    SearchDocumentRow,
    VersionEdgeRow,
    VersionRow,
    VersionTagRow,
)
from modelyard.db.types import UTCDateTime

M = cast(Table, ModelRow.__table__)
V = cast(Table, VersionRow.__table__)
A = cast(Table, AliasRow.__table__)
T = cast(Table, VersionTagRow.__table__)
MT = cast(Table, ModelTagRow.__table__)
NS = cast(Table, NamespaceRow.__table__)
LD = cast(Table, DataEdgeRow.__table__)
LV = cast(Table, VersionEdgeRow.__table__)
CG = cast(Table, CacheGenerationRow.__table__)

# What the access cache checks on every request (services/access_cache.py).
ACCESS_GENERATION = select(CG.c.generation).where(CG.c.name == "access")
ACCESS_GENERATION_NOW = Prepared(ACCESS_GENERATION)  # in a write's own transaction

# The next version number of a writable model, in the creating transaction (row-locked on
# PostgreSQL by the UPDATE itself). No row: the model is missing or archived.
NEXT_VERSION_NUMBER = Prepared(
    update(M)
    .where(
        M.c.namespace == bindparam("model_namespace"),
        M.c.name == bindparam("model_name"),
        M.c.archived_at.is_(None),
    )
    .values(
        version_counter=M.c.version_counter + 1, updated_at=bindparam("now", type_=UTCDateTime())
    )
    .returning(M.c.id, M.c.version_counter, M.c.risk_level)
)

INSERT_VERSION = Prepared(insert(V))
INSERT_MODEL = Prepared(insert(M))
INSERT_MODEL_TAGS = Prepared(insert(MT))
NAMESPACE_BY_NAME = select(NS.c.id, NS.c.archived_at).where(NS.c.name == bindparam("name"))
INSERT_VERSION_TAGS = Prepared(insert(T))
INSERT_SEARCH_DOCUMENT = Prepared(insert(cast(Table, SearchDocumentRow.__table__)))

MODEL_BY_NAME = select(M).where(
    M.c.namespace == bindparam("namespace"), M.c.name == bindparam("name")
)


class JsonObjectAgg(FunctionElement[Any]):
    """The JSON object of (key, value) pairs over a group: ``json_group_object`` on SQLite,
    ``json_object_agg`` on PostgreSQL (NULL there for no rows)."""

    type = JSON()
    inherit_cache = True


class JsonArrayAgg(FunctionElement[Any]):
    """The JSON array of a column over a group (``json_group_array`` / ``json_agg``)."""

    type = JSON()
    inherit_cache = True


@compiles(JsonObjectAgg)
def _object_agg(element: JsonObjectAgg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


@compiles(JsonObjectAgg, "postgresql")
def _object_agg_pg(element: JsonObjectAgg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


@compiles(JsonArrayAgg)
def _array_agg(element: JsonArrayAgg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


@compiles(JsonArrayAgg, "postgresql")
def _array_agg_pg(element: JsonArrayAgg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg({compiler.process(element.clauses, **kw)})"


# What a version record needs besides the version's own columns, as columns of the same row
# (correlated to ``versions``; index look-ups): its tags, its aliases, and whether it has
# upstream links at all (only then can it inherit from data: services/inheritance.py). One
# query per page of versions instead of one each for tags, aliases and inheritance.
VERSION_EXTRAS: tuple[Label[Any], ...] = (
    select(JsonObjectAgg(T.c.key, T.c.value))
    .where(T.c.version_id == V.c.id)
    .correlate(V)
    .scalar_subquery()
    .label("tags_json"),
    select(JsonArrayAgg(A.c.alias))
    .where(A.c.version_id == V.c.id)
    .correlate(V)  # not the aliases of an outer query that looks a version up by alias
    .scalar_subquery()
    .label("aliases_json"),
    or_(
        exists().where(LD.c.version_id == V.c.id, LD.c.relation == "trained_on").correlate(V),
        exists().where(LV.c.version_id == V.c.id, LV.c.relation == "derived_from").correlate(V),
    ).label("has_upstream"),
)

# The versions columns a version record is made of (services/records.py ``_version``), for pages
# of many versions where every column read costs its type processing (a UUID, a datetime).
VERSION_RECORD_COLUMNS = (
    V.c.id,
    V.c.namespace,
    V.c.model_name,
    V.c.number,
    V.c.description,
    V.c.metrics,
    V.c.stage,
    V.c.status,
    V.c.manifest_digest,
    V.c.created_by,
    V.c.created_at,
    V.c.updated_at,
)

# SQLite keeps no statistics, so these look-ups name the model by its own row and the version
# by its key in the model (model_id, number): by the versions' own copies of the names it
# read every version of every model of that name (0.37 ms at 2,000 versions; 11 µs now).
VERSION_BY_NUMBER = (
    select(V, M.c.risk_level, *VERSION_EXTRAS)
    .join(M, M.c.id == V.c.model_id)
    .where(
        M.c.namespace == bindparam("namespace"),
        M.c.name == bindparam("name"),
        V.c.number == bindparam("number"),
    )
)

# Joined on the alias's primary key (model_id, alias): by ``version_id`` alone SQLite, which
# keeps no statistics, walked every version of the model (0.28 ms at 2,000 versions).
VERSION_BY_ALIAS = (
    select(V, M.c.risk_level, *VERSION_EXTRAS)
    .join(M, M.c.id == V.c.model_id)
    .join(A, (A.c.model_id == M.c.id) & (A.c.version_id == V.c.id))
    .where(
        M.c.namespace == bindparam("namespace"),
        M.c.name == bindparam("name"),
        A.c.alias == bindparam("alias"),
    )
)

_NEWEST = (
    select(V, M.c.risk_level, *VERSION_EXTRAS)
    .join(M, M.c.id == V.c.model_id)
    .where(V.c.namespace == bindparam("namespace"), V.c.model_name == bindparam("name"))
    .order_by(V.c.number.desc())
    .limit(1)
)

# The model's id, named by its own row: the newest version of a model (in a stage) is then the
# first entry of a versions index walked from the end, (model_id, number) or (model_id, stage,
# number), with nothing sorted. SQLite keeps no statistics: joined to the model instead, it read
# every version of the model and sorted them (``latest``), or every version of every model in
# that stage (``@development``: 10,000 rows in a store of 10,000 versions), each with its tags
# and aliases read first (tests/services/test_references.py reads the plans).
_MODEL_ID = (
    select(M.c.id)
    .where(M.c.namespace == bindparam("namespace"), M.c.name == bindparam("name"))
    .scalar_subquery()
)
_NEWEST_OF_MODEL = (
    select(V, M.c.risk_level, *VERSION_EXTRAS)
    .join(M, M.c.id == V.c.model_id)
    .where(V.c.model_id == _MODEL_ID, V.c.archived_at.is_(None))
    .order_by(V.c.number.desc())
    .limit(1)
)
LATEST_VERSION = _NEWEST_OF_MODEL
NEWEST_IN_STAGE = _NEWEST_OF_MODEL.where(V.c.stage == bindparam("stage"))
NEWEST_WITH_DIGEST = _NEWEST.where(V.c.manifest_digest == bindparam("digest"))

VERSION_TAGS = select(T).where(T.c.version_id.in_(bindparam("ids", expanding=True)))
VERSION_ALIASES = (
    select(A.c.version_id, A.c.alias)
    .where(A.c.version_id.in_(bindparam("ids", expanding=True)))
    .order_by(A.c.alias)
)

MODEL_TAGS = select(MT).where(MT.c.model_id.in_(bindparam("ids", expanding=True)))
MODEL_ALIASES = select(A.c.model_id, A.c.alias, A.c.version_number).where(
    A.c.model_id.in_(bindparam("ids", expanding=True))
)
LATEST_NUMBERS = (
    select(V.c.model_id, func.max(V.c.number).label("latest"))
    .where(V.c.model_id.in_(bindparam("ids", expanding=True)), V.c.archived_at.is_(None))
    .group_by(V.c.model_id)
)
