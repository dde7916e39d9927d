"""Where remote commands get their SDK client, and how SDK errors reach the terminal.

Commands open a client with ``with remote(ctx) as client:``. The client comes from the factory
in ``ctx.obj`` when one is there (tests pass ``obj=lambda: Client(..., transport=...)`` to
``CliRunner.invoke`` to reach the app in process), else from ``MODELYARD_URL`` and
``MODELYARD_TOKEN``. Any ``ModelyardError`` becomes ``error: CODE: message`` on stderr and
exit code 1; usage errors stay with Typer (exit code 2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer

from modelyard.client import Client, ModelyardError

ClientFactory = Callable[[], Client]


def client_factory(ctx: typer.Context) -> ClientFactory:
    obj = ctx.find_root().obj
    return obj if callable(obj) else Client.from_env


@contextmanager
def remote(ctx: typer.Context) -> Iterator[Client]:
    try:
        with client_factory(ctx)() as client:
            yield client
    except ModelyardError as exc:
        fail(exc.code, exc.message)


def fail(code: str, message: str) -> NoReturn:
    typer.echo(f"error: {code}: {message}", err=True)
    raise typer.Exit(1)
