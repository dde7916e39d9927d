"""Prebuilt Core statements for the hot paths (version create, get, resolve).

Building a SQLAlchemy statement costs more CPU than running it on SQLite, so the statements the
registry runs on every request are built once here, with bind parameters, and reused. Values
come in as parameters; results are Core rows whose attribute names match the ORM classes, so
``services/records.py`` turns either into domain records.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update

from modelyard.db.tables import (
    AliasRow,
    CacheGenerationRow,
    ModelRow,
    ModelTagRow,
    NamespaceRow,
    SearchDocumentRow,
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
CG = cast(Table, CacheGenerationRow.__table__)

# What the access cache checks on every request (services/access_cache.py).
ACCESS_GENERATION = select(CG.c.generation).where(CG.c.name == "access")

# The next version number of a writable model, in the creating transaction (row-locked on
# PostgreSQL by the UPDATE itself). No row: the model is missing or archived.
NEXT_VERSION_NUMBER = (
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

INSERT_VERSION = insert(V)
INSERT_MODEL = insert(M)
INSERT_MODEL_TAGS = insert(MT)
NAMESPACE_BY_NAME = select(NS.c.id, NS.c.archived_at).where(NS.c.name == bindparam("name"))
INSERT_VERSION_TAGS = insert(T)
INSERT_SEARCH_DOCUMENT = insert(cast(Table, SearchDocumentRow.__table__))

MODEL_BY_NAME = select(M).where(
    M.c.namespace == bindparam("namespace"), M.c.name == bindparam("name")
)

VERSION_BY_NUMBER = (
    select(V, M.c.risk_level)
    .join(M, M.c.id == V.c.model_id)
    .where(
        V.c.namespace == bindparam("namespace"),
        V.c.model_name == bindparam("name"),
        V.c.number == bindparam("number"),
    )
)

VERSION_BY_ALIAS = (
    select(V, M.c.risk_level)
    .join(A, A.c.version_id == V.c.id)
    .join(M, M.c.id == V.c.model_id)
    .where(
        M.c.namespace == bindparam("namespace"),
        M.c.name == bindparam("name"),
        A.c.alias == bindparam("alias"),
    )
)

_NEWEST = (
    select(V, M.c.risk_level)
    .join(M, M.c.id == V.c.model_id)
    .where(V.c.namespace == bindparam("namespace"), V.c.model_name == bindparam("name"))
    .order_by(V.c.number.desc())
    .limit(1)
)
LATEST_VERSION = _NEWEST.where(V.c.archived_at.is_(None))
NEWEST_IN_STAGE = _NEWEST.where(V.c.archived_at.is_(None), V.c.stage == bindparam("stage"))
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
