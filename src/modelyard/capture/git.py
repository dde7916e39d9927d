"""Code: the git commit a model was built from, captured where the training code lives.

    commit      ``git rev-parse HEAD``
    branch      ``git rev-parse --abbrev-ref HEAD`` ('' when detached)
    remote_url  the ``origin`` remote (else the first one), user, password, query stripped
    dirty       uncommitted changes to tracked files, or untracked files not ignored
    diff        those changes as one patch: ``git diff HEAD --binary`` plus each untracked
                file as a new-file diff; push stores it as ``.modelyard/code.diff``. The
                model being pushed is left out when it lies inside the repository.

Git is run as a subprocess (no library), read-only: nothing here changes the repository, its
index or its configuration. No git, or not a repository: ``None``.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from modelyard.domain.ingredients import strip_credentials

TIMEOUT = 60
MAX_UNTRACKED = 1024 * 1024  # an untracked file larger than this is named, not included


@dataclass(frozen=True)
class CodeCapture:
    commit: str
    branch: str
    remote_url: str
    dirty: bool
    diff: bytes | None  # the uncommitted changes when dirty

    def to_dict(self, diff_digest: str | None = None) -> dict[str, object]:
        return {
            "commit": self.commit,
            "branch": self.branch,
            "remote_url": self.remote_url,
            "dirty": self.dirty,
            "diff_digest": diff_digest,
        }


class GitError(RuntimeError):
    pass


def _git(repo: Path, *args: str, ok: tuple[int, ...] = (0,)) -> bytes:
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed")
    done = subprocess.run(  # noqa: S603 - fixed program, arguments are not from a shell
        [git, "-C", str(repo), *args], capture_output=True, timeout=TIMEOUT, check=False
    )
    if done.returncode not in ok:
        raise GitError(done.stderr.decode("utf-8", "replace").strip())
    return done.stdout


def _text(repo: Path, *args: str) -> str:
    return _git(repo, *args).decode("utf-8", "replace").strip()


def git_info(path: str | Path = ".", exclude: str | Path | None = None) -> CodeCapture | None:
    """The repository holding ``path``, or None when there is none (or git is missing).
    ``exclude``: a file or directory left out of the diff (the model being pushed, when it
    was written inside the repository)."""
    repo = Path(path).resolve()
    repo = repo if repo.is_dir() else repo.parent
    try:
        commit = _text(repo, "rev-parse", "HEAD")
    except GitError:
        return None
    branch = _text(repo, "rev-parse", "--abbrev-ref", "HEAD")
    top = Path(_text(repo, "rev-parse", "--show-toplevel"))
    diff = _diff(top, _inside(top, exclude))
    return CodeCapture(
        commit=commit,
        branch="" if branch == "HEAD" else branch,
        remote_url=_remote(repo),
        dirty=bool(diff),
        diff=diff or None,
    )


def _remote(repo: Path) -> str:
    remotes = _text(repo, "remote").split()
    if not remotes:
        return ""
    name = "origin" if "origin" in remotes else remotes[0]
    return strip_credentials(_text(repo, "remote", "get-url", name))


def _inside(top: Path, exclude: str | Path | None) -> str | None:
    """``exclude`` relative to the top of the repository, if it lies inside it."""
    if exclude is None:
        return None
    try:
        return Path(exclude).resolve().relative_to(top).as_posix()
    except ValueError:
        return None


def _diff(top: Path, exclude: str | None) -> bytes:
    """Tracked changes (staged or not) against HEAD, then untracked files as new files.
    Untracked files over ``MAX_UNTRACKED`` bytes (data, weights) are named in a note at the
    top instead: a code diff is no place for them, and git apply skips text before a diff."""
    spec = ["--", ".", f":(exclude){exclude}"] if exclude and exclude != "." else []
    patch = _git(top, "diff", "HEAD", "--binary", "--no-color", "--no-ext-diff", *spec)
    notes = b""
    for name in _untracked(top, exclude):
        size = (top / name).stat().st_size
        if size > MAX_UNTRACKED:
            notes += f"# modelyard: untracked {name} ({size} bytes) not included\n".encode()
            continue
        # --no-index exits 1 when the files differ, which is always the case here.
        patch += _git(
            top, "diff", "--binary", "--no-color", "--no-index", "--", "/dev/null", name,
            ok=(0, 1),
        )  # fmt: skip
    return notes + patch if patch or notes else b""


def _untracked(top: Path, exclude: str | None) -> list[str]:
    raw = _git(top, "ls-files", "--others", "--exclude-standard", "-z").split(b"\0")
    names = sorted(n.decode("utf-8", "surrogateescape") for n in raw if n)
    if not exclude or exclude == ".":
        return names if exclude is None else []
    return [n for n in names if n != exclude and not n.startswith(exclude + "/")]
