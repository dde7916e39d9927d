from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from modelyard.client import Client
from modelyard.domain.digests import digest_of
from modelyard.settings import Settings
from tests.cli.conftest import Run, fits


@pytest.fixture
def model(sdk: Client) -> str:
    sdk.create_namespace("team")
    sdk.create_model("team/m")
    return "team/m"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODELYARD_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def files(root: Path) -> Path:
    (root / "weights").mkdir(parents=True)
    (root / "weights" / "w.bin").write_bytes(b"w" * 2048)
    (root / "config.json").write_bytes(b"{}")
    return root


def test_push_prints_the_new_version_and_nothing_else_when_quiet(
    run: Run, model: str, tmp_path: Path
) -> None:
    result = run("push", str(files(tmp_path / "src")), model, "-d", "first", "-m", "auc=0.9")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("pushed team/m@1 (sha256:")
    assert result.stderr == ""  # no progress bars off a terminal


def test_push_json(run: Run, model: str, tmp_path: Path) -> None:
    result = run("push", str(files(tmp_path / "src")), model, "--json")
    assert json.loads(result.stdout)["reference"] == "team/m@1"


def test_pull_writes_the_files(run: Run, model: str, tmp_path: Path) -> None:
    run("push", str(files(tmp_path / "src")), model)
    result = run("pull", "team/m@1", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"pulled team/m@1 into {tmp_path / 'out'}"
    assert (tmp_path / "out" / "weights" / "w.bin").read_bytes() == b"w" * 2048


def test_ls_shows_sizes_and_digests_in_80_columns(run: Run, model: str, tmp_path: Path) -> None:
    run("push", str(files(tmp_path / "src")), model)
    result = run("ls", "team/m")
    assert result.exit_code == 0, result.output
    assert "team/m@1" in result.stdout
    assert "2.0 KiB" in result.stdout
    assert digest_of(b"{}")[:19] in result.stdout
    assert "weights/w.bin" in result.stdout
    assert fits(result.stdout)
    doc = json.loads(run("ls", "team/m", "--json").stdout)
    assert [(a["path"], a["size"]) for a in doc["artifacts"]] == [
        ("config.json", 2),
        ("weights/w.bin", 2048),
    ]


def test_push_of_a_missing_path_is_an_error(run: Run, model: str, tmp_path: Path) -> None:
    result = run("push", str(tmp_path / "nowhere"), model)
    assert result.exit_code == 1
    assert "error: LOCAL_FILES" in result.stderr


def test_ls_of_an_unknown_version(run: Run, model: str) -> None:
    result = run("ls", "team/m@7")
    assert (result.exit_code, result.stderr.split(":")[1].strip()) == (1, "VERSION_NOT_FOUND")


def test_gc_dry_run_then_gc(
    run: Run, http: httpx.Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = digest_of(b"uploaded, never used")
    assert http.put(f"/api/v1/blobs/{digest}", content=b"uploaded, never used").status_code == 201
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("MODELYARD_GC_GRACE_SECONDS", "0")
    dry = run("gc", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would remove {digest}" in dry.stdout
    assert http.head(f"/api/v1/blobs/{digest}").status_code == 200
    done = json.loads(run("gc", "--json").stdout)
    assert done["blobs"] == [{"digest": digest, "size": 20}]
    assert done["dry_run"] is False
    assert timedelta(seconds=done["grace_seconds"]) == timedelta(0)
    assert http.head(f"/api/v1/blobs/{digest}").status_code == 404
    assert (done["webhook_deliveries"], done["outbox_events"]) == (0, 0)  # none to forget
