"""SDK-side capture of the four ingredients (code, environment, config, data) at push.

    from modelyard.capture import capture, git_info, environment, config_from, fingerprint

On by default in ``Client.push``: each part can be given explicitly (a dict), switched off
(``False``), or, for code, pointed at another repository (a path). ``capture`` returns the
ingredients in the API's shape and, when the working tree is dirty, the diff that push stores
as the artifact ``.modelyard/code.diff`` (its digest is recorded in ``code.diff_digest``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.capture.config import config_from
from modelyard.capture.data import Fingerprint, fingerprint
from modelyard.capture.environment import environment, packages
from modelyard.capture.git import CodeCapture, git_info
from modelyard.domain.digests import digest_of
from modelyard.domain.ingredients import DIFF_ARTIFACT, strip_credentials

__all__ = [
    "DIFF_ARTIFACT",
    "Captured",
    "CodeCapture",
    "Fingerprint",
    "capture",
    "config_from",
    "data_ref",
    "environment",
    "fingerprint",
    "git_info",
    "packages",
]

CodeOption = bool | str | Path | Mapping[str, Any] | None
EnvironmentOption = bool | Mapping[str, Any] | None
ConfigOption = Mapping[str, Any] | str | Path | None
DataOption = Sequence[str | Mapping[str, Any]] | None


@dataclass(frozen=True)
class Captured:
    ingredients: dict[str, Any] | None  # None: nothing to record
    diff: bytes | None  # the uncommitted diff to store as DIFF_ARTIFACT


def capture(
    code: CodeOption = True,
    environment_: EnvironmentOption = True,
    config: ConfigOption = None,
    data: DataOption = None,
    container_image: str | None = None,
    pushed: str | Path | None = None,
) -> Captured:
    """``code``: True captures the git repository that holds ``pushed`` (the model's files:
    nothing when they lie outside any repository), a path names the repository, a dict is
    taken as given, False records none. ``pushed`` is always left out of the diff.
    ``environment_``: True captures this interpreter's. ``config``: a dict or a JSON/YAML
    file. ``data``: dataset references (``ns/name@version``) or dicts (``{"uri", "digest",
    "role"}``, see ``data_ref``)."""
    code_part, diff = _code(code, pushed)
    parts: dict[str, Any] = {
        "code": code_part,
        "environment": _environment(environment_, container_image),
        "config": None if config is None else config_from(config),
        "data": None if data is None else [_data(d) for d in data],
    }
    found = {k: v for k, v in parts.items() if v is not None}
    return Captured(found or None, diff)


def _code(
    option: CodeOption, pushed: str | Path | None
) -> tuple[dict[str, Any] | None, bytes | None]:
    if option is None or option is False:
        return None, None
    if isinstance(option, Mapping):
        given = dict(option)
        if given.get("remote_url"):
            given["remote_url"] = strip_credentials(str(given["remote_url"]))
        return given, None
    where = (pushed or ".") if option is True else Path(option)
    found = git_info(where, exclude=pushed)
    if found is None:
        return None, None
    digest = digest_of(found.diff) if found.diff else None
    return found.to_dict(digest), found.diff


def _environment(option: EnvironmentOption, image: str | None) -> dict[str, Any] | None:
    if option is None or option is False:
        return None
    if isinstance(option, Mapping):
        return dict(option)
    return environment(image)


def _data(entry: str | Mapping[str, Any]) -> dict[str, Any]:
    return {"dataset": entry, "role": "trained_on"} if isinstance(entry, str) else dict(entry)


def data_ref(path: str | Path, uri: str | None = None, role: str = "trained_on") -> dict[str, Any]:
    """Ad-hoc data by fingerprint: a local file or directory's digest, with ``uri`` (default:
    its ``file://`` URL) saying where it lives."""
    found = fingerprint(path)
    where = uri or Path(path).resolve().as_uri()
    return {"uri": where, "digest": found.digest, "role": role}
