"""Data fingerprints: a digest for a local file or directory, the same on every machine.

    file        sha256 of its bytes
    directory   sha256 of its listing, one line per file, sorted by relative POSIX path:
                ``<path>\\t<size>\\t<sha256 of the file>\\n``

Only the names inside the directory and the bytes count: not the directory's own name or
location, timestamps, permissions or the order the filesystem lists entries in. Symbolic links
to files are followed; links to directories are not.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

PIECE = 1024 * 1024


@dataclass(frozen=True)
class Fingerprint:
    digest: str
    size: int  # total bytes
    files: int


def _file_digest(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while piece := f.read(PIECE):
            h.update(piece)
            size += len(piece)
    return h.hexdigest(), size


def _files(root: Path) -> list[tuple[str, Path]]:
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs.sort()
        for name in names:
            path = Path(directory) / name
            if path.is_file():
                found.append((path.relative_to(root).as_posix(), path))
    return sorted(found, key=lambda item: item[0].encode("utf-8", "surrogateescape"))


def fingerprint(path: str | Path) -> Fingerprint:
    root = Path(path)
    if root.is_file():
        hexdigest, size = _file_digest(root)
        return Fingerprint(f"sha256:{hexdigest}", size, 1)
    if not root.is_dir():
        raise FileNotFoundError(f"no such file or directory: {root}")
    listing = hashlib.sha256()
    total = count = 0
    for name, file in _files(root):
        hexdigest, size = _file_digest(file)
        line = f"{name}\t{size}\t{hexdigest}\n"
        listing.update(line.encode("utf-8", "surrogateescape"))
        total, count = total + size, count + 1
    return Fingerprint(f"sha256:{listing.hexdigest()}", total, count)
