"""CLI: datasets, push with capture options, lineage, consumers, metrics, cards, packages and
the inventory export, through CliRunner on the real app."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from modelyard.client import Client
from tests.cli.conftest import Run


def test_datasets_commands_register_list_revoke_and_find_affected(
    run: Run, sdk: Client, fraud: str, tmp_path: Path
) -> None:
    (tmp_path / "part-0.csv").write_text("id\n1\n")
    created = run(
        "datasets", "create", "risk-team/customers@2026-10", "--path", str(tmp_path),
        "-c", "pii", "--licence", "internal",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "registered risk-team/customers@2026-10" in created.output
    listed = run("datasets", "list", "-c", "pii")
    assert "risk-team/customers@2026-10" in listed.output
    model = tmp_path / "model.bin"
    model.write_bytes(b"weights")
    pushed = run(
        "push", str(model), fraud, "--no-code", "--no-environment",
        "--data", "risk-team/customers@2026-10", "--json",
    )  # fmt: skip
    assert pushed.exit_code == 0, pushed.output
    reference = json.loads(pushed.output)["reference"]
    assert json.loads(pushed.output)["classifications"] == ["pii"]
    affected = run("datasets", "affected", "risk-team/customers@2026-10", "--json")
    assert [a["reference"] for a in json.loads(affected.output)] == [reference]
    revoked = run("datasets", "revoke", "risk-team/customers@2026-10", "--reason", "consent")
    assert "1 versions flagged" in revoked.output
    shown = run("datasets", "show", "risk-team/customers@2026-10")
    assert "revoked: consent" in shown.output


def test_push_capture_options_and_what_the_version_records(
    run: Run, sdk: Client, fraud: str, tmp_path: Path
) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    (tmp_path / "config.yaml").write_text("lr: 0.02\n")
    (tmp_path / "CARD.md").write_text("## Intended use\n\nTriage.\n")
    result = run(
        "push", str(tmp_path / "model.bin"), fraud, "--no-code", "--config",
        str(tmp_path / "config.yaml"), "--derived-from", f"{fraud}@1", "--card",
        str(tmp_path / "CARD.md"), "--container-image", "ghcr.io/acme/train:1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shown = run("ingredients", f"{fraud}@3")
    assert "missing code: not recorded" in shown.output
    assert "config: 1 keys" in shown.output
    lineage = run("lineage", f"{fraud}@3", "--direction", "upstream")
    assert "derived_from" in lineage.output
    card = run("card", f"{fraud}@3")
    assert "## Intended use" in card.output
    assert "ghcr.io/acme/train:1" in card.output
    metrics = run("metrics", fraud, "--names", "auc", "--json")
    assert json.loads(metrics.output)[0]["metrics"][0]["value"] == 0.91
    packages = run("packages", "typer", "--json")
    assert [u["reference"] for u in json.loads(packages.output)] == [f"{fraud}@3"]


def test_consumers_pull_and_inventory_export(
    run: Run, sdk: Client, fraud: str, tmp_path: Path
) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    run("push", str(tmp_path / "model.bin"), fraud, "--no-code", "--no-environment")
    declared = run("consumers", "declare", fraud, "payments-api", "latest")
    assert "payments-api consumes risk-team/fraud@latest" in declared.output
    pulled = run("pull", f"{fraud}@latest", str(tmp_path / "out"), "--consumer", "payments-api")
    assert pulled.exit_code == 0, pulled.output
    listed = run("consumers", "list", fraud)
    assert "(v3)" in listed.output
    impact = run("impact", f"{fraud}@3")
    assert "consumers: payments-api" in impact.output
    out = tmp_path / "inventory.csv"
    exported = run("inventory", "export", "--format", "csv", "--output", str(out))
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["model"], r["consumers"]) for r in rows] == [
        (fraud, "payments-api (risk-team/fraud@latest)")
    ]
    as_json = run("inventory", "export", "--filter", "name = 'nothing'")
    assert json.loads(as_json.stdout)["count"] == 0
