"""Wire schemas (pydantic) of the transfer protocol: blobs, upload sessions, manifests.

Digests, paths and sizes are plain strings and integers here on purpose: the domain checks
them (domain/digests.py, domain/manifests.py) and answers with the protocol's own codes
(DIGEST_INVALID, ARTIFACT_PATH_INVALID, SIZE_INVALID) rather than a generic VALIDATION_FAILED.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from modelyard.domain.manifests import MAX_ARTIFACTS, Artifact, Manifest, build_manifest
from modelyard.domain.transfers import Blob, Upload

MEDIA_TYPE_MANIFEST = "application/vnd.modelyard.manifest.v1+json"
DIGEST_EXAMPLE = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MissingIn(_In):
    digests: list[str] = Field(max_length=10_000, examples=[[DIGEST_EXAMPLE]])


class FetchIn(_In):
    digests: list[str] = Field(min_length=1, max_length=1000, examples=[[DIGEST_EXAMPLE]])


class MissingOut(BaseModel):
    missing: list[str] = Field(description="The digests the server does not hold, in order.")


class UploadStart(_In):
    size: int | None = Field(
        default=None, ge=0, description="Total length, if known: refused early when too large."
    )


class UploadOut(BaseModel):
    id: str
    received: int = Field(description="Bytes stored so far; the next chunk starts here.")
    declared_size: int | None
    location: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, u: Upload) -> UploadOut:
        return cls(location=upload_location(u.id), **u.__dict__)


class UploadCommit(_In):
    digest: str = Field(examples=[DIGEST_EXAMPLE])
    size: int | None = Field(default=None, ge=0, description="Total length, checked if given.")


class BlobOut(BaseModel):
    digest: str
    size: int
    created: bool = Field(description="False when the server held these bytes already.")
    location: str

    @classmethod
    def of(cls, b: Blob) -> BlobOut:
        return cls(location=blob_location(b.digest), **b.__dict__)


class BatchOut(BaseModel):
    blobs: list[BlobOut] = Field(description="One per blob of the batch, in the order sent.")


class ArtifactIn(_In):
    path: str = Field(examples=["weights/model.safetensors"])
    size: StrictInt
    digest: str = Field(examples=[DIGEST_EXAMPLE])
    media_type: str | None = Field(default=None, examples=["application/octet-stream"])


class ManifestIn(_In):
    artifacts: list[ArtifactIn] = Field(max_length=MAX_ARTIFACTS)

    def to_manifest(self) -> Manifest:
        return build_manifest(a.model_dump() for a in self.artifacts)


class ArtifactOut(BaseModel):
    path: str
    size: int
    digest: str
    media_type: str

    @classmethod
    def of(cls, a: Artifact) -> ArtifactOut:
        return cls(**a.__dict__)


class ManifestOut(BaseModel):
    """The canonical manifest document (served byte-exact; its SHA-256 is the digest)."""

    artifacts: list[ArtifactOut]
    schema_version: int


def upload_location(upload_id: str) -> str:
    return f"/api/v1/blobs/uploads/{upload_id}"


def blob_location(digest: str) -> str:
    return f"/api/v1/blobs/{digest}"


BINARY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
