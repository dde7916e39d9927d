"""CLI tests run the Typer app with CliRunner against the real app in process.

The client factory goes in through ``obj`` (see ``modelyard.cli.remote``): no port, no mock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner, Result

from modelyard.cli import app as cli_app
from modelyard.client import Client
from tests.support import sync_transport

Run = Callable[..., Result]


@pytest.fixture
def sdk(app, admin_token: str) -> Iterator[Client]:  # type: ignore[no-untyped-def]
    """The SDK on the same app, to arrange what a test needs (as the global admin)."""
    with (
        sync_transport(app) as transport,
        Client("http://modelyard.test", token=admin_token, transport=transport) as c,
    ):
        yield c


@pytest.fixture
def run(app, admin_token: str) -> Iterator[Run]:  # type: ignore[no-untyped-def]
    """``run("models", "list")`` -> the CliRunner result, signed in as the global admin."""
    runner = CliRunner()
    with sync_transport(app) as transport:

        def factory() -> Client:
            return Client("http://modelyard.test", token=admin_token, transport=transport)

        def invoke(*args: str) -> Result:
            return runner.invoke(cli_app, list(args), obj=factory)

        yield invoke


@pytest.fixture
def fraud(sdk: Client) -> str:
    """``risk-team/fraud`` with two versions; version 1 is ``@champion``."""
    sdk.create_namespace("risk-team", description="Risk models")
    sdk.create_model("risk-team/fraud", description="Card fraud scores", tags={"team": "fraud"})
    sdk.create_version("risk-team/fraud", description="first cut", metrics={"auc": 0.91})
    sdk.create_version("risk-team/fraud", description="second cut")
    sdk.set_alias("risk-team/fraud", "champion", 1)
    return "risk-team/fraud"


def fits(text: str, width: int = 80) -> bool:
    return all(len(line) <= width for line in text.splitlines())
