"""The version-creation transaction on SQLite, in this process (no HTTP): CPU per creation and
the pages each one appends to the write-ahead log, by b-tree.

    python benchmarks/create_tx.py                 # 2,000 creations x 3 rounds after 300
    python benchmarks/create_tx.py --n 500 --rounds 5

What it prints:

    cpu     process CPU (user + system) per ``services.versions.create_version`` call, the
            plain creation the server's fast path makes (description and one tag), per round;
            with SQLite's own checkpoints (no background checkpointer here), so a little more
            than the server's share for the same work
    pages   WAL frames per creation over 100 creations (checkpointing off meanwhile), and
            which table or index each frame was a page of (``dbstat``): every b-tree a write
            touches costs at least one page at COMMIT and again at the checkpoint

Scratch databases go to a temporary directory and are removed.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import sqlite3
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from modelyard.db import engine, migrate
from modelyard.db.engine import Database
from modelyard.services import models, namespaces, versions


def _store(path: Path) -> tuple[Database, Callable[[], object]]:
    db = Database.from_url(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    namespaces.create_namespace(db, "admin", "bench")
    models.create_model(db, "admin", "bench", "m")

    def create() -> object:
        return versions.create_version(
            db, "admin", "bench", "m", description="benchmark version", tags={"team": "a"}
        )

    for _ in range(300):
        create()
    return db, create


def cpu(work: Path, n: int, rounds: int) -> list[float]:
    db, create = _store(work / "cpu.db")
    try:
        out = []
        for _ in range(rounds):
            start = time.process_time()
            for _ in range(n):
                create()
            out.append(1e6 * (time.process_time() - start) / n)
        return out
    finally:
        db.dispose()


def pages(work: Path, n: int = 100) -> tuple[float, dict[str, float]]:
    saved = engine.WAL_AUTOCHECKPOINT_PAGES
    engine.WAL_AUTOCHECKPOINT_PAGES = 0  # set on each new connection: keep every frame
    path = work / "pages.db"
    try:
        db, create = _store(path)
    finally:
        engine.WAL_AUTOCHECKPOINT_PAGES = saved
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for _ in range(n):
            create()
        names = dict(raw.execute("SELECT pageno, name FROM dbstat"))
        wal = Path(f"{path}-wal").read_bytes()
    finally:
        raw.close()
        db.dispose()
    size = struct.unpack(">I", wal[8:12])[0]
    frames = [struct.unpack(">I", wal[o : o + 4])[0] for o in range(32, len(wal) - 23, 24 + size)]
    count = collections.Counter(names.get(p, f"page {p}") for p in frames)
    return len(frames) / n, {k: v / n for k, v in sorted(count.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="creations per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="modelyard-create-tx-"))
    try:
        rounds = cpu(work, args.n, args.rounds)
        print(
            f"cpu     {statistics.median(rounds):.0f} µs per creation, median of"
            f" {' '.join(f'{r:.0f}' for r in rounds)}"
        )
        total, by_tree = pages(work)
        print(f"pages   {total:.1f} WAL frames per creation")
        for name, frames in by_tree.items():
            print(f"        {frames:5.2f}  {name}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
