"""``Client``: the Python SDK for a Modelyard server's ``/api/v1``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType

import httpx

from modelyard.client import _credentials as credentials
from modelyard.client._audit import AuditMixin
from modelyard.client._governance import GovernanceMixin
from modelyard.client._http import DEFAULT_TIMEOUT, Http
from modelyard.client._identity import IdentityMixin
from modelyard.client._lineage import DatasetsMixin, LineageMixin
from modelyard.client._models import ModelsMixin
from modelyard.client._namespaces import NamespacesMixin
from modelyard.client._transfer import TransferMixin
from modelyard.client._versions import VersionsMixin
from modelyard.client._webhooks import WebhooksMixin

DEFAULT_URL = "http://127.0.0.1:8080"


class Client(
    NamespacesMixin,
    ModelsMixin,
    VersionsMixin,
    IdentityMixin,
    TransferMixin,
    DatasetsMixin,
    LineageMixin,
    AuditMixin,
    WebhooksMixin,
    GovernanceMixin,
):
    """A connection to one Modelyard server. Use it as a context manager, or call ``close()``.

    ``token``: the API token to send. ``None`` (the default) takes the one the credentials file
    holds for exactly this ``url`` (``modelyard login URL`` stores it); ``""`` sends none.

    ``transport`` is handed to ``httpx.Client``: tests pass one that drives the app in process.
    Every method returns domain records (``Namespace``, ``Model``, ``Version``, ``Page``) or
    raises a ``ModelyardError`` carrying the server's error code.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if token is None:
            token = credentials.token_for(url, os.environ)
        self._http = Http(url, token, transport, timeout)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, transport: httpx.BaseTransport | None = None
    ) -> Client:
        """A client for ``MODELYARD_URL`` (else the credentials file's default server, else
        ``DEFAULT_URL``) with ``MODELYARD_TOKEN`` (else the token stored for that URL)."""
        env = os.environ if environ is None else environ
        url = env.get("MODELYARD_URL") or credentials.default_url(env) or DEFAULT_URL
        token = env.get("MODELYARD_TOKEN") or credentials.token_for(url, env) or ""
        return cls(url, token=token, transport=transport)

    @property
    def url(self) -> str:
        return self._http.url

    def __repr__(self) -> str:
        return f"Client({self.url!r})"  # never the token

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
