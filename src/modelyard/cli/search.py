"""``modelyard search``: models (or, with --versions, versions) across every namespace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import typer

from modelyard.cli import output
from modelyard.cli.options import DEFAULT_LIMIT, Archived, AsJson, Filter, Limit, OrderBy, Text
from modelyard.cli.remote import remote
from modelyard.client import Model, Version


def search(
    ctx: typer.Context,
    filter: Filter = None,
    q: Text = None,
    versions: Annotated[
        bool, typer.Option("--versions", help="Find versions, not models.")
    ] = False,
    order_by: OrderBy = None,
    limit: Limit = DEFAULT_LIMIT,
    archived: Archived = False,
    as_json: AsJson = False,
) -> None:
    """Search with the filter language and free text, e.g. `search --filter "risk = 'high'"`."""
    size = output.page_size(limit)
    with remote(ctx) as client:
        if versions:
            found: Iterator[Model] | Iterator[Version] = client.iter_versions(
                None, filter, q, order_by, size, archived
            )
        else:
            found = client.iter_models(filter, q, order_by, size, archived)
        output.show_first(found, limit, as_json, "versions" if versions else "models")
