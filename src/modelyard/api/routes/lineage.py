"""A version's ingredients, metrics, model card, lineage, archiving impact and policy checks;
a model's consumers and metric comparison; which versions use a package.

    GET  /api/v1/models/{ns}/{name}/versions/{n}/ingredients
    GET  /api/v1/models/{ns}/{name}/versions/{n}/metrics
    GET  /api/v1/models/{ns}/{name}/metrics?names=auc,f1
    GET  /api/v1/models/{ns}/{name}/versions/{n}/card?format=md|html      PUT …/card
    GET  /api/v1/models/{ns}/{name}/versions/{n}/lineage?direction=&depth=
    GET  /api/v1/models/{ns}/{name}/versions/{n}/impact
    GET  /api/v1/models/{ns}/{name}/versions/{n}/checks
    GET|PUT|DELETE /api/v1/models/{ns}/{name}/consumers[/{consumer}]
    GET  /api/v1/packages/{package}?specifier=&stage=
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from modelyard.api.access import Caller, CanRead, CanWrite, SignedIn
from modelyard.api.calls import Db, run
from modelyard.api.errors import ERROR_RESPONSES
from modelyard.api.lineage_schemas import (
    AffectedOut,
    CardText,
    CheckOut,
    ConsumerIn,
    ConsumerOut,
    GraphOut,
    ImpactOut,
    IngredientsOut,
    MetricOut,
    MetricsComparisonOut,
    PackageUseOut,
    VersionMetricsOut,
)
from modelyard.api.readable import readable_by
from modelyard.domain.cards import to_html
from modelyard.services import cards, consumers, lineage, metrics, packages, provenance

router = APIRouter(prefix="/api/v1", tags=["lineage"], responses=ERROR_RESPONSES)

MODEL = "/models/{namespace}/{name}"
ONE = MODEL + "/versions/{version}"
Number = Annotated[int, Path(ge=1, le=2**31 - 1, description="Version number")]
ConsumerName = Annotated[str, Path(max_length=200)]
_CARD_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/markdown": {}, "text/html": {}}, "description": "The model card"}
}


@router.get(ONE + "/ingredients", dependencies=[CanRead])
async def get_ingredients(namespace: str, name: str, version: Number, db: Db) -> IngredientsOut:
    """Code, environment (with every package), config and data, with the completeness report."""
    found = await run(db, provenance.get_ingredients, db, namespace, name, version)
    return IngredientsOut.of(found)


@router.get(ONE + "/metrics", dependencies=[CanRead])
async def get_metrics(namespace: str, name: str, version: Number, db: Db) -> list[MetricOut]:
    found = await run(db, metrics.version_metrics, db, namespace, name, version)
    return [MetricOut.of(m) for m in found]


@router.get(MODEL + "/metrics", dependencies=[CanRead])
async def compare_metrics(
    namespace: str,
    name: str,
    db: Db,
    names: Annotated[str | None, Query(max_length=2000, examples=["auc,f1"])] = None,
    include_archived: bool = False,
) -> MetricsComparisonOut:
    """Every version's metrics side by side (oldest first), only ``names`` if given."""
    wanted = [n.strip() for n in names.split(",") if n.strip()] if names else None
    found = await run(db, metrics.compare, db, namespace, name, wanted, include_archived)
    return MetricsComparisonOut(
        model=f"{namespace}/{name}",
        names=wanted,
        versions=[VersionMetricsOut.of(v) for v in found],
    )


@router.get(ONE + "/card", dependencies=[CanRead], response_class=Response, responses=_CARD_DOC)
async def get_card(
    namespace: str,
    name: str,
    version: Number,
    db: Db,
    format: Literal["md", "html"] = "md",
) -> Response:
    """The model card: the author's markdown merged with generated facts."""
    text = await run(db, cards.card_markdown, db, namespace, name, version)
    if format == "html":
        page = to_html(text, f"{namespace}/{name} version {version}")
        return Response(page, media_type="text/html; charset=utf-8")
    return Response(text, media_type="text/markdown; charset=utf-8")


@router.put(ONE + "/card", dependencies=[CanWrite])
async def set_card(
    namespace: str, name: str, version: Number, body: CardText, db: Db, who: Caller
) -> CardText:
    """Replace the author's part of the card (the generated part follows the records)."""
    text = await run(db, cards.set_card, db, who.name, namespace, name, version, body.markdown)
    return CardText(markdown=text)


@router.get(ONE + "/lineage", dependencies=[CanRead])
async def get_lineage(
    namespace: str,
    name: str,
    version: Number,
    db: Db,
    who: Caller,
    direction: Literal["upstream", "downstream", "both"] = "both",
    depth: Annotated[int, Query(ge=1, le=10)] = 3,
) -> GraphOut:
    """Nodes (versions, datasets, ad-hoc data, consumers) and edges around the version."""
    may_read = await readable_by(db, who)
    ref = f"{namespace}/{name}@{version}"
    return GraphOut.of(await run(db, lineage.graph, db, ref, direction, depth, may_read))


@router.get(ONE + "/impact", dependencies=[CanRead])
async def get_impact(namespace: str, name: str, version: Number, db: Db, who: Caller) -> ImpactOut:
    """What archiving the version would touch: aliases, consumers, versions built on it."""
    may_read = await readable_by(db, who)
    found = await run(
        db, lineage.impact_of_archiving, db, f"{namespace}/{name}@{version}", may_read
    )
    return ImpactOut(
        reference=found.reference,
        stage=found.stage,
        aliases=found.aliases,
        consumers=[ConsumerOut.of(c) for c in found.consumers],
        downstream=[AffectedOut.of(a) for a in found.downstream],
        exclusive_stage=found.exclusive_stage,
    )


@router.get(ONE + "/checks", dependencies=[CanRead])
async def get_checks(namespace: str, name: str, version: Number, db: Db) -> list[CheckOut]:
    """The policy checks this capability provides, evaluated now."""
    ref = f"{namespace}/{name}@{version}"
    found = [
        await run(db, provenance.ingredients_complete, db, ref),
        await run(db, lineage.datasets_not_revoked, db, ref),
        await run(db, cards.card_present, db, ref),
    ]
    return [CheckOut(**c.__dict__) for c in found]


@router.get(MODEL + "/consumers", dependencies=[CanRead])
async def list_consumers(namespace: str, name: str, db: Db) -> list[ConsumerOut]:
    found = await run(db, consumers.list_consumers, db, namespace, name)
    return [ConsumerOut.of(c) for c in found]


@router.put(MODEL + "/consumers/{consumer}", dependencies=[CanWrite])
async def declare_consumer(
    namespace: str, name: str, consumer: ConsumerName, body: ConsumerIn, db: Db, who: Caller
) -> ConsumerOut:
    """Declare that a service, pipeline or job consumes this model by a reference."""
    found = await run(
        db, consumers.declare, db, who.name, namespace, name, consumer, body.kind,
        body.reference, body.description,
    )  # fmt: skip
    return ConsumerOut.of(found)


@router.delete(MODEL + "/consumers/{consumer}", status_code=204, dependencies=[CanWrite])
async def remove_consumer(
    namespace: str, name: str, consumer: ConsumerName, db: Db, who: Caller
) -> Response:
    await run(db, consumers.remove, db, who.name, namespace, name, consumer)
    return Response(status_code=204)


@router.get("/packages/{package}", dependencies=[SignedIn])
async def package_users(
    package: Annotated[str, Path(max_length=200, examples=["scipy"])],
    db: Db,
    who: Caller,
    specifier: Annotated[
        str | None, Query(max_length=200, description="PEP 440, e.g. <1.11.1", examples=["<1.11"])
    ] = None,
    stage: Annotated[str | None, Query(max_length=32, examples=["production"])] = None,
    include_archived: bool = False,
) -> list[PackageUseOut]:
    """Versions whose recorded environment has the package (in a version range, if given):
    "which production models run a vulnerable SciPy?"."""
    may_read = await readable_by(db, who)
    found = await run(db, packages.users_of, db, package, specifier, stage, include_archived)
    return [PackageUseOut(**u.__dict__) for u in found if may_read(u.reference.split("/")[0])]
