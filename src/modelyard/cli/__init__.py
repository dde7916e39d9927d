"""The ``modelyard`` command line (Typer + rich). Thin: parse, call the SDK or a service, print.

``modelyard serve`` is what a server's start-up waits on, so it does not import the other
commands (the SDK, httpx, every command's module): ``main`` sends it to a command-line app
holding ``serve`` alone, with the same options and help. ``push``, ``pull`` and ``ls`` go to
one holding those three, so that pushing an unchanged model is quick. ``app`` (the whole
command line) is built on first use.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

import typer

TRANSFER_COMMANDS = ("push", "pull", "ls")


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        _serve_only()()
    elif sys.argv[1:2] and sys.argv[1] in TRANSFER_COMMANDS:
        _transfer_only()()
    else:
        full_app()()


def _transfer_only() -> typer.Typer:
    """``push``, ``pull`` and ``ls`` alone: a re-push of an unchanged model should cost little
    more than starting Python, not the import of every other command (the audit commands
    alone load SQLAlchemy)."""
    from modelyard.cli import transfer

    app = typer.Typer(name="modelyard", no_args_is_help=True, pretty_exceptions_enable=False)
    for name in TRANSFER_COMMANDS:
        app.command(name)(getattr(transfer, name))

    @app.callback()
    def _group() -> None:
        """Modelyard: the model registry. Remote commands talk to MODELYARD_URL."""

    return app


def _serve_only() -> typer.Typer:
    from modelyard.cli import server

    app = typer.Typer(name="modelyard", no_args_is_help=True, pretty_exceptions_enable=False)
    app.command("serve")(server.serve)

    @app.callback()
    def _group() -> None:
        """Modelyard: the model registry."""  # keeps `serve` a sub-command, as in full_app

    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def full_app() -> typer.Typer:
    from modelyard.cli import (
        aliases,
        audit,
        auth,
        datasets,
        governance,
        inventory,
        lineage,
        models,
        namespaces,
        policy,
        search,
        server,
        tags,
        teams,
        tokens,
        transfer,
        users,
        versions,
        webhooks,
    )

    app = typer.Typer(
        name="modelyard",
        help="Modelyard: the model registry. Remote commands talk to MODELYARD_URL.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.command("serve")(server.serve)
    app.add_typer(server.db_app, name="db")
    app.add_typer(namespaces.app, name="namespaces")
    app.add_typer(models.app, name="models")
    app.add_typer(versions.app, name="versions")
    app.add_typer(aliases.app, name="alias")
    app.add_typer(tags.app, name="tag")
    app.command("search")(search.search)
    app.command("push")(transfer.push)
    app.command("pull")(transfer.pull)
    app.command("ls")(transfer.ls)
    app.command("gc")(transfer.gc)
    app.command("login")(auth.login)
    app.command("logout")(auth.logout)
    app.command("whoami")(auth.whoami)
    app.add_typer(users.app, name="users")
    app.add_typer(teams.app, name="teams")
    app.add_typer(tokens.app, name="tokens")
    app.add_typer(datasets.app, name="datasets")
    app.command("ingredients")(lineage.ingredients)
    app.command("lineage")(lineage.lineage)
    app.command("impact")(lineage.impact)
    app.command("card")(lineage.card)
    app.command("metrics")(lineage.metrics)
    app.command("packages")(lineage.packages)
    app.add_typer(inventory.consumers_app, name="consumers")
    app.add_typer(inventory.inventory_app, name="inventory")
    app.add_typer(audit.app, name="audit")
    app.add_typer(webhooks.app, name="webhooks")
    app.add_typer(policy.app, name="policy")
    app.command("promote")(governance.promote)
    app.command("approve")(governance.approve)
    app.command("reject")(governance.reject)
    app.command("rollback")(governance.rollback)
    app.add_typer(governance.transitions_app, name="transitions")
    app.add_typer(governance.risk_app, name="risk")
    app.add_typer(governance.comment_app, name="comment")
    return app
