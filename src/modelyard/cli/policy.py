"""``modelyard policy show|validate``: the rules of stages, transitions and approvals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from modelyard.cli import output
from modelyard.cli.options import AsJson
from modelyard.cli.remote import remote
from modelyard.domain.policy import Policy, PolicyError
from modelyard.domain.policy_document import dump_yaml, parse_policy
from modelyard.settings import Settings

app = typer.Typer(
    help="The governance policy: stages, transitions, approvals and checks.", no_args_is_help=True
)


@app.command("show")
def show(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Show the policy the server enforces (YAML; --json for scripts)."""
    with remote(ctx) as client:
        policy = client.get_policy()
    _print(policy, as_json)


def _print(policy: Policy, as_json: bool) -> None:
    if as_json:
        output.print_json({"source": policy.source, "policy": policy.to_document()})
    else:
        typer.echo(f"# source: {policy.source}")
        typer.echo(dump_yaml(policy.to_document()), nl=False)


@app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="A policy file (YAML).", dir_okay=False)],
    capacities: Annotated[
        str | None,
        typer.Option(
            help="Reviewer capacities the server defines, comma-separated"
            " [env: MODELYARD_REVIEWER_CAPACITIES; default technical,business,legal]"
        ),
    ] = None,
) -> None:
    """Check a policy file before a server uses it; every mistake is named by its key."""
    settings = Settings.from_env(os.environ, reviewer_capacities=capacities)
    try:
        policy = parse_policy(file.read_text(encoding="utf-8"), str(file))
        policy.check_capacities(settings.capacities)
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    except PolicyError as exc:
        typer.echo(f"{file}: invalid policy", err=True)
        for problem in exc.details["problems"]:
            key = problem["key"] or "(document)"
            typer.echo(f"  {key}: {problem['message']}", err=True)
        raise typer.Exit(1) from None
    stages = ", ".join(f"{s} (exclusive)" if policy.is_exclusive(s) else s for s in policy.stages)
    typer.echo(f"{file}: valid policy; stages {stages}")
