"""SDK: push captures the ingredients (issue 6, acceptance 1 and 3); datasets, lineage,
consumers, metrics, cards and the inventory through the client."""

from __future__ import annotations

import csv
import io
from importlib import metadata
from pathlib import Path

import pytest

from modelyard.client import Client
from modelyard.domain.digests import digest_of
from modelyard.domain.ingredients import DIFF_ARTIFACT, normalise_package
from tests import gitrepo

repo = gitrepo.repo


@pytest.fixture
def trained(repo: Path) -> Path:
    """The repository after training: train.py edited but not committed, a new untracked
    helper, and the model written to outputs/ (inside the repository, untracked)."""
    (repo / "train.py").write_text("lr = 0.02  # tried after the commit\n")
    (repo / "features.py").write_text("WINDOW = 30\n")
    out = repo / "outputs"
    out.mkdir()
    (out / "model.bin").write_bytes(b"\x00trained weights\x00" * 64)
    return out


def test_push_from_a_dirty_repository_records_commit_branch_dirty_diff_and_a_clean_remote(
    client: Client, fraud: str, repo: Path, trained: Path, tmp_path: Path
) -> None:
    version = client.push(trained, fraud, environment=False, cache_dir=tmp_path / "cache")
    code = client.ingredients(version.reference).code
    assert code is not None
    assert code["commit"] == gitrepo.git(repo, "rev-parse", "HEAD")
    assert (code["branch"], code["dirty"]) == ("main", True)
    assert code["remote_url"] == "https://git.example.com/acme/fraud.git"
    # The diff is a file of the version, found by the digest the ingredients record.
    _, manifest = client.manifest(version.reference)
    stored = {a.path: a.digest for a in manifest.artifacts}
    assert stored[DIFF_ARTIFACT] == code["diff_digest"]
    pulled = client.pull(version.reference, tmp_path / "pulled", cache_dir=tmp_path / "cache")
    diff = (pulled / DIFF_ARTIFACT).read_bytes()
    assert digest_of(diff) == code["diff_digest"]
    assert b"+lr = 0.02" in diff
    assert b"+WINDOW = 30" in diff
    assert b"trained weights" not in diff  # the pushed model is not part of the code diff


def test_push_records_the_installed_distributions_of_the_pushing_interpreter(
    client: Client, fraud: str, tmp_path: Path
) -> None:
    (tmp_path / "model.bin").write_bytes(b"weights")
    version = client.push(tmp_path / "model.bin", fraud, cache_dir=tmp_path / "cache")
    env = client.ingredients(version.reference).environment
    assert env is not None
    stored = {p["name"]: p["version"] for p in env["packages"]}
    installed = {normalise_package(d.metadata["Name"]): d.version for d in metadata.distributions()}
    assert stored == installed
    assert "modelyard" in stored


def test_each_part_can_be_given_or_switched_off(
    client: Client, fraud: str, trained: Path, tmp_path: Path
) -> None:
    version = client.push(
        trained,
        fraud,
        code=False,
        environment={"python_version": "3.12.1", "packages": [{"name": "torch", "version": "2.5"}]},
        config={"lr": 0.02},
        data=[{"uri": "s3://lake/train/", "digest": digest_of(b"train")}],
        cache_dir=tmp_path / "cache",
    )
    got = client.ingredients(version.reference)
    assert got.code is None
    assert got.environment is not None
    assert got.environment["packages"] == [{"name": "torch", "version": "2.5"}]
    assert got.config == {"lr": 0.02}
    assert got.completeness.missing == {"code": "not recorded"}
    _, manifest = client.manifest(version.reference)
    assert DIFF_ARTIFACT not in {a.path for a in manifest.artifacts}


def test_datasets_lineage_and_inventory_through_the_sdk(
    client: Client, fraud: str, tmp_path: Path
) -> None:
    data = tmp_path / "customers"
    data.mkdir()
    (data / "part-0.csv").write_text("id,age\n1,40\n")
    registered = client.create_dataset(
        "risk-team/customers@2026-10", path=data, classifications=["pii"], licence="internal"
    )
    assert (registered.size, registered.uri) == (12, data.resolve().as_uri())
    base = client.create_version(fraud)
    (tmp_path / "small.bin").write_bytes(b"small")
    client.create_model("risk-team/fraud-small")
    small = client.push(
        tmp_path / "small.bin",
        "risk-team/fraud-small",
        code=False,
        environment=False,
        derived_from=[base.reference],
        cache_dir=tmp_path / "cache",
    )
    assert client.get_version(small.reference).classifications == []
    client.create_model("risk-team/other")
    trained_on = client.push(
        tmp_path / "small.bin",
        "risk-team/other",
        code=False,
        environment=False,
        data=["risk-team/customers@2026-10"],
        cache_dir=tmp_path / "cache",
    )
    assert client.get_version(trained_on.reference).classifications == ["pii"]
    assert [a.reference for a in client.affected_by("risk-team/customers@2026-10")] == [
        trained_on.reference
    ]
    graph = client.lineage(small.reference, direction="upstream")
    assert {(e.source, e.relation, e.target) for e in graph.edges} == {
        (f"version:{small.reference}", "derived_from", f"version:{base.reference}")
    }
    client.declare_consumer(fraud, "payments-api", "latest")
    assert [c.name for c in client.consumers(fraud)] == ["payments-api"]
    rows = list(csv.DictReader(io.StringIO(client.export_inventory("csv").decode())))
    assert [r["model"] for r in rows] == [
        "risk-team/fraud",
        "risk-team/fraud-small",
        "risk-team/other",
    ]
    assert rows[2]["classifications"] == "pii"
    assert client.revoke_dataset("risk-team/customers@2026-10", "consent withdrawn").revoked
    assert client.get_version(trained_on.reference).revoked_datasets == [
        "risk-team/customers@2026-10"
    ]
    checks = {c.name: c.passed for c in client.checks(trained_on.reference)}
    assert checks["datasets_not_revoked"] is False
