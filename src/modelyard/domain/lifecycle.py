"""Lifecycle stages and risk levels.

A version starts in ``development`` (the built-in policy's initial stage) and moves only
through transitions (``services/transitions.py``; the policy is ``domain/policy.py``). Stage
names, ``latest``, numbers and ``sha256:`` digests are reserved as aliases so that a reference
``ns/name@REF`` is never ambiguous.
"""

from __future__ import annotations

DEFAULT_STAGES: tuple[str, ...] = ("development", "staging", "production", "archived")
INITIAL_STAGE = "development"
RISK_LEVELS: tuple[str, ...] = ("unassessed", "low", "medium", "high")
# Version numbers run 1..MAX_VERSION_NUMBER (a 32-bit INTEGER column on PostgreSQL); a larger
# number from a client names no version and must not reach the database, which would refuse it.
MAX_VERSION_NUMBER = 2**31 - 1

RESERVED_ALIASES: frozenset[str] = frozenset({"latest", "sha256", *DEFAULT_STAGES})
