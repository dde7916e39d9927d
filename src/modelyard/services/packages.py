"""Which versions run a package: the inventory's "which production models use a vulnerable
SciPy?". Installed packages are rows (name normalised as PEP 503 says, version as recorded).

A version range (PEP 440 specifier such as ``<1.11.1,>=1.9``) cannot be compared as text
("1.10" < "1.9"), so the distinct recorded versions of the package are read (a handful), matched
in Python with ``packaging``, and the matching ones looked up by equality.
"""

from __future__ import annotations

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from sqlalchemy import select

from modelyard.db.engine import Database
from modelyard.db.tables import PackageRow, VersionRow
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.ingredients import PackageUse, normalise_package


def _specifier(text: str | None) -> SpecifierSet | None:
    if text is None or not text.strip():
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"{text!r} is not a PEP 440 version specifier (e.g. <1.11.1)"
        ) from None


def _matches(spec: SpecifierSet, version: str) -> bool:
    try:
        return spec.contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False  # not PEP 440: no range can say anything about it


def users_of(
    db: Database,
    package: str,
    specifier: str | None = None,
    stage: str | None = None,
    include_archived: bool = False,
) -> list[PackageUse]:
    name, spec = normalise_package(package), _specifier(specifier)
    p, v = PackageRow, VersionRow
    with db.read() as s:
        stmt = select(v.namespace, v.model_name, v.number, v.stage, p.version).join(
            v, v.id == p.version_id
        )
        stmt = stmt.where(p.name == name)
        if spec is not None:
            held = s.scalars(select(p.version).where(p.name == name).distinct())
            stmt = stmt.where(p.version.in_([x for x in held if _matches(spec, x)]))
        if stage is not None:
            stmt = stmt.where(v.stage == stage)
        if not include_archived:
            stmt = stmt.where(v.archived_at.is_(None))
        rows = s.execute(stmt.order_by(v.namespace, v.model_name, v.number))
        return [PackageUse(f"{ns}/{m}@{n}", st, name, ver) for ns, m, n, st, ver in rows]
