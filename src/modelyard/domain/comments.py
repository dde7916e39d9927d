"""Comments: discussion next to the evidence, on a model or one of its versions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from modelyard.domain.errors import InvalidInputError

MAX_COMMENT = 20_000


@dataclass(frozen=True)
class Comment:
    id: str
    namespace: str
    name: str
    version: int | None  # None: a comment on the model
    author: str
    body: str
    created_at: datetime

    @property
    def target(self) -> str:
        model = f"{self.namespace}/{self.name}"
        return model if self.version is None else f"{model}@{self.version}"


def check_body(body: str) -> str:
    text = body.strip()
    if not text or len(text) > MAX_COMMENT or "\x00" in text:
        raise InvalidInputError(
            "VALIDATION_FAILED", f"a comment is 1-{MAX_COMMENT} characters of text"
        )
    return text
