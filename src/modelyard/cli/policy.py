"""``modelyard policy show|validate``: the rules of stages, transitions and approvals."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from modelyard.cli import output
from modelyard.cli.options import AsJson
from modelyard.cli.remote import remote
from modelyard.domain.policy import NamespacePolicy, Policy, PolicyError
from modelyard.domain.policy_document import dump_yaml, parse_policy
from modelyard.settings import Settings

app = typer.Typer(
    help="The governance policy: stages, transitions, approvals and checks.", no_args_is_help=True
)


Namespace = Annotated[str, typer.Argument(help="A namespace.")]


@app.command("show")
def show(
    ctx: typer.Context,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="The policy in force in this namespace."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show the policy the server enforces, or a namespace's (YAML; --json for scripts)."""
    with remote(ctx) as client:
        if namespace is None:
            _print(client.get_policy(), as_json)
            return
        found = client.get_namespace_policy(namespace)
    _print_namespace(found, as_json)


def _print_namespace(found: NamespacePolicy, as_json: bool) -> None:
    override = found.override.to_document() if found.override else None
    if as_json:
        output.print_json(
            {"namespace": found.namespace, "override": override,
             "effective": found.effective.to_document()}
        )  # fmt: skip
        return
    if override is None:
        typer.echo(f"# namespace {found.namespace}: no override; the server's policy applies")
    else:
        typer.echo(f"# namespace {found.namespace} adds (set by {found.updated_by}):")
        typer.echo("\n".join("#   " + line for line in dump_yaml(override).splitlines()))
    typer.echo(f"# in force in {found.namespace}:")
    typer.echo(dump_yaml(found.effective.to_document()), nl=False)


@app.command("set")
def set_(
    ctx: typer.Context,
    namespace: Namespace,
    file: Annotated[Path, typer.Argument(help="The override (YAML): transitions, requirements.")],
    as_json: AsJson = False,
) -> None:
    """Tighten the server's policy in a namespace (maintainers); loosening is refused."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    with remote(ctx) as client:
        found = client.set_namespace_policy(namespace, text)
    if as_json:
        _print_namespace(found, True)
    else:
        typer.echo(f"set the policy override of {namespace}")


@app.command("reset")
def reset(ctx: typer.Context, namespace: Namespace) -> None:
    """Drop a namespace's override: the server's policy applies there again."""
    with remote(ctx) as client:
        client.remove_namespace_policy(namespace)
    typer.echo(f"{namespace} follows the server's policy")


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
