"""The Modelyard Python SDK: ``Client`` on httpx, typed records, exceptions with server codes.

    from modelyard.client import Client, NotFoundError

    with Client("http://127.0.0.1:8080") as client:
        try:
            v = client.resolve("risk-team/fraud-detector@champion")
        except NotFoundError as e:
            print(e.code)  # ALIAS_NOT_FOUND, MODEL_NOT_FOUND, …

The exception tree is drawn in ``modelyard.client._errors``; docs/sdk.md lists every method.

The names below are imported on first use (PEP 562): ``modelyard serve`` reads the credentials
file (``modelyard.client._credentials``) on a first start and need not load httpx and the SDK.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelyard.client._client import DEFAULT_URL, Client
    from modelyard.client._download import DigestMismatch, UnsafePath
    from modelyard.client._errors import ClientError, ConnectionFailed, UnexpectedResponse
    from modelyard.client._login import sign_in
    from modelyard.domain.accounts import ApiToken, Identity, IssuedToken, Member, User
    from modelyard.domain.comments import Comment
    from modelyard.domain.errors import (
        ConflictError,
        ForbiddenError,
        InvalidInputError,
        ModelyardError,
        NotFoundError,
        PayloadTooLargeError,
        TooManyRequestsError,
        UnauthenticatedError,
        UnavailableError,
    )
    from modelyard.domain.policy import NamespacePolicy, Policy
    from modelyard.domain.records import Model, Namespace, Page, Version
    from modelyard.domain.transitions import ApprovalNeed, CheckOutcome, Transition, Vote
    from modelyard.domain.webhooks import Attempt, CreatedWebhook, Delivery, Webhook

__all__ = [
    "DEFAULT_URL",
    "ApiToken",
    "ApprovalNeed",
    "Attempt",
    "CheckOutcome",
    "Client",
    "ClientError",
    "Comment",
    "ConflictError",
    "ConnectionFailed",
    "CreatedWebhook",
    "Delivery",
    "DigestMismatch",
    "ForbiddenError",
    "Identity",
    "InvalidInputError",
    "IssuedToken",
    "Member",
    "Model",
    "ModelyardError",
    "Namespace",
    "NamespacePolicy",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "Policy",
    "TooManyRequestsError",
    "Transition",
    "UnauthenticatedError",
    "UnavailableError",
    "UnexpectedResponse",
    "UnsafePath",
    "User",
    "Version",
    "Vote",
    "Webhook",
    "sign_in",
]

_WHERE = {
    "DEFAULT_URL": "modelyard.client._client",
    "Client": "modelyard.client._client",
    "DigestMismatch": "modelyard.client._download",
    "UnsafePath": "modelyard.client._download",
    "ClientError": "modelyard.client._errors",
    "ConnectionFailed": "modelyard.client._errors",
    "UnexpectedResponse": "modelyard.client._errors",
    "sign_in": "modelyard.client._login",
    "ApiToken": "modelyard.domain.accounts",
    "Identity": "modelyard.domain.accounts",
    "IssuedToken": "modelyard.domain.accounts",
    "Member": "modelyard.domain.accounts",
    "User": "modelyard.domain.accounts",
    "ConflictError": "modelyard.domain.errors",
    "ForbiddenError": "modelyard.domain.errors",
    "InvalidInputError": "modelyard.domain.errors",
    "ModelyardError": "modelyard.domain.errors",
    "NotFoundError": "modelyard.domain.errors",
    "PayloadTooLargeError": "modelyard.domain.errors",
    "TooManyRequestsError": "modelyard.domain.errors",
    "UnauthenticatedError": "modelyard.domain.errors",
    "UnavailableError": "modelyard.domain.errors",
    "Model": "modelyard.domain.records",
    "Namespace": "modelyard.domain.records",
    "Page": "modelyard.domain.records",
    "Version": "modelyard.domain.records",
    "Attempt": "modelyard.domain.webhooks",
    "CreatedWebhook": "modelyard.domain.webhooks",
    "Delivery": "modelyard.domain.webhooks",
    "Webhook": "modelyard.domain.webhooks",
    "Comment": "modelyard.domain.comments",
    "NamespacePolicy": "modelyard.domain.policy",
    "Policy": "modelyard.domain.policy",
    "ApprovalNeed": "modelyard.domain.transitions",
    "CheckOutcome": "modelyard.domain.transitions",
    "Transition": "modelyard.domain.transitions",
    "Vote": "modelyard.domain.transitions",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_WHERE[name]), name)
    globals()[name] = value  # once found, a plain module attribute
    return value
