"""A real git repository for capture and push tests (subprocess git, no mocks)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository on branch ``main`` with one commit of ``train.py`` and an ``origin``
    remote whose URL carries a user and password. No global or system git config is read."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    root = tmp_path / "fraud-model"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ds@example.com")
    git(root, "config", "user.name", "Data Scientist")
    (root / "train.py").write_text("lr = 0.01\n")
    (root / ".gitignore").write_text("*.tmp\n")
    git(root, "add", "train.py", ".gitignore")
    git(root, "commit", "-q", "-m", "first")
    git(root, "remote", "add", "origin", "https://alice:s3cret@git.example.com/acme/fraud.git")
    return root
