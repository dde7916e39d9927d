"""The audit chain: canonical form of an event, its hash, and verification of a sequence.

Pure functions, no I/O: the database writer (``db/audit.py``), the server's ``audit verify`` and
the offline verification of an exported JSONL file all use the same code, so a chain that one
accepts the others accept too.

An event's hash is ``SHA-256(prev_hash || canonical)`` in hex, where ``prev_hash`` is the hex
hash of the event before it (``GENESIS`` for the first) and ``canonical`` is the event's fields
(everything but ``prev_hash`` and ``hash``) as JSON with sorted keys, no insignificant
whitespace, UTF-8. Sequence numbers start at 1 and have no gaps, so a deleted or reordered row
breaks either the numbering or the chain; the head (last seq and hash) is kept apart, so
cutting off the newest rows is caught too.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64

# The fields that go into the hash, in the order exports show them.
FIELDS = (
    "seq",
    "event_id",
    "at",
    "actor",
    "actor_id",
    "token_id",
    "action",
    "target",
    "namespace",
    "before",
    "after",
    "request_id",
)


def jsonable(value: Any) -> Any:
    """``value`` made of JSON types only, the same after a round trip through any JSON column:
    UUIDs and datetimes become strings, tuples and sets lists, non-finite floats strings."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:  # most values: one test
        return value
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return timestamp(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return str(value)


def timestamp(at: datetime) -> str:
    """The one text form of an event time: UTC, microseconds, ``+00:00``."""
    if at.tzinfo is not UTC:
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
    return at.isoformat(timespec="microseconds")


def canonical(event: Mapping[str, Any]) -> str:
    body = {name: event.get(name) for name in FIELDS}
    body["at"] = timestamp(body["at"]) if isinstance(body["at"], datetime) else body["at"]
    return canonical_json(jsonable(body))


def canonical_json(body: Mapping[str, Any]) -> str:
    """``canonical`` of a body that is ``jsonable`` already (the fields of ``FIELDS``, ``at``
    as its ``timestamp``): the chain's writer builds it so and skips a second walk."""
    return _CANONICAL(body)


# ``json.dumps`` with these options builds this encoder on every call.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode


def chain_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return link(prev_hash, canonical(event))


def link(prev_hash: str, canonical_text: str) -> str:
    """The hash of an event whose canonical form is ``canonical_text``."""
    return hashlib.sha256((prev_hash + canonical_text).encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a chain. ``ok`` with ``checked`` events, or the first problem:
    ``seq`` is where it was found and ``problem`` one of ``gap`` (a missing or out-of-order
    number), ``prev_hash`` (the link to the event before does not match), ``hash`` (the event's
    content was changed), ``head`` (the chain does not end where the head says: rows after it
    were removed, or the head was changed)."""

    ok: bool
    checked: int
    last_seq: int
    last_hash: str
    seq: int | None = None
    problem: str | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
            "seq": self.seq,
            "problem": self.problem,
            "message": self.message,
        }


def verify(
    events: Iterable[Mapping[str, Any]],
    head: tuple[int, str] | None = None,
    start: tuple[int, str] = (0, GENESIS),
) -> Verification:
    """Check ``events`` (in the order stored, by ascending seq) link into one chain starting
    after ``start`` (seq, hash) and, when ``head`` is given, ending exactly there."""
    last_seq, last_hash = start
    checked = 0
    for event in events:
        seq = int(event["seq"])
        if seq != last_seq + 1:
            missing = "missing" if seq > last_seq + 1 else "out of order"
            return _broken(
                checked,
                last_seq,
                last_hash,
                last_seq + 1,
                "gap",
                f"event {last_seq + 1} is {missing} (found {seq})",
            )
        if event.get("prev_hash") != last_hash:
            return _broken(
                checked,
                last_seq,
                last_hash,
                seq,
                "prev_hash",
                f"event {seq} does not link to event {last_seq}",
            )
        computed = chain_hash(last_hash, event)
        if event.get("hash") != computed:
            return _broken(
                checked,
                last_seq,
                last_hash,
                seq,
                "hash",
                f"event {seq} was changed after it was written",
            )
        last_seq, last_hash = seq, computed
        checked += 1
    if head is not None and head != (last_seq, last_hash):
        return _broken(
            checked,
            last_seq,
            last_hash,
            last_seq + 1 if head[0] > last_seq else head[0],
            "head",
            f"the chain ends at event {last_seq} but the head says {head[0]}",
        )
    return Verification(True, checked, last_seq, last_hash, message=f"{checked} events verified")


def _broken(
    checked: int, last_seq: int, last_hash: str, seq: int, problem: str, message: str
) -> Verification:
    return Verification(False, checked, last_seq, last_hash, seq, problem, message)
