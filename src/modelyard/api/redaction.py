"""Secrets never reach a log line: tokens, ``Authorization`` values and sensitive query
parameters are scrubbed from every log record when it is made.

Hooked into ``logging``'s record factory, so it covers every logger (uvicorn's access log, which
prints the request line with its query string, our own, third parties) and every handler,
whatever logging configuration runs. Clients must never put tokens in URLs (the server ignores
them there), but some will; their access-log lines then read ``?token=[redacted]``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_SENSITIVE_NAMES = "token|key|secret|password|passwd|pwd|auth|session|csrf|signature|credential"
_SENSITIVE_QUERY = re.compile(
    rf"(?i)([?&;][^=&#\s\"']*(?:{_SENSITIVE_NAMES})[^=&#\s\"']*=)[^&#\s\"']*"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[^\s\"',;]+")
_TOKEN = re.compile(r"myd_[0-9A-Za-z]{4,}")
_MARK = "_modelyard_redacts"


def redact(text: str) -> str:
    text = _SENSITIVE_QUERY.sub(r"\1[redacted]", text)
    text = _BEARER.sub(r"\1 [redacted]", text)
    return _TOKEN.sub("myd_[redacted]", text)


def _scrub(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def install() -> None:
    """Scrub every log record from now on (idempotent; once per process is enough)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = _scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrub(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _scrub(v) for k, v in record.args.items()}
        return record

    setattr(factory, _MARK, True)
    logging.setLogRecordFactory(factory)
