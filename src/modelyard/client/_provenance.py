"""What ``push`` adds to a version besides its files: the captured ingredients, the
uncommitted diff as the artifact ``.modelyard/code.diff``, upstream links and the card text."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modelyard.capture import Captured
from modelyard.domain.errors import InvalidInputError
from modelyard.domain.ingredients import DIFF_ARTIFACT


@contextmanager
def with_diff(
    files: list[tuple[str, Path]], diff: bytes | None
) -> Iterator[list[tuple[str, Path]]]:
    """``files`` plus the diff written to a temporary file named ``DIFF_ARTIFACT``."""
    if diff is None:
        yield files
        return
    if any(name == DIFF_ARTIFACT for name, _ in files):
        raise InvalidInputError(
            "ARTIFACT_PATH_INVALID",
            f"{DIFF_ARTIFACT} is where push stores the uncommitted diff; the pushed files hold"
            " one already (push with code=False, or commit first)",
        )
    with tempfile.TemporaryDirectory(prefix="modelyard-diff-") as tmp:
        path = Path(tmp) / "code.diff"
        path.write_bytes(diff)
        yield [*files, (DIFF_ARTIFACT, path)]


def extra_body(
    captured: Captured,
    derived_from: Sequence[str],
    depends_on: Sequence[str],
    card: str | None,
    metric_details: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The version-creation fields beyond files, description, tags and metrics."""
    body: dict[str, Any] = {
        "ingredients": captured.ingredients,
        "derived_from": list(derived_from),
        "depends_on": list(depends_on),
        "card": card,
        "metric_details": list(metric_details),
    }
    return {k: v for k, v in body.items() if v}
