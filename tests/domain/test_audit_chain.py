"""The audit chain's pure parts: canonical form, hashing, verification of a sequence."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from modelyard.domain import audit


def _chain(n: int) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    prev = audit.GENESIS
    for seq in range(1, n + 1):
        event: dict[str, object] = {
            "seq": seq,
            "event_id": str(uuid.uuid4()),
            "at": "2026-11-27T06:00:00.000000+00:00",
            "actor": "alice",
            "actor_id": None,
            "token_id": None,
            "action": "model.created",
            "target": f"risk/m{seq}",
            "namespace": "risk",
            "before": None,
            "after": {"n": seq},
            "request_id": "r",
            "prev_hash": prev,
        }
        event["hash"] = prev = audit.chain_hash(prev, event)
        events.append(event)
    return events


def test_canonical_form_ignores_key_order_and_the_stored_hashes() -> None:
    a = {"seq": 1, "after": {"b": 1, "a": 2}, "action": "x", "hash": "h1", "prev_hash": "p"}
    b = {"action": "x", "after": {"a": 2, "b": 1}, "seq": 1, "hash": "other"}
    assert audit.canonical(a) == audit.canonical(b)
    assert " " not in audit.canonical(a)


def test_times_have_one_text_form_whatever_their_zone() -> None:
    utc = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    cet = utc.astimezone(timezone(timedelta(hours=1)))
    assert audit.timestamp(utc) == audit.timestamp(cet) == "2026-11-27T06:00:00.000000+00:00"
    assert audit.canonical({"at": utc}) == audit.canonical({"at": cet})


def test_jsonable_makes_json_types_only() -> None:
    value = audit.jsonable({"id": uuid.UUID(int=1), "x": float("nan"), "s": {2, 1}, 3: (1,)})
    assert value == {"id": str(uuid.UUID(int=1)), "x": "nan", "s": [1, 2], "3": [1]}


def test_an_intact_chain_verifies_up_to_its_head() -> None:
    events = _chain(5)
    result = audit.verify(events, (5, str(events[-1]["hash"])))
    assert result.ok
    assert result.checked == 5
    assert result.last_seq == 5


def test_an_edited_event_is_named() -> None:
    events = _chain(5)
    events[2]["after"] = {"n": 999}
    result = audit.verify(events)
    assert (result.ok, result.seq, result.problem) == (False, 3, "hash")


def test_a_deleted_event_is_a_gap() -> None:
    events = _chain(5)
    del events[1]
    result = audit.verify(events)
    assert (result.ok, result.seq, result.problem) == (False, 2, "gap")


def test_reordered_events_are_caught() -> None:
    events = _chain(5)
    events[1], events[2] = events[2], events[1]
    assert audit.verify(events).problem == "gap"
    # renumbering them to hide the swap breaks the links instead
    events[1]["seq"], events[2]["seq"] = 2, 3
    result = audit.verify(events)
    assert (result.seq, result.problem) in ((2, "prev_hash"), (2, "hash"))


def test_cutting_off_the_newest_events_is_caught_by_the_head() -> None:
    events = _chain(5)
    result = audit.verify(events[:4], (5, str(events[-1]["hash"])))
    assert (result.ok, result.problem, result.seq) == (False, "head", 5)


def test_a_rewritten_chain_does_not_match_an_anchored_head() -> None:
    events = _chain(3)
    anchored = (3, str(events[-1]["hash"]))
    forged = _chain(3)  # recomputed from scratch with other content: links fine, head differs
    assert audit.verify(forged).ok
    assert audit.verify(forged, anchored).problem == "head"
