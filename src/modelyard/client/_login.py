"""Password sign-in for the command line: trade a user name and password for an API token."""

from __future__ import annotations

from typing import Any

import httpx

from modelyard.client import _accounts as accounts
from modelyard.client._errors import connection_failed, from_response
from modelyard.client._http import DEFAULT_TIMEOUT, USER_AGENT
from modelyard.domain.accounts import IssuedToken

SESSION_COOKIE = "modelyard_session"


def sign_in(
    url: str,
    name: str,
    password: str,
    token_name: str,
    transport: httpx.BaseTransport | None = None,
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
) -> IssuedToken:
    """Sign in (a short web session), create a token with full rights named ``token_name``,
    sign out. Raises ``UnauthenticatedError`` (LOGIN_FAILED) on a wrong password."""
    base = url.rstrip("/")
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    with httpx.Client(base_url=base, headers=headers, transport=transport, timeout=timeout) as http:
        signed = _post(http, "/api/v1/login", {"name": name, "password": password}, {})
        # The cookie goes back by hand: over plain http to a remote host it is marked Secure,
        # and a cookie jar would rightly keep it to itself.
        session = {
            "Cookie": f"{SESSION_COOKIE}={signed.cookies.get(SESSION_COOKIE, '')}",
            "X-CSRF-Token": str(signed.json()["csrf_token"]),
        }
        http.cookies.clear()
        made = _post(http, "/api/v1/tokens", {"name": token_name}, session)
        _post(http, "/api/v1/logout", None, session)
        return accounts.issued(made.json())


def _post(
    http: httpx.Client, path: str, body: dict[str, Any] | None, headers: dict[str, str]
) -> httpx.Response:
    try:
        response = http.post(path, json=body, headers=headers)
    except httpx.TransportError as exc:
        raise connection_failed(str(http.base_url), exc) from exc
    if response.status_code >= 400:
        raise from_response(response)
    return response
