"""Records of the transfer protocol returned by services (plain dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    created: bool = False  # True when this request stored the bytes (else they were there)


@dataclass(frozen=True)
class Upload:
    """An upload session: ``received`` bytes are stored, the next chunk starts there."""

    id: str
    received: int
    declared_size: int | None
    created_at: datetime
    updated_at: datetime


@dataclass
class GcReport:
    """What garbage collection removed (or, in a dry run, would remove)."""

    dry_run: bool
    grace_seconds: int
    blobs: list[tuple[str, int]] = field(default_factory=list)  # (digest, size)
    uploads: list[str] = field(default_factory=list)
    leftovers: int = 0  # backend leftovers (S3: abandoned multipart uploads)
    webhook_deliveries: int = 0  # delivered or dead deliveries past the retention window
    outbox_events: int = 0  # outbox events past the retention window, already fanned out

    @property
    def freed_bytes(self) -> int:
        return sum(size for _, size in self.blobs)
