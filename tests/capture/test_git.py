"""Code capture from a real git repository (a subprocess git, no mocks)."""

from __future__ import annotations

from pathlib import Path

from modelyard.capture import capture, git_info
from modelyard.domain.digests import digest_of
from tests.gitrepo import git


def test_a_clean_tree_records_commit_branch_and_the_remote_without_credentials(
    repo: Path,
) -> None:
    found = git_info(repo)
    assert found is not None
    assert found.commit == git(repo, "rev-parse", "HEAD")
    assert (found.branch, found.dirty, found.diff) == ("main", False, None)
    assert found.remote_url == "https://git.example.com/acme/fraud.git"


def test_uncommitted_and_untracked_changes_make_the_tree_dirty_with_a_diff(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.02\n")
    (repo / "features.py").write_text("WINDOW = 30\n")
    (repo / "scratch.tmp").write_text("ignored by .gitignore\n")
    found = git_info(repo)
    assert found is not None
    assert found.dirty
    assert found.diff is not None
    diff = found.diff.decode()
    assert "+lr = 0.02" in diff
    assert "+WINDOW = 30" in diff
    assert "scratch.tmp" not in diff


def test_the_diff_applies_to_the_commit_and_rebuilds_the_tree(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").write_text("lr = 0.02\n")
    (repo / "features.py").write_text("WINDOW = 30\n")
    found = git_info(repo)
    assert found is not None
    assert found.diff is not None
    clone = tmp_path / "rebuilt"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", found.commit)
    (tmp_path / "code.diff").write_bytes(found.diff)
    git(clone, "apply", str(tmp_path / "code.diff"))
    assert (clone / "train.py").read_text() == "lr = 0.02\n"
    assert (clone / "features.py").read_text() == "WINDOW = 30\n"


def test_the_pushed_model_inside_the_repository_is_left_out_of_the_diff(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.02\n")
    out = repo / "outputs"
    out.mkdir()
    (out / "model.bin").write_bytes(b"\x00weights" * 100)
    found = git_info(repo, exclude=out)
    assert found is not None
    assert found.diff is not None
    assert b"model.bin" not in found.diff
    assert b"+lr = 0.02" in found.diff


def test_a_large_untracked_file_is_named_not_included(repo: Path) -> None:
    (repo / "data.csv").write_bytes(b"x" * (1024 * 1024 + 1))
    found = git_info(repo)
    assert found is not None
    assert found.diff is not None
    assert found.diff.startswith(b"# modelyard: untracked data.csv (1048577 bytes) not included")


def test_a_directory_outside_any_repository_records_no_code(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert git_info(plain) is None
    assert capture(code=True, environment_=False, pushed=plain).ingredients is None


def test_capture_records_the_diff_digest_of_what_push_stores(repo: Path) -> None:
    (repo / "train.py").write_text("lr = 0.02\n")
    found = capture(code=True, environment_=False, pushed=repo / "outputs")
    assert found.ingredients is not None
    assert found.diff is not None
    assert found.ingredients["code"]["diff_digest"] == digest_of(found.diff)
    assert found.ingredients["code"]["dirty"] is True


def test_explicit_code_is_taken_as_given_with_credentials_stripped(tmp_path: Path) -> None:
    given = {"commit": "abc1234", "remote_url": "https://u:p@h/r.git"}
    found = capture(code=given, environment_=False)
    assert found.ingredients == {"code": {"commit": "abc1234", "remote_url": "https://h/r.git"}}
