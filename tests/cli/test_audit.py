"""``modelyard audit list|export|verify|head`` against the real app in process."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import text

from modelyard.client import Client
from modelyard.db.engine import Database
from tests.cli.conftest import Run, fits


def test_list_shows_who_did_what(run: Run, fraud: str) -> None:
    result = run("audit", "list", "--target", "risk-team/fraud*")
    assert result.exit_code == 0, result.output
    assert "alias.set" in result.output
    assert "version.created" in result.output
    assert fits(result.output, 120)
    rows = json.loads(run("audit", "list", "--action", "model.created", "--json").output)
    assert [(r["actor"], r["target"]) for r in rows] == [("admin", "risk-team/fraud")]


def test_export_then_verify_offline_against_the_head(run: Run, fraud: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    assert run("audit", "export", "-o", str(out)).exit_code == 0
    head = run("audit", "head").output.strip()
    ok = run("audit", "verify", "--file", str(out), "--head", head)
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok: ")
    lines = out.read_text().splitlines()
    lines[0] = lines[0].replace('"admin"', '"mallory"', 1)
    out.write_text("\n".join(lines) + "\n")
    broken = run("audit", "verify", "--file", str(out))
    assert broken.exit_code == 1
    assert "BROKEN at event 1 (hash)" in broken.output


def test_verify_on_the_server_reports_a_deleted_row(
    run: Run, sdk: Client, fraud: str, db: Database
) -> None:
    assert run("audit", "verify").exit_code == 0
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    result = run("audit", "verify", "--json")
    assert result.exit_code == 1
    assert json.loads(result.output)["problem"] == "gap"


def test_export_csv_to_stdout(run: Run, fraud: str) -> None:
    result = run("audit", "export", "--format", "csv", "--action", "alias.*")
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("seq,event_id,at,actor")
    assert run("audit", "export", "--format", "xml").exit_code == 2


def test_list_keeps_one_line_per_event_and_every_column(run: Run, sdk: Client) -> None:
    sdk.create_namespace("risk-team", description="[bold red]not markup[/]")
    sdk.create_model("risk-team/fraud", description="x" * 300)
    result = run("audit", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["seq", "at", "actor", "action", "target", "change"]
    assert len(lines) == 1 + 4  # header; admin and token made by the fixture, namespace, model
    assert "not markup" not in result.output  # cut with …, never rendered as markup
    assert "…" in result.output
    assert fits(result.output)
