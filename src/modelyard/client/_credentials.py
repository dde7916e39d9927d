"""The credentials file: which token to send to which server, so SDK and CLI sign in by
themselves.

    ~/.config/modelyard/credentials     ($XDG_CONFIG_HOME/modelyard/credentials;
                                          MODELYARD_CREDENTIALS names another file)
    {"default": "http://127.0.0.1:8080",
     "servers": {"http://127.0.0.1:8080": {"token": "myd_…"}}}

Written by ``modelyard serve`` on first start (for the local server) and ``modelyard login
URL``. The file and its directory are private to the user (0600 / 0700), and it is replaced
atomically so a crash never leaves half a file. A token is only ever sent to the exact URL it
was stored for.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ENV_FILE = "MODELYARD_CREDENTIALS"


def path_from(environ: Mapping[str, str]) -> Path | None:
    """Where the file is for this environment (``None``: no home, so no file)."""
    if environ.get(ENV_FILE):
        return Path(environ[ENV_FILE]).expanduser()
    config = environ.get("XDG_CONFIG_HOME") or (
        str(Path(environ["HOME"]) / ".config") if environ.get("HOME") else ""
    )
    return Path(config) / "modelyard" / "credentials" if config else None


def normal(url: str) -> str:
    return url.rstrip("/")


def _load(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def token_for(url: str, environ: Mapping[str, str]) -> str | None:
    server = _servers(_load(path_from(environ))).get(normal(url))
    token = server.get("token") if isinstance(server, dict) else None
    return token if isinstance(token, str) and token else None


def default_url(environ: Mapping[str, str]) -> str | None:
    url = _load(path_from(environ)).get("default")
    return url if isinstance(url, str) and url else None


def save(url: str, token: str, environ: Mapping[str, str], make_default: bool = True) -> Path:
    """Store ``token`` for ``url`` (and make it the default server unless told not to)."""
    path = path_from(environ)
    if path is None:
        raise OSError("no home directory: set HOME or MODELYARD_CREDENTIALS")
    data = _load(path)
    servers = _servers(data)
    servers[normal(url)] = {"token": token}
    data["servers"] = servers
    if make_default or not data.get("default"):
        data["default"] = normal(url)
    _write(path, data)
    return path


def forget(url: str, environ: Mapping[str, str]) -> bool:
    """Drop the token stored for ``url``; True when there was one."""
    path = path_from(environ)
    data = _load(path)
    servers = _servers(data)
    if path is None or servers.pop(normal(url), None) is None:
        return False
    if data.get("default") == normal(url):
        data.pop("default")
    _write(path, {**data, "servers": servers})
    return True


def _servers(data: dict[str, Any]) -> dict[str, Any]:
    servers = data.get("servers")
    return servers if isinstance(servers, dict) else {}


def _write(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".credentials-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
            out.write("\n")
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
