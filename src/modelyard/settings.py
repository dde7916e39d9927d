"""One Settings object, built from ``MODELYARD_*`` environment variables and CLI options.

Nothing reads the environment at import time: ``Settings.from_env()`` is called by the CLI (the
composition root's caller) and the result is passed to ``create_app(settings)``. Every field is
documented in docs/settings.md; a test fails when one is not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "MODELYARD_"


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "modelyard"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ))
    database_url: str = ""  # empty: sqlite:///<data_dir>/modelyard.db
    blob_url: str = ""  # empty: file://<data_dir>/blobs
    s3_endpoint_url: str = ""  # empty: AWS; else an S3-compatible store (MinIO, Ceph, moto)
    max_blob_bytes: int = 100 * 1024**3  # one blob (file) at most; larger uploads get 413
    gc_grace_seconds: int = 24 * 3600  # GC keeps unreferenced blobs and idle uploads this long
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    log_level: str = "info"
    sqlite_busy_timeout_ms: int = 30000
    max_request_body_bytes: int = 1024 * 1024
    reviewer_capacities: str = "technical,business,legal"  # comma-separated
    session_ttl_seconds: int = 12 * 3600  # a web session ends this long after sign-in
    auth_max_failures: int = 10  # failed logins / bad tokens per client per window, then 429
    auth_window_seconds: int = 60
    webhooks_worker: bool = True  # deliver webhooks from inside `modelyard serve`
    webhooks_allow_private: bool = False  # allow loopback/private/link-local targets
    webhooks_timeout_seconds: float = 10.0  # one delivery attempt, connect to last byte
    webhooks_max_attempts: int = 10  # failures in a row before a delivery is dead-lettered
    webhooks_retry_base_seconds: float = 30.0  # wait after the first failure; doubles each time
    webhooks_retry_max_seconds: float = 6 * 3600.0  # the longest wait between two attempts
    webhooks_disable_after_dead: int = 20  # dead letters in a row switch a webhook off; 0: never
    webhooks_concurrency: int = 4  # deliveries in flight per worker
    webhooks_poll_seconds: float = 1.0  # how often a worker that has caught up looks for work
    webhooks_retention_seconds: int = 30 * 24 * 3600  # `gc` forgets older webhook history
    webhooks_key_file: str = ""  # empty: <data_dir>/webhooks.key (seals signing secrets)
    policy_file: str = ""  # empty: the built-in policy (docs/governance.md)
    transition_expiry_seconds: int = 14 * 24 * 3600  # a pending transition request expires
    transition_sweep_seconds: float = 60.0  # how often serve closes expired requests; 0: never
    opentelemetry: bool = False  # FastAPI's native OpenTelemetry for requests (global providers)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {"data_dir": default_data_dir(env)}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw)
        values.update({k: _convert(k, v) for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'modelyard.db'}"

    @property
    def capacities(self) -> tuple[str, ...]:
        """The reviewer capacities members can hold, from ``reviewer_capacities``."""
        return tuple(c.strip() for c in self.reviewer_capacities.split(",") if c.strip())

    @property
    def resolved_blob_url(self) -> str:
        return self.blob_url or f"file://{self.data_dir / 'blobs'}"

    @property
    def resolved_webhooks_key_file(self) -> Path:
        if self.webhooks_key_file:
            return Path(self.webhooks_key_file).expanduser()
        return self.data_dir / "webhooks.key"


_INT_FIELDS = {
    "port",
    "workers",
    "sqlite_busy_timeout_ms",
    "max_request_body_bytes",
    "max_blob_bytes",
    "gc_grace_seconds",
    "session_ttl_seconds",
    "auth_max_failures",
    "auth_window_seconds",
    "webhooks_max_attempts",
    "webhooks_concurrency",
    "transition_expiry_seconds",
    "webhooks_retention_seconds",
    "webhooks_disable_after_dead",
}
_FLOAT_FIELDS = {
    "transition_sweep_seconds",
    "webhooks_timeout_seconds",
    "webhooks_retry_base_seconds",
    "webhooks_retry_max_seconds",
    "webhooks_poll_seconds",
}
_BOOL_FIELDS = {"webhooks_worker", "webhooks_allow_private", "opentelemetry"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, raw: Any) -> Any:
    if name == "data_dir":
        return Path(raw).expanduser()
    if name in _INT_FIELDS:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(
                f"{ENV_PREFIX}{name.upper()} must be a whole number, not {raw!r}"
            ) from None
    if name in _FLOAT_FIELDS:
        return _number(name, raw)
    if name in _BOOL_FIELDS:
        return _flag(name, raw)
    return raw


def _number(name: str, raw: Any) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a number of seconds, not {raw!r}")
    return value


def _flag(name: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text not in _TRUE | _FALSE:
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be true or false, not {raw!r}")
    return text in _TRUE


def setting_names() -> list[str]:
    """Every setting's environment variable name (used by the documentation drift test)."""
    return [ENV_PREFIX + f.name.upper() for f in fields(Settings)]
