"""Wire schemas (pydantic) for ingredients, datasets, lineage, consumers, metrics and the
inventory.

Text fields are plain strings here on purpose: the domain checks them (domain/ingredients.py,
domain/datasets.py) and answers with INGREDIENTS_INVALID, NAME_INVALID or REFERENCE_INVALID,
naming the field, rather than a generic VALIDATION_FAILED.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.domain.datasets import Dataset
from modelyard.domain.ingredients import MAX_DATA, MAX_PACKAGES, Ingredients, Recorded
from modelyard.domain.lineage import Affected, Consumer, Graph
from modelyard.domain.metrics import MetricValue, VersionMetrics


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------------ ingredients


class CodeIn(_In):
    commit: str | None = Field(default=None, examples=["4f2a9c1e0b7d4e5f8a9b0c1d2e3f4a5b6c7d8e9f"])
    branch: str | None = Field(default=None, examples=["main"])
    remote_url: str | None = Field(
        default=None, description="Stored without user, password, query or fragment."
    )
    dirty: bool = False
    diff_digest: str | None = Field(
        default=None, description="Digest of the uncommitted diff; must be one of the artifacts."
    )


class PackageIn(_In):
    name: str = Field(examples=["scipy"])
    version: str = Field(default="", examples=["1.11.4"])


class EnvironmentIn(_In):
    python_version: str | None = Field(default=None, examples=["3.11.7"])
    implementation: str | None = Field(default=None, examples=["CPython"])
    os: str | None = Field(default=None, examples=["Linux-6.8.0-x86_64-with-glibc2.39"])
    arch: str | None = Field(default=None, examples=["x86_64"])
    packages: list[PackageIn] = Field(default_factory=list, max_length=MAX_PACKAGES)
    accelerator: dict[str, Any] | None = Field(
        default=None, examples=[{"kind": "cuda", "cuda_version": "12.1", "devices": ["A100"]}]
    )
    container_image: str | None = Field(default=None, examples=["ghcr.io/acme/train:2026.11"])


class DataIn(_In):
    dataset: str | None = Field(
        default=None, description="namespace/name[@version]", examples=["risk-team/tx@2026-10"]
    )
    uri: str | None = Field(default=None, examples=["s3://lake/tx/2026-10/"])
    digest: str | None = None
    role: Literal["trained_on", "evaluated_on"] = "trained_on"


class IngredientsIn(_In):
    code: CodeIn | None = None
    environment: EnvironmentIn | None = None
    config: dict[str, Any] | None = Field(default=None, examples=[{"lr": 0.01, "epochs": 20}])
    data: list[DataIn] | None = Field(default=None, max_length=MAX_DATA)

    def to_domain(self) -> Ingredients:
        return Ingredients.parse(self.model_dump())


class MetricIn(_In):
    name: str = Field(examples=["auc"])
    value: float
    dataset: str = Field(default="", examples=["risk-team/holdout@2026-10"])
    split: str = Field(default="", examples=["test"])


class MetricOut(BaseModel):
    name: str
    value: float
    dataset: str
    split: str

    @classmethod
    def of(cls, m: MetricValue) -> MetricOut:
        return cls(**m.__dict__)


class CompletenessOut(BaseModel):
    complete: bool
    present: list[str]
    missing: dict[str, str] = Field(description="part -> why it counts as missing")


class DataUseOut(BaseModel):
    role: str
    dataset: str | None
    uri: str
    digest: str | None
    status: str | None
    classifications: list[str]


class IngredientsOut(BaseModel):
    reference: str
    code: dict[str, Any] | None
    environment: dict[str, Any] | None
    config: dict[str, Any] | None
    data: list[DataUseOut]
    completeness: CompletenessOut

    @classmethod
    def of(cls, r: Recorded) -> IngredientsOut:
        return cls(
            reference=r.reference,
            code=r.code,
            environment=r.environment,
            config=r.config,
            data=[
                DataUseOut(**{**d.__dict__, "classifications": list(d.classifications)})
                for d in r.data
            ],
            completeness=CompletenessOut(**r.completeness.to_dict()),
        )


class CheckOut(BaseModel):
    name: str
    passed: bool
    message: str
    details: dict[str, Any]


class VersionMetricsOut(BaseModel):
    version: int
    stage: str
    archived: bool
    created_at: datetime
    metrics: list[MetricOut]

    @classmethod
    def of(cls, v: VersionMetrics) -> VersionMetricsOut:
        return cls(**{**v.__dict__, "metrics": [MetricOut.of(m) for m in v.metrics]})


class MetricsComparisonOut(BaseModel):
    model: str
    names: list[str] | None
    versions: list[VersionMetricsOut]


class CardText(_In):
    markdown: str = Field(max_length=256 * 1024, description="The author's part of the card.")


# ------------------------------------------------------------------------------ datasets


class DatasetCreate(_In):
    namespace: str = Field(max_length=200, examples=["risk-team"])
    name: str = Field(max_length=200, examples=["transactions"])
    version: str = Field(max_length=200, examples=["2026-10"])
    uri: str = Field(default="", max_length=2048, examples=["s3://lake/transactions/2026-10/"])
    digest: str | None = None
    size: int | None = Field(default=None, ge=0, le=2**63 - 1)
    owner: str = Field(default="", max_length=128)
    licence: str = Field(default="", max_length=200, examples=["internal"])
    description: str = Field(default="", max_length=65536)
    classifications: list[str] = Field(default_factory=list, max_length=20, examples=[["pii"]])


class DatasetUpdate(_In):
    owner: str | None = Field(default=None, max_length=128)
    licence: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=65536)
    classifications: list[str] | None = Field(default=None, max_length=20)


class Revocation(_In):
    reason: str = Field(min_length=1, max_length=10000, examples=["consent withdrawn"])


class DatasetOut(BaseModel):
    namespace: str
    name: str
    version: str
    reference: str
    uri: str
    digest: str | None
    size: int | None
    owner: str
    licence: str
    description: str
    classifications: list[str]
    status: str
    revoked_reason: str
    revoked_at: datetime | None
    revoked_by: str
    created_by: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: Dataset) -> DatasetOut:
        values = {**d.__dict__, "classifications": list(d.classifications)}
        return cls(reference=d.reference, **values)


class AffectedOut(BaseModel):
    reference: str
    stage: str
    archived: bool
    via: str
    depth: int

    @classmethod
    def of(cls, a: Affected) -> AffectedOut:
        return cls(**a.__dict__)


class AffectedListOut(BaseModel):
    dataset: str
    versions: list[AffectedOut]


# ------------------------------------------------------------------------------ lineage


class NodeOut(BaseModel):
    id: str
    kind: str
    label: str
    attributes: dict[str, Any]


class EdgeOut(BaseModel):
    source: str
    target: str
    relation: str


class GraphOut(BaseModel):
    root: str
    direction: str
    depth: int
    truncated: bool
    nodes: list[NodeOut]
    edges: list[EdgeOut]

    @classmethod
    def of(cls, g: Graph) -> GraphOut:
        return cls(
            root=g.root,
            direction=g.direction,
            depth=g.depth,
            truncated=g.truncated,
            nodes=[NodeOut(**n.__dict__) for n in g.nodes],
            edges=[EdgeOut(**e.__dict__) for e in g.edges],
        )


class ConsumerIn(_In):
    kind: Literal["service", "pipeline", "job", "other"] = "service"
    reference: str = Field(
        max_length=300,
        description="What it consumes: REF (production, champion, 7…) or namespace/name@REF",
        examples=["production"],
    )
    description: str = Field(default="", max_length=10000)


class ConsumerOut(BaseModel):
    name: str
    kind: str
    model: str
    reference: str
    description: str
    declared_by: str
    created_at: datetime
    last_seen_at: datetime | None
    last_version: int | None

    @classmethod
    def of(cls, c: Consumer) -> ConsumerOut:
        return cls(**c.__dict__)


class ImpactOut(BaseModel):
    reference: str
    stage: str
    aliases: list[str]
    consumers: list[ConsumerOut]
    downstream: list[AffectedOut]
    exclusive_stage: bool = Field(description="Archiving leaves its stage without a version.")


class PackageUseOut(BaseModel):
    reference: str
    stage: str
    package: str
    version: str
