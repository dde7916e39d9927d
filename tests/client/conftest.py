from __future__ import annotations

from collections.abc import Iterator

import pytest

from modelyard.client import Client
from tests.support import sync_transport


@pytest.fixture
def client(app, admin_token: str) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """The SDK on the real app, in process, signed in as the global admin."""
    with (
        sync_transport(app) as transport,
        Client("http://modelyard.test", token=admin_token, transport=transport) as c,
    ):
        yield c


@pytest.fixture
def fraud(client: Client) -> str:
    """A namespace ``risk-team`` and a model ``risk-team/fraud``; returns the model's name."""
    client.create_namespace("risk-team")
    client.create_model("risk-team/fraud", description="Card fraud scores", tags={"team": "fraud"})
    return "risk-team/fraud"
