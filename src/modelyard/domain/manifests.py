"""Manifests: the canonical list of a version's artifacts, and the rules for artifact paths.

A manifest is the JSON document

    {"artifacts": [{"digest": "sha256:…", "media_type": "…", "path": "…", "size": 123}, …],
     "schema_version": 1}

rendered canonically: artifacts sorted by path (Unicode code points, after NFC), keys sorted,
no whitespace (``separators=(",", ":")``), UTF-8 without ``\\u`` escapes. The manifest digest is
the SHA-256 of those bytes; it identifies the version's content (``ns/name@sha256:…``), so any
client can recompute it from the files alone.

Artifact paths are relative POSIX paths that every operating system can create: NFC-normalised,
``/``-separated, no empty, ``.`` or ``..`` component, not absolute (no leading ``/``, no drive
letter), no backslash, no NUL or other control character, and unique. A path may not also be a
directory of another path (``a`` and ``a/b``), since no file system can hold both.
"""

from __future__ import annotations

import itertools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelyard.domain.digests import check_digest, digest_of
from modelyard.domain.errors import InvalidInputError

SCHEMA_VERSION = 1
DEFAULT_MEDIA_TYPE = "application/octet-stream"
MAX_ARTIFACTS = 100_000
MAX_PATH_BYTES = 1024
MAX_COMPONENT_BYTES = 255
MAX_SIZE = 2**63 - 1

_MEDIA_TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc, exactly

# Fixed on purpose: mimetypes.guess_type reads the host's tables, and two machines pushing the
# same files must compute the same manifest digest.
_MEDIA_TYPES = {
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".onnx": "application/onnx",
    ".safetensors": "application/safetensors",
    ".pkl": "application/python-pickle",
    ".pickle": "application/python-pickle",
    ".joblib": "application/python-pickle",
    ".pt": "application/pytorch",
    ".pth": "application/pytorch",
    ".gguf": "application/gguf",
}


@dataclass(frozen=True)
class Artifact:
    path: str
    size: int
    digest: str
    media_type: str = DEFAULT_MEDIA_TYPE

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "media_type": self.media_type,
            "path": self.path,
            "size": self.size,
        }


@dataclass(frozen=True)
class Manifest:
    """A validated manifest: artifacts sorted by path. Build one with ``build_manifest``."""

    artifacts: tuple[Artifact, ...]

    def canonical_bytes(self) -> bytes:
        doc = {
            "artifacts": [a.to_dict() for a in self.artifacts],
            "schema_version": SCHEMA_VERSION,
        }
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")

    @property
    def digest(self) -> str:
        return digest_of(self.canonical_bytes())

    @property
    def total_size(self) -> int:
        return sum(a.size for a in self.artifacts)

    @property
    def blob_digests(self) -> set[str]:
        return {a.digest for a in self.artifacts}


def _invalid_path(path: object, reason: str) -> InvalidInputError:
    return InvalidInputError(
        "ARTIFACT_PATH_INVALID",
        f"artifact path {path!r} is invalid: {reason}",
        path=str(path)[:MAX_PATH_BYTES],
        reason=reason,
    )


def check_artifact_path(path: object) -> str:
    """The NFC form of ``path`` if it is a valid artifact path, else ARTIFACT_PATH_INVALID."""
    if not isinstance(path, str) or not path:
        raise _invalid_path(path, "a path is a non-empty string")
    if _CONTROL_RE.search(path):
        raise _invalid_path(path, "NUL and other control characters are not allowed")
    if "\\" in path:
        raise _invalid_path(path, "backslashes are not allowed; separate directories with /")
    try:
        path = unicodedata.normalize("NFC", path)
        encoded = path.encode("utf-8")
    except UnicodeError:
        raise _invalid_path(path, "the path is not valid Unicode") from None
    if path.startswith("/") or _DRIVE_RE.match(path):
        raise _invalid_path(path, "absolute paths are not allowed")
    if len(encoded) > MAX_PATH_BYTES:
        raise _invalid_path(path, f"longer than {MAX_PATH_BYTES} bytes")
    for part in path.split("/"):
        _check_component(path, part)
    return path


def _check_component(path: str, part: str) -> None:
    if part == "":
        raise _invalid_path(path, "empty path component (leading, trailing or double /)")
    if part in (".", ".."):
        raise _invalid_path(path, f"'{part}' components are not allowed")
    if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
        raise _invalid_path(path, f"a path component is longer than {MAX_COMPONENT_BYTES} bytes")


def check_media_type(media_type: object) -> str:
    if not isinstance(media_type, str) or not _MEDIA_TYPE_RE.match(media_type):
        raise InvalidInputError(
            "MANIFEST_INVALID",
            f"media type {media_type!r} is not of the form type/subtype (lower case)",
            media_type=str(media_type)[:300],
        )
    return media_type


def media_type_for(path: str) -> str:
    """A deterministic media type for a file name (the same on every machine)."""
    name = path.rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return (
        _MEDIA_TYPES.get(name[dot:].lower(), DEFAULT_MEDIA_TYPE) if dot > 0 else DEFAULT_MEDIA_TYPE
    )


def artifact(path: object, size: object, digest: object, media_type: object = None) -> Artifact:
    """One checked artifact (path normalised to NFC; media type from its name if not given)."""
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
        raise InvalidInputError(
            "SIZE_INVALID", f"artifact {path!r}: size must be a whole number of bytes ≥ 0"
        )
    clean = check_artifact_path(path)
    return Artifact(
        path=clean,
        size=size,
        digest=check_digest(digest, f"artifact {path!r} digest"),
        media_type=check_media_type(media_type or media_type_for(clean)),
    )


def build_manifest(items: Iterable[Artifact | Mapping[str, Any]]) -> Manifest:
    """Check every artifact and the set as a whole; return the canonical manifest."""
    checked = [_checked(item) for item in items]
    if len(checked) > MAX_ARTIFACTS:
        raise InvalidInputError(
            "MANIFEST_INVALID", f"a version holds at most {MAX_ARTIFACTS} artifacts"
        )
    checked.sort(key=lambda a: a.path)
    _check_unique(checked)
    return Manifest(tuple(checked))


def _checked(item: Artifact | Mapping[str, Any]) -> Artifact:
    if isinstance(item, Artifact):
        return artifact(item.path, item.size, item.digest, item.media_type)
    return artifact(item.get("path"), item.get("size"), item.get("digest"), item.get("media_type"))


def _check_unique(ordered: list[Artifact]) -> None:
    paths = {a.path for a in ordered}
    if len(paths) != len(ordered):
        dup = next(a.path for a, b in itertools.pairwise(ordered) if a.path == b.path)
        raise _invalid_path(dup, "duplicate path (after Unicode NFC normalisation)")
    for a in ordered:
        parts = a.path.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent in paths:
                raise _invalid_path(parent, f"is a file and also the directory of {a.path!r}")


def manifest_from_json(data: bytes) -> Manifest:
    """Parse a manifest document (as served by the API) and check it."""
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise InvalidInputError("MANIFEST_INVALID", f"manifest is not JSON: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("artifacts"), list):
        raise InvalidInputError("MANIFEST_INVALID", "manifest has no artifacts list")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise InvalidInputError(
            "MANIFEST_INVALID", f"unknown manifest schema_version {doc.get('schema_version')!r}"
        )
    items = doc["artifacts"]
    if not all(isinstance(i, dict) for i in items):
        raise InvalidInputError("MANIFEST_INVALID", "every artifact must be an object")
    return build_manifest(items)
