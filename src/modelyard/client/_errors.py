"""The SDK's exceptions. Server errors come back as the very classes the server raised:

    ModelyardError                 code, status, message, details
    ├── NotFoundError              404  MODEL_NOT_FOUND, VERSION_NOT_FOUND, ALIAS_NOT_FOUND, …
    ├── ConflictError              409  MODEL_EXISTS, MODEL_ARCHIVED, CONFLICT, …
    ├── InvalidInputError          400/422  NAME_INVALID, FILTER_INVALID, VALIDATION_FAILED, …
    ├── PayloadTooLargeError       413  PAYLOAD_TOO_LARGE
    ├── UnavailableError           503  DATABASE_UNAVAILABLE
    └── ClientError                raised by the SDK itself, never sent by a server
        ├── ConnectionFailed       CONNECTION_FAILED    no answer: refused, DNS, timeout, reset
        ├── UnexpectedResponse     UNEXPECTED_RESPONSE  an answer that is not Modelyard's JSON
        ├── DigestMismatch         DIGEST_MISMATCH      pulled bytes do not match their digest
        └── UnsafePath             UNSAFE_PATH          a pulled file would land outside dest

Server codes live in the one registry (``modelyard.domain.errors.ERROR_CODES``). A code the
registry does not know (a newer server) raises the base ``ModelyardError`` with that code.
The SDK's own codes are not in the registry: no server ever sends them.
"""

from __future__ import annotations

from typing import Any

import httpx

from modelyard.domain.errors import ModelyardError, error_from_code


class ClientError(ModelyardError):
    """An error the SDK detected on its side; ``status`` is the HTTP status, or 0 without one."""

    CODE = "CLIENT_ERROR"

    def __init__(self, message: str, status: int = 0, **details: Any) -> None:
        # Bypasses ModelyardError.__init__, which admits registry (server) codes only.
        Exception.__init__(self, message)
        self.code = self.CODE
        self.message = message
        self.details: dict[str, Any] = details
        self._status = status

    @property
    def status(self) -> int:
        return self._status


class ConnectionFailed(ClientError):
    """The server did not answer: connection refused, name not resolved, timeout, reset."""

    CODE = "CONNECTION_FAILED"


class UnexpectedResponse(ClientError):
    """The answer is not Modelyard's JSON (a proxy's error page, a URL that is not Modelyard)."""

    CODE = "UNEXPECTED_RESPONSE"


def connection_failed(url: str, exc: httpx.TransportError) -> ConnectionFailed:
    reason = str(exc) or type(exc).__name__
    return ConnectionFailed(f"cannot reach Modelyard at {url}: {reason}", url=url, reason=reason)


def from_response(response: httpx.Response) -> ModelyardError:
    """Rebuild the server's exception from an error response (status >= 400)."""
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        return unexpected(response, "an error without Modelyard's JSON error shape")
    return error_from_code(code, message, details if isinstance(details, dict) else {})


def unexpected(response: httpx.Response, why: str) -> UnexpectedResponse:
    request = response.request
    return UnexpectedResponse(
        f"unexpected answer to {request.method} {request.url}: HTTP {response.status_code}, {why}",
        status=response.status_code,
        url=str(request.url),
        body=response.text[:200],
    )
