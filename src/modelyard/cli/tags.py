"""``modelyard tag set|rm``: REF ``ns/name`` tags a model, ``ns/name@REF`` a version."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli import output
from modelyard.cli.options import AsJson
from modelyard.cli.remote import remote
from modelyard.client import Model, Version

app = typer.Typer(help="Tags on models (ns/name) and versions (ns/name@REF).", no_args_is_help=True)

Target = Annotated[
    str,
    typer.Argument(
        metavar="REF", help="ns/name tags the model; ns/name@REF (e.g. @3) tags a version."
    ),
]
Key = Annotated[str, typer.Argument(help="Tag key, e.g. team")]


@app.command("set")
def set_(
    ctx: typer.Context,
    target: Target,
    key: Key,
    value: Annotated[str, typer.Argument(help="Tag value")],
    as_json: AsJson = False,
) -> None:
    """Set (add or replace) a tag."""
    with remote(ctx) as client:
        if "@" in target:
            record: Model | Version = client.set_version_tag(target, key, value)
        else:
            record = client.set_model_tag(target, key, value)
    output.done(record, as_json, f"tagged {_label(record)}: {key}={value}")


@app.command("rm")
def rm(ctx: typer.Context, target: Target, key: Key, as_json: AsJson = False) -> None:
    """Remove a tag."""
    with remote(ctx) as client:
        if "@" in target:
            record: Model | Version = client.remove_version_tag(target, key)
        else:
            record = client.remove_model_tag(target, key)
    output.done(record, as_json, f"removed tag {key} from {_label(record)}")


def _label(record: Model | Version) -> str:
    return record.reference if isinstance(record, Version) else record.full_name
