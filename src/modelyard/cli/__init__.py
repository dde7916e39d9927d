"""The ``modelyard`` command line (Typer + rich). Thin: parse, call the SDK or a service, print."""

from __future__ import annotations

import typer

from modelyard.cli import server

app = typer.Typer(
    name="modelyard",
    help="Modelyard: the model registry. Remote commands talk to MODELYARD_URL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(server.serve)
app.add_typer(server.db_app, name="db")


def main() -> None:
    app()
