"""Environment, configuration and data capture."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import pytest

from modelyard.capture import config_from, data_ref, environment, fingerprint


def test_environment_lists_every_distribution_of_this_interpreter() -> None:
    env = environment()
    listed = {p["name"].lower(): p["version"] for p in env["packages"]}
    installed = {d.metadata["Name"].lower(): d.version for d in metadata.distributions()}
    assert listed == installed
    assert env["python_version"] == platform.python_version()
    assert env["implementation"] == platform.python_implementation()
    assert env["arch"] == platform.machine()


def test_a_container_image_is_recorded_when_given(monkeypatch: pytest.MonkeyPatch) -> None:
    assert environment("ghcr.io/acme/train:1")["container_image"] == "ghcr.io/acme/train:1"
    monkeypatch.setenv("MODELYARD_CONTAINER_IMAGE", "ghcr.io/acme/train:2")
    assert environment()["container_image"] == "ghcr.io/acme/train:2"


def test_config_from_a_dict_a_json_file_and_a_yaml_file(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"lr": 0.01}))
    (tmp_path / "c.yaml").write_text("lr: 0.01\nlayers: [64, 32]\n")
    assert config_from({"lr": 0.01}) == {"lr": 0.01}
    assert config_from(tmp_path / "c.json") == {"lr": 0.01}
    assert config_from(tmp_path / "c.yaml") == {"lr": 0.01, "layers": [64, 32]}


def test_config_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping"):
        config_from(tmp_path / "c.yaml")


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_directory_fingerprint_depends_on_names_and_bytes_only(tmp_path: Path) -> None:
    files = {"b.csv": b"2", "a/x.csv": b"1", "a/y.csv": b""}
    one = fingerprint(_tree(tmp_path / "one", files))
    two = fingerprint(_tree(tmp_path / "elsewhere" / "two", dict(reversed(files.items()))))
    assert one == two
    assert (one.size, one.files) == (2, 3)
    changed = fingerprint(_tree(tmp_path / "three", {**files, "b.csv": b"3"}))
    renamed = fingerprint(_tree(tmp_path / "four", {**files, "c.csv": files["b.csv"]}))
    assert len({one.digest, changed.digest, renamed.digest}) == 3


def test_file_fingerprint_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    assert fingerprint(tmp_path / "f").digest == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_data_ref_names_local_data_by_digest(tmp_path: Path) -> None:
    (tmp_path / "train.csv").write_bytes(b"a,b\n")
    ref = data_ref(tmp_path / "train.csv", uri="s3://lake/train.csv")
    assert ref == {
        "uri": "s3://lake/train.csv",
        "digest": fingerprint(tmp_path / "train.csv").digest,
        "role": "trained_on",
    }
