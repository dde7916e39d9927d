"""Options shared by several commands, and the parsing of ``KEY=VALUE`` arguments."""

from __future__ import annotations

from typing import Annotated

import typer

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts (nothing else).")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=10000, help="Show at most this many.")]
Filter = Annotated[
    str | None,
    typer.Option("--filter", "-f", help="Filter, e.g. \"risk >= 'medium' AND tags.team = 'x'\"."),
]
Text = Annotated[
    str | None, typer.Option("--q", "-q", help="Free text over names, descriptions, tags.")
]
OrderBy = Annotated[str | None, typer.Option("--order-by", help="e.g. 'updated_at DESC, name'.")]
Archived = Annotated[bool, typer.Option("--archived", help="Include archived ones.")]
Description = Annotated[
    str | None, typer.Option("--description", "-d", help="Description (markdown).")
]
Tags = Annotated[
    list[str] | None, typer.Option("--tag", "-t", help="A tag KEY=VALUE; repeat for more.")
]
ModelName = Annotated[str, typer.Argument(metavar="NAMESPACE/NAME", help="A model.")]
Reference = Annotated[
    str,
    typer.Argument(
        metavar="NAMESPACE/NAME@REF",
        help="A version: REF is a number, alias, stage or latest.",
    ),
]

DEFAULT_LIMIT = 50


def key_values(pairs: list[str] | None, option: str) -> dict[str, str]:
    """``["a=1", "b=2"]`` -> ``{"a": "1", "b": "2"}``; a pair without ``=`` is a usage error."""
    result: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint=option)
        result[key] = value
    return result


def numbers(pairs: list[str] | None, option: str) -> dict[str, float]:
    """``["auc=0.91"]`` -> ``{"auc": 0.91}``; a value that is not a number is a usage error."""
    result: dict[str, float] = {}
    for key, value in key_values(pairs, option).items():
        try:
            result[key] = float(value)
        except ValueError:
            raise typer.BadParameter(
                f"{key}: {value!r} is not a number", param_hint=option
            ) from None
    return result
