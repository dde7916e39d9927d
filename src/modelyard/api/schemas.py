"""Wire schemas (pydantic): separate Create / Update / Read shapes per resource.

Create and Update schemas forbid unknown fields, so a PATCH that tries to set a field only a
dedicated endpoint may change (risk level, stage, created_by…) is refused, not silently ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from modelyard.api.blob_schemas import ManifestIn
from modelyard.api.lineage_schemas import IngredientsIn, MetricIn
from modelyard.domain.records import Model, Namespace, Version

T = TypeVar("T")


def _clean_text(value: str) -> str:
    # Neither database stores NUL, and lone surrogates cannot be encoded: refuse both as input.
    if "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
Description = Annotated[Text, Field(max_length=65536)]
Tags = dict[Text, Annotated[Text, Field(max_length=5000)]]
Metrics = dict[Text, float]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NamespaceCreate(_In):
    name: Text = Field(max_length=200, examples=["risk-team"])
    description: Description = ""
    visibility: Literal["private", "internal"] = Field(
        "private", description="private: members only; internal: every signed-in user reads it"
    )


class NamespaceUpdate(_In):
    description: Description | None = None


class NamespaceOut(BaseModel):
    name: str
    description: str
    visibility: str
    archived: bool
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, ns: Namespace) -> NamespaceOut:
        return cls(**ns.__dict__)


class ModelCreate(_In):
    namespace: Text = Field(max_length=200, examples=["risk-team"])
    name: Text = Field(max_length=200, examples=["fraud-detector"])
    description: Description = ""
    tags: Tags = Field(default_factory=dict, max_length=200)


class ModelUpdate(_In):
    description: Description | None = None


class RiskUpdate(_In):
    level: Text = Field(examples=["high"], description="unassessed, low, medium or high")
    reason: Annotated[Text, Field(max_length=10000)]


class ModelOut(BaseModel):
    namespace: str
    name: str
    full_name: str
    description: str
    tags: dict[str, str]
    risk_level: str
    risk_reason: str
    aliases: dict[str, int]
    archived: bool
    latest_version: int | None
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime

    @classmethod
    def of(cls, m: Model) -> ModelOut:
        return cls(full_name=m.full_name, **m.__dict__)


class VersionCreate(_In):
    description: Description = ""
    tags: Tags = Field(default_factory=dict, max_length=200)
    metrics: Metrics = Field(default_factory=dict, max_length=1000)
    manifest: ManifestIn | None = Field(
        default=None, description="The version's files; every blob must be uploaded first."
    )
    ingredients: IngredientsIn | None = Field(
        default=None, description="What made it: code, environment, config, data. Immutable."
    )
    derived_from: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Versions it was fine-tuned or distilled from (namespace/name@REF).",
        examples=[["risk-team/base@3"]],
    )
    depends_on: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Versions it needs at run time: ensemble members, tokenizers, embeddings.",
    )
    metric_details: list[MetricIn] = Field(
        default_factory=list,
        max_length=1000,
        description="Metrics with the dataset and split they were measured on.",
    )
    card: str | None = Field(
        default=None, max_length=256 * 1024, description="The author's model card (markdown)."
    )


class VersionUpdate(_In):
    description: Description | None = None
    metrics: Metrics | None = Field(default=None, max_length=1000)
    metric_details: list[MetricIn] = Field(default_factory=list, max_length=1000)


class VersionOut(BaseModel):
    namespace: str
    name: str
    version: int
    reference: str
    description: str
    tags: dict[str, str]
    metrics: dict[str, float]
    stage: str
    status: str
    aliases: list[str]
    risk_level: str
    manifest_digest: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    classifications: list[str] = Field(
        description="Inherited from its training data, directly or through derived_from."
    )
    revoked_datasets: list[str] = Field(
        description="Revoked datasets it inherits from (empty when none)."
    )

    @classmethod
    def of(cls, v: Version) -> VersionOut:
        return cls(reference=v.reference, **v.__dict__)


class TagValue(_In):
    value: Annotated[Text, Field(max_length=5000)]


class AliasTarget(_In):
    version: int = Field(ge=1, le=2**31 - 1)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_page_token: str | None = None


class ErrorBody(BaseModel):
    code: str = Field(examples=["MODEL_NOT_FOUND"])
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorOut(BaseModel):
    error: ErrorBody
