"""What versions inherit from their data: classifications and revoked datasets.

Computed when read (``db/lineage.py``'s upward walk), never copied onto versions: correcting a
dataset's classifications or revoking it shows on every affected version at once.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from modelyard.db.lineage import INHERITED


@dataclass(frozen=True)
class Inheritance:
    classifications: tuple[str, ...] = ()
    revoked_datasets: tuple[str, ...] = ()  # namespace/name@version of each revoked one


NOTHING = Inheritance()


def inherited(s: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Inheritance]:
    """For each version id that inherits anything, what (one query for all of them)."""
    if not ids:
        return {}
    labels: dict[uuid.UUID, set[str]] = defaultdict(set)
    revoked: dict[uuid.UUID, set[str]] = defaultdict(set)
    for r in s.execute(INHERITED, {"ids": list(ids)}):
        if r.classification is not None:
            labels[r.root].add(r.classification)
        if r.status == "revoked":
            revoked[r.root].add(f"{r.namespace}/{r.name}@{r.version}")
    return {
        vid: Inheritance(tuple(sorted(labels[vid])), tuple(sorted(revoked[vid])))
        for vid in labels.keys() | revoked.keys()
    }
