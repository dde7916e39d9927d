"""The capture options of ``modelyard push`` and how they become ``Client.push`` arguments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

NoCode = Annotated[bool, typer.Option("--no-code", help="Record no code ingredient.")]
CodeFrom = Annotated[
    Path | None,
    typer.Option("--code-from", help="The git repository (default: the one PATH lies in)."),
]
NoEnvironment = Annotated[
    bool, typer.Option("--no-environment", help="Record no environment ingredient.")
]
ContainerImage = Annotated[
    str | None, typer.Option("--container-image", help="The image it was trained in.")
]
Config = Annotated[
    Path | None, typer.Option("--config", help="Hyperparameters: a JSON or YAML file.")
]
Data = Annotated[
    list[str] | None,
    typer.Option("--data", help="A dataset NS/NAME@VERSION it was trained on; repeat."),
]
EvalData = Annotated[
    list[str] | None,
    typer.Option("--eval-data", help="A dataset NS/NAME@VERSION it was evaluated on; repeat."),
]
DerivedFrom = Annotated[
    list[str] | None,
    typer.Option("--derived-from", help="A version it was fine-tuned or distilled from."),
]
DependsOn = Annotated[
    list[str] | None,
    typer.Option("--depends-on", help="A version it needs (ensemble member, tokenizer)."),
]
Card = Annotated[
    Path | None, typer.Option("--card", help="The model card's text: a markdown file.")
]


def push_arguments(
    no_code: bool,
    code_from: Path | None,
    no_environment: bool,
    container_image: str | None,
    config: Path | None,
    data: list[str] | None,
    eval_data: list[str] | None,
    derived_from: list[str] | None,
    depends_on: list[str] | None,
    card: Path | None,
) -> dict[str, Any]:
    uses = [{"dataset": d, "role": "trained_on"} for d in data or []]
    uses += [{"dataset": d, "role": "evaluated_on"} for d in eval_data or []]
    return {
        "code": False if no_code else (code_from or True),
        "environment": not no_environment,
        "container_image": container_image,
        "config": config,
        "data": uses or None,
        "derived_from": derived_from or (),
        "depends_on": depends_on or (),
        "card": card.read_text(encoding="utf-8") if card is not None else None,
    }
