"""Documentation drift: every setting, error code and CLI command is documented.

docs/errors.md's table of codes is generated from the registry (``domain/errors.py``); the
hand-written example column is kept. When a code is added or changed, regenerate it with

    python -m tests.test_docs

and fill in the example of any new row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import typer.main

from modelyard.cli import app as cli_app
from modelyard.domain.errors import ERROR_CODES
from modelyard.settings import setting_names

DOCS = Path(__file__).resolve().parent.parent / "docs"
START, END = "<!-- error codes: generated from domain/errors.py -->", "<!-- end of error codes -->"
HEADER = "| code | HTTP | meaning | example |\n|---|---|---|---|"
ROW = re.compile(r"^\| `(?P<code>[A-Z0-9_]+)` \| (?P<status>\d{3}) \| .* \| (?P<example>.*) \|$")


def _read(name: str) -> str:
    path = DOCS / name
    assert path.exists(), f"docs/{name} is missing"
    return path.read_text(encoding="utf-8")


def _examples(text: str) -> dict[str, str]:
    return {m["code"]: m["example"] for m in map(ROW.match, text.splitlines()) if m}


def error_table(existing: str) -> str:
    """The generated table, with the examples already written in ``existing``."""
    examples = _examples(existing)
    rows = [
        f"| `{c.code}` | {c.status} | {c.description.replace('|', '/')} | "
        f"{examples.get(c.code, '')} |"
        for c in ERROR_CODES.values()
    ]
    return "\n".join([START, HEADER, *rows, END])


def _table_section(text: str) -> str:
    start, end = text.find(START), text.find(END)
    assert 0 <= start < end, f"docs/errors.md lacks the markers {START!r} … {END!r}"
    return text[start : end + len(END)]


def cli_command_paths(command: click.Command, prefix: str = "modelyard") -> Iterator[str]:
    """Every runnable command, as typed: ``modelyard models create``."""
    # Typer 0.29 vendors click: its groups are typer.core.TyperGroup, not click.Group.
    if not isinstance(command, click.Group | typer.core.TyperGroup):
        yield prefix
        return
    for name, sub in sorted(command.commands.items()):
        if not sub.hidden:
            yield from cli_command_paths(sub, f"{prefix} {name}")


def test_every_setting_is_documented() -> None:
    text = _read("settings.md")
    assert [name for name in setting_names() if f"`{name}`" not in text] == []


def test_every_error_code_is_documented_with_its_status() -> None:
    documented = {
        m["code"]: int(m["status"]) for m in map(ROW.match, _read("errors.md").splitlines()) if m
    }
    assert documented == {code: spec.status for code, spec in ERROR_CODES.items()}


def test_error_table_is_generated_from_the_registry() -> None:
    text = _read("errors.md")
    assert _table_section(text) == error_table(text), "run: python -m tests.test_docs"


def test_every_error_code_has_an_example() -> None:
    examples = _examples(_read("errors.md"))
    assert sorted(code for code in ERROR_CODES if not examples.get(code, "").strip()) == []


def test_every_cli_command_is_documented() -> None:
    text = _read("cli.md")
    commands = list(cli_command_paths(typer.main.get_command(cli_app)))
    assert commands, "the CLI has commands"
    assert [c for c in commands if c not in text] == []


def _regenerate() -> None:
    path = DOCS / "errors.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(_table_section(text), error_table(text)), encoding="utf-8")


if __name__ == "__main__":
    _regenerate()
