"""The four ingredients of a version, and the completeness report (pure: no I/O).

    ingredients ── code          git commit, branch, remote (no credentials), dirty, diff digest
                ├─ environment   python, implementation, os, arch, packages, accelerator, image
                ├─ config        hyperparameters (any JSON object)
                └─ data          dataset references or ad-hoc uri + digest, each with a role

A part is *present* when it says enough to rebuild the version:

    code         a commit; and when the tree was dirty, the digest of the recorded diff
    environment  a Python version and at least one installed package
    config       given at all (an empty object states "no hyperparameters")
    data         at least one ``trained_on`` reference

``completeness`` reports which parts are present and, for each missing one, why. The report is
computed once, when the version is created (ingredients never change), stored with it, searched
(``complete``, ``missing``) and read by the policy's ``ingredients_complete`` check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from modelyard.domain.digests import check_digest
from modelyard.domain.errors import InvalidInputError

PARTS: tuple[str, ...] = ("code", "environment", "config", "data")
DATA_ROLES: tuple[str, ...] = ("trained_on", "evaluated_on")
COMMIT_RE = re.compile(r"^[0-9a-f]{7,64}\Z")
# PEP 508 distribution names; stored normalised (PEP 503) so "Scikit_Learn" finds "scikit-learn".
PACKAGE_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")
MAX_PACKAGES = 20000
MAX_DATA = 1000
DIFF_ARTIFACT = ".modelyard/code.diff"  # where push stores the uncommitted diff


def _invalid(message: str, **details: Any) -> InvalidInputError:
    return InvalidInputError("INGREDIENTS_INVALID", message, **details)


def _text(value: Any, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise _invalid(f"{what} must be text of at most {limit} characters", field=what)
    _storable(value, what)
    return value


MAX_JSON_DEPTH = 32
MAX_JSON_ITEMS = 10000


def check_json(value: Any, what: str) -> Any:
    """A free-form JSON value (config, accelerator): bounded nesting and size, and text that
    both databases store (no NUL, no lone surrogates)."""
    budget = [MAX_JSON_ITEMS]
    _walk(value, what, 0, budget)
    return value


def _walk(value: Any, what: str, depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if depth > MAX_JSON_DEPTH or budget[0] < 0:
        raise _invalid(
            f"{what} is nested deeper than {MAX_JSON_DEPTH} or holds over {MAX_JSON_ITEMS} values"
        )
    if isinstance(value, str):
        _storable(value, what)
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(str(key), what)
            _walk(item, what, depth + 1, budget)
    elif isinstance(value, list):
        for item in value:
            _walk(item, what, depth + 1, budget)


def _storable(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid(f"{what} holds text that is not valid Unicode", field=what) from None
    if "\x00" in text:
        raise _invalid(f"{what} holds a NUL character", field=what)


def strip_credentials(url: str) -> str:
    """The URL without user, password, query or fragment: ``https://u:p@host/x?t=1`` becomes
    ``https://host/x``. scp-style remotes (``git@host:org/repo``) carry no secret and are
    kept as they are."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        raise _invalid("code.remote_url is not a URL", field="code.remote_url") from None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def normalise_package(name: str) -> str:
    """PEP 503: lower case, runs of ``-_.`` become one ``-``."""
    if not isinstance(name, str) or len(name) > 200 or not PACKAGE_RE.match(name):
        raise _invalid(f"invalid package name {str(name)[:200]!r}", field="environment.packages")
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Code:
    commit: str = ""
    branch: str = ""
    remote_url: str = ""
    dirty: bool = False
    diff_digest: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Code:
        commit = _text(data.get("commit"), "code.commit", 64).lower()
        if commit and not COMMIT_RE.match(commit):
            raise _invalid("code.commit must be 7-64 hex digits", field="code.commit")
        diff = data.get("diff_digest")
        return cls(
            commit=commit,
            branch=_text(data.get("branch"), "code.branch", 255),
            remote_url=strip_credentials(_text(data.get("remote_url"), "code.remote_url", 2048)),
            dirty=bool(data.get("dirty", False)),
            diff_digest=None if diff is None else check_digest(diff, "code.diff_digest"),
        )


@dataclass(frozen=True)
class Package:
    name: str
    version: str


@dataclass(frozen=True)
class Environment:
    python_version: str = ""
    implementation: str = ""
    os: str = ""
    arch: str = ""
    packages: tuple[Package, ...] = ()
    accelerator: dict[str, Any] = field(default_factory=dict)
    container_image: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Environment:
        accelerator = data.get("accelerator") or {}
        if not isinstance(accelerator, dict):
            raise _invalid("environment.accelerator must be an object", field="accelerator")
        return cls(
            python_version=_text(data.get("python_version"), "environment.python_version", 64),
            implementation=_text(data.get("implementation"), "environment.implementation", 64),
            os=_text(data.get("os"), "environment.os", 255),
            arch=_text(data.get("arch"), "environment.arch", 64),
            packages=_packages(data.get("packages") or []),
            accelerator=check_json(accelerator, "environment.accelerator"),
            container_image=_text(data.get("container_image"), "environment.container_image", 512),
        )

    def without_packages(self) -> dict[str, Any]:
        """What is stored as JSON; packages are rows of their own, so they can be queried."""
        return {
            "python_version": self.python_version,
            "implementation": self.implementation,
            "os": self.os,
            "arch": self.arch,
            "accelerator": self.accelerator,
            "container_image": self.container_image,
        }


def _packages(items: Sequence[Any]) -> tuple[Package, ...]:
    if not isinstance(items, list | tuple) or len(items) > MAX_PACKAGES:
        raise _invalid(f"environment.packages: a list of at most {MAX_PACKAGES}", field="packages")
    found: dict[str, Package] = {}
    for item in items:
        if not isinstance(item, Mapping):
            raise _invalid("each package is {name, version}", field="environment.packages")
        name = normalise_package(item.get("name"))  # type: ignore[arg-type]
        version = _text(item.get("version"), "package version", 128)
        found[name] = Package(name, version)  # one version per name: the last one wins
    return tuple(sorted(found.values(), key=lambda p: p.name))


@dataclass(frozen=True)
class DataRef:
    """``dataset`` names a registered dataset (``ns/name@version``); otherwise ``uri`` and
    ``digest`` describe ad-hoc data."""

    role: str
    dataset: str | None = None
    uri: str = ""
    digest: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DataRef:
        role = data.get("role") or "trained_on"
        if role not in DATA_ROLES:
            raise _invalid(f"data role must be one of {', '.join(DATA_ROLES)}", field="role")
        dataset = data.get("dataset")
        uri = _text(data.get("uri"), "data.uri", 2048)
        if dataset is None and not uri:
            raise _invalid("each data entry names a dataset, or a uri (with a digest)")
        if dataset is not None and (uri or data.get("digest")):
            raise _invalid("a data entry names a dataset or a uri, not both")
        digest = data.get("digest")
        return cls(
            role=role,
            dataset=None if dataset is None else _text(dataset, "data.dataset", 300),
            uri=strip_credentials(uri) if uri else "",
            digest=None if digest is None else check_digest(digest, "data.digest"),
        )


@dataclass(frozen=True)
class Ingredients:
    code: Code | None = None
    environment: Environment | None = None
    config: dict[str, Any] | None = None
    data: tuple[DataRef, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any] | None) -> Ingredients:
        """From the wire shape; ``None`` or a missing part means "not recorded"."""
        raw = raw or {}
        data = raw.get("data")
        if data is not None and (not isinstance(data, list) or len(data) > MAX_DATA):
            raise _invalid(f"data: a list of at most {MAX_DATA} entries", field="data")
        config = raw.get("config")
        if config is not None and not isinstance(config, dict):
            raise _invalid("config must be a JSON object", field="config")
        return cls(
            code=None if raw.get("code") is None else Code.parse(raw["code"]),
            environment=(
                None if raw.get("environment") is None else Environment.parse(raw["environment"])
            ),
            config=None if config is None else check_json(config, "config"),
            data=tuple(DataRef.parse(d) for d in data or []),
        )

    @property
    def data_given(self) -> bool:
        return bool(self.data)


@dataclass(frozen=True)
class Completeness:
    """Which of the four parts are present; for each missing one, why."""

    present: tuple[str, ...]
    missing: dict[str, str]

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {"complete": self.complete, "present": list(self.present), "missing": self.missing}


NOTHING_RECORDED = "not recorded"


def completeness(ing: Ingredients) -> Completeness:
    reasons = {
        "code": _code_gap(ing.code),
        "environment": _environment_gap(ing.environment),
        "config": NOTHING_RECORDED if ing.config is None else None,
        "data": _data_gap(ing.data),
    }
    missing = {part: why for part, why in reasons.items() if why is not None}
    return Completeness(tuple(p for p in PARTS if p not in missing), missing)


def _code_gap(code: Code | None) -> str | None:
    if code is None:
        return NOTHING_RECORDED
    if not code.commit:
        return "no git commit"
    if code.dirty and code.diff_digest is None:
        return "uncommitted changes were not recorded (no diff)"
    return None


def _environment_gap(env: Environment | None) -> str | None:
    if env is None:
        return NOTHING_RECORDED
    if not env.python_version:
        return "no Python version"
    if not env.packages:
        return "no installed packages listed"
    return None


def _data_gap(data: tuple[DataRef, ...]) -> str | None:
    if not data:
        return NOTHING_RECORDED
    if not any(d.role == "trained_on" for d in data):
        return "no trained_on data (only evaluation data)"
    return None


def report_of(present: Sequence[str], missing: Mapping[str, str]) -> Completeness:
    """A stored report back into its record (a version created without ingredients has
    nothing recorded)."""
    return Completeness(tuple(p for p in PARTS if p in present), dict(missing))


NONE_RECORDED = Completeness((), dict.fromkeys(PARTS, NOTHING_RECORDED))


@dataclass(frozen=True)
class DataUse:
    """A data reference as recorded: a registered dataset (with its current status and
    classifications) or ad-hoc data."""

    role: str
    dataset: str | None  # namespace/name@version
    uri: str
    digest: str | None
    status: str | None = None
    classifications: tuple[str, ...] = ()


@dataclass(frozen=True)
class Recorded:
    """A version's ingredients as stored, with its completeness report."""

    reference: str
    code: dict[str, Any] | None
    environment: dict[str, Any] | None  # packages included, as [{name, version}]
    config: dict[str, Any] | None
    data: list[DataUse]
    completeness: Completeness


@dataclass(frozen=True)
class PackageUse:
    """A version whose environment lists a package."""

    reference: str
    stage: str
    package: str
    version: str
