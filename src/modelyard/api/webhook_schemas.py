"""Wire schemas (pydantic) for webhooks and their deliveries."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from modelyard.api.schemas import Text
from modelyard.domain.webhooks import (
    MAX_FILTERS,
    MAX_SECRET_OVERLAP_SECONDS,
    Attempt,
    Delivery,
    Webhook,
)

EVENTS_HELP = "Event types (model.created), prefixes (transition.*) or *; none: every event."
NAMESPACES_HELP = (
    "Only events of these namespaces; none: every namespace and server-wide events (global"
    " admins only)."
)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookCreate(_In):
    url: Text = Field(max_length=2048, examples=["https://ci.example.com/hooks/modelyard"])
    events: list[Text] = Field(
        default_factory=list,
        max_length=MAX_FILTERS,
        description=EVENTS_HELP,
        examples=[["transition.*", "version.created"]],
    )
    namespaces: list[Text] = Field(
        default_factory=list,
        max_length=MAX_FILTERS,
        description=NAMESPACES_HELP,
        examples=[["risk-team"]],
    )
    active: bool = True
    description: Text = Field("", max_length=2000)


class WebhookUpdate(_In):
    url: Text | None = Field(None, max_length=2048)
    events: list[Text] | None = Field(None, max_length=MAX_FILTERS, description=EVENTS_HELP)
    namespaces: list[Text] | None = Field(None, max_length=MAX_FILTERS, description=NAMESPACES_HELP)
    active: bool | None = None
    description: Text | None = Field(None, max_length=2000)


class WebhookOut(BaseModel):
    id: str
    url: str
    description: str
    events: list[str]
    namespaces: list[str]
    active: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    previous_secret_until: datetime | None = Field(
        None,
        description="After a rotation with an overlap: the previous secret also signs until then",
    )

    @classmethod
    def of(cls, hook: Webhook) -> WebhookOut:
        return cls(**hook.__dict__)


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep_previous_seconds: int = Field(
        0,
        ge=0,
        le=MAX_SECRET_OVERLAP_SECONDS,
        description="How long the replaced secret keeps signing next to the new one "
        "(deliveries carry both signatures), so receivers can switch without refusing events; "
        "0 (the default) retires it at once. At most 7 days.",
    )


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(
        description="The signing secret (Standard Webhooks whsec_…), shown this once",
    )


class AttemptOut(BaseModel):
    number: int
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptOut:
        return cls(**attempt.__dict__)


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str
    event_id: str = Field(description="The webhook-id header: the same on every attempt")
    event_type: str
    status: str = Field(description="pending, delivered or dead")
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptOut] = Field(default_factory=list)

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        data = dict(delivery.__dict__)
        data["attempt_log"] = [AttemptOut.of(a) for a in delivery.attempt_log]
        return cls(**data)
