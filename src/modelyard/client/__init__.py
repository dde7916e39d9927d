"""The Modelyard Python SDK: ``Client`` on httpx, typed records, exceptions with server codes.

    from modelyard.client import Client, NotFoundError

    with Client("http://127.0.0.1:8080") as client:
        try:
            v = client.resolve("risk-team/fraud-detector@champion")
        except NotFoundError as e:
            print(e.code)  # ALIAS_NOT_FOUND, MODEL_NOT_FOUND, …

The exception tree is drawn in ``modelyard.client._errors``; docs/sdk.md lists every method.
"""

from __future__ import annotations

from modelyard.client._client import DEFAULT_URL, Client
from modelyard.client._download import DigestMismatch, UnsafePath
from modelyard.client._errors import ClientError, ConnectionFailed, UnexpectedResponse
from modelyard.client._login import sign_in
from modelyard.domain.accounts import ApiToken, Identity, IssuedToken, Member, User
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
from modelyard.domain.records import Model, Namespace, Page, Version
from modelyard.domain.webhooks import Attempt, CreatedWebhook, Delivery, Webhook

__all__ = [
    "DEFAULT_URL",
    "ApiToken",
    "Attempt",
    "Client",
    "ClientError",
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
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "TooManyRequestsError",
    "UnauthenticatedError",
    "UnavailableError",
    "UnexpectedResponse",
    "UnsafePath",
    "User",
    "Version",
    "Webhook",
    "sign_in",
]
