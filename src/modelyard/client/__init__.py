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
from modelyard.domain.errors import (
    ConflictError,
    InvalidInputError,
    ModelyardError,
    NotFoundError,
    PayloadTooLargeError,
    UnavailableError,
)
from modelyard.domain.records import Model, Namespace, Page, Version

__all__ = [
    "DEFAULT_URL",
    "Client",
    "ClientError",
    "ConflictError",
    "ConnectionFailed",
    "DigestMismatch",
    "InvalidInputError",
    "Model",
    "ModelyardError",
    "Namespace",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "UnavailableError",
    "UnexpectedResponse",
    "UnsafePath",
    "Version",
]
