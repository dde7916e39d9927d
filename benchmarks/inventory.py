"""Inventory export of 10,000 models on SQLite and PostgreSQL (issue 6: <= 5 s on each).

    python benchmarks/inventory.py                      # 10,000 models, both databases
    python benchmarks/inventory.py --models 2000        # a quicker run
    python benchmarks/inventory.py --databases sqlite   # one database

For each database the script migrates a fresh database, seeds it with direct Core inserts
(what a registry of that size holds: namespaces with maintainers, models with tags, three
versions each in development, staging, production and archived, registered datasets with
classifications, training and evaluation data, derived_from and depends_on links, ingredients
with ten packages per version, metrics, consumers), starts ``modelyard serve`` on 127.0.0.1 and
times, three times each, median (min-max):

    service   inventory() + rendering in this process (no HTTP): where the time goes
    http      GET /api/v1/inventory?format=… through the running server
    cli       ``modelyard inventory export --format … -o FILE`` as a subprocess (what a user
              runs: Python start-up, the request, writing the file)

The figure the issue asks about is ``cli`` (and ``http``). Scratch data goes to
benchmarks/.work/; PostgreSQL uses the database ``modelyard_bench_inventory`` on
127.0.0.1:5432 (dropped and created anew; override with --postgres-url).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, Table, create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

from modelyard.db import migrate
from modelyard.db import tables as t
from modelyard.db.engine import Database
from modelyard.db.types import utcnow
from modelyard.domain.access import parse_scopes
from modelyard.domain.inventory import render
from modelyard.services import inventory, tokens, users

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
RESULTS = HERE / "results"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/modelyard_bench_inventory"
FORMATS = ("json", "csv", "html")
STAGES = ("development", "staging", "production")
CLASSES = ("pii", "special-category", "confidential", "public")
PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn", "torch", "xgboost", "lightgbm",
            "pyarrow", "requests", "pydantic")  # fmt: skip
TARGET_S = 5.0


def table(row_class: type[t.Base]) -> Table:
    return row_class.__table__  # type: ignore[return-value]


# --------------------------------------------------------------------------------- seeding


class Seed:
    """Rows for ``models`` models, built in memory, inserted table by table."""

    def __init__(self, models: int, rng: random.Random) -> None:
        self.n, self.rng, self.now = models, rng, utcnow()
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.namespaces = [f"team-{i:03d}" for i in range(max(1, models // 100))]
        self.ns_ids = {name: uuid.uuid4() for name in self.namespaces}

    def add(self, row_class: type[t.Base], **values: Any) -> None:
        self.rows.setdefault(row_class.__tablename__, []).append(values)

    def build(self) -> None:
        self._teams()
        datasets = self._datasets()
        served = [self._model(i, datasets) for i in range(self.n)]
        self._links(served)

    def _stamp(self) -> dict[str, Any]:
        return {"created_by": "bench", "created_at": self.now, "updated_at": self.now}

    def _teams(self) -> None:
        for i, name in enumerate(self.namespaces):
            self.add(t.NamespaceRow, id=self.ns_ids[name], name=name, description="",
                     visibility="internal", archived_at=None, **self._stamp())  # fmt: skip
            for j in range(2):
                user_id = uuid.uuid4()
                self.add(t.UserRow, id=user_id, name=f"owner-{i}-{j}", kind="user",
                         display_name="", email="", is_admin=False, password_hash=None,
                         owner_namespace_id=None, disabled_at=None, **self._stamp())  # fmt: skip
                self.add(t.MembershipRow, namespace_id=self.ns_ids[name], user_id=user_id,
                         role="maintainer", **self._stamp())  # fmt: skip

    def _datasets(self) -> list[uuid.UUID]:
        ids = []
        for i in range(max(10, self.n // 10)):
            dataset_id, ns = uuid.uuid4(), self.namespaces[i % len(self.namespaces)]
            self.add(t.DatasetRow, id=dataset_id, namespace_id=self.ns_ids[ns], namespace=ns,
                     name=f"data-{i}", version="2026-10", uri=f"s3://lake/data-{i}/",
                     digest=None, size=None, owner="bench", licence="internal", description="",
                     status="revoked" if i % 97 == 0 else "active",
                     revoked_reason="consent" if i % 97 == 0 else "", revoked_at=None,
                     revoked_by="", **self._stamp())  # fmt: skip
            self.add(t.DatasetClassificationRow, dataset_id=dataset_id,
                     classification=CLASSES[i % len(CLASSES)])  # fmt: skip
            ids.append(dataset_id)
        return ids

    def _model(self, i: int, datasets: list[uuid.UUID]) -> uuid.UUID:
        """A model with three versions; returns the id of its production version."""
        model_id, ns = uuid.uuid4(), self.namespaces[i % len(self.namespaces)]
        self.add(t.ModelRow, id=model_id, namespace_id=self.ns_ids[ns], namespace=ns,
                 name=f"model-{i:05d}", description=f"model {i}",
                 risk_level=("low", "medium", "high", "unassessed")[i % 4], risk_reason="",
                 version_counter=3, archived_at=None, updated_by="bench",
                 **self._stamp())  # fmt: skip
        self.add(t.ModelTagRow, model_id=model_id, key="team", value=ns)
        self.add(t.ModelTagRow, model_id=model_id, key="domain", value=f"d{i % 7}")
        if i % 3 == 0:
            self.add(t.ConsumerRow, id=uuid.uuid4(), model_id=model_id, name=f"svc-{i % 50}",
                     kind="service", reference=f"{ns}/model-{i:05d}@production",
                     description="", declared_by="bench", created_at=self.now,
                     last_seen_at=self.now, last_version=2)  # fmt: skip
        ids = [self._version(model_id, ns, i, n, datasets) for n in (1, 2, 3)]
        return ids[1]

    def _version(
        self, model_id: uuid.UUID, ns: str, i: int, number: int, datasets: list[uuid.UUID]
    ) -> uuid.UUID:
        vid = uuid.uuid4()
        stage = "archived" if number == 1 else STAGES[(number + 1) % 3]
        self.add(t.VersionRow, id=vid, model_id=model_id, number=number, namespace=ns,
                 model_name=f"model-{i:05d}", description="", stage=stage, status="ready",
                 metrics={"auc": 0.8}, manifest_digest=None,
                 archived_at=self.now if number == 1 else None, **self._stamp())  # fmt: skip
        trained, evaluated = self.rng.sample(datasets, 2)
        for position, (relation, dataset_id) in enumerate(
            (("trained_on", trained), ("evaluated_on", evaluated))
        ):
            self.add(t.DataEdgeRow, version_id=vid, position=position, relation=relation,
                     dataset_id=dataset_id, uri="", digest=None)  # fmt: skip
        complete = (i + number) % 5 != 0
        self.add(t.IngredientsRow, version_id=vid, code={"commit": "a" * 40},
                 environment={"python_version": "3.11.7"}, config={"lr": 0.01},
                 code_commit="a" * 40, has_code=True, has_environment=True, has_config=True,
                 has_data=complete, complete=complete,
                 missing={} if complete else {"data": "not recorded"})  # fmt: skip
        for p in PACKAGES:
            self.add(t.PackageRow, version_id=vid, name=p, version=f"1.{number}.{i % 9}")
        for name, value in (("auc", 0.8), ("f1", 0.7)):
            self.add(t.MetricRow, version_id=vid, name=name, dataset="", split="", value=value)
        return vid

    def _links(self, production: list[uuid.UUID]) -> None:
        for i, vid in enumerate(production):
            if i % 5 == 0 and i:
                self.add(t.VersionEdgeRow, version_id=vid, relation="derived_from",
                         upstream_id=production[i - 1])  # fmt: skip
            if i % 10 == 1:
                self.add(t.VersionEdgeRow, version_id=vid, relation="depends_on",
                         upstream_id=production[i - 1])  # fmt: skip

    def insert(self, engine: Engine, batch: int = 5000) -> int:
        total = 0
        with engine.begin() as conn:
            for tbl in t.Base.metadata.sorted_tables:
                rows = self.rows.get(tbl.name, [])
                for start in range(0, len(rows), batch):
                    conn.execute(insert(tbl), rows[start : start + batch])
                total += len(rows)
        return total


# ------------------------------------------------------------------------------ databases


@contextmanager
def database(kind: str, pg_url: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        path = work / "sqlite" / "modelyard.db"
        shutil.rmtree(path.parent, ignore_errors=True)
        path.parent.mkdir(parents=True)
        yield f"sqlite:///{path}"
        return
    url = make_url(pg_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, models: int) -> tuple[dict[str, float], str]:
    """Migrate, seed and make an admin token; returns (timings, token)."""
    engine = create_engine(url)
    t0 = time.perf_counter()
    migrate.upgrade(engine)
    t1 = time.perf_counter()
    seed = Seed(models, random.Random(6))
    seed.build()
    rows = seed.insert(engine)
    t2 = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    db = Database.from_url(url)
    users.create_user(db, "bench", "bench-admin", None, admin=True)
    token = tokens.issue_token(db, "bench", "bench-admin", "bench", parse_scopes(None), None)
    db.dispose()
    return {"migrate_s": t1 - t0, "seed_s": t2 - t1, "rows": rows}, token.secret


# ------------------------------------------------------------------------------- timings


def timed(
    fn: Callable[[], Any], repeats: int, cpu: Callable[[], float] = time.process_time
) -> dict[str, Any]:
    """Wall time, and the CPU seconds ``cpu`` counts (this process, the server's process tree
    or the CLI children): on a shared machine the CPU figure is the steadier one, and the
    export is single-threaded, so on an idle machine wall time is about that CPU time."""
    runs, cpus = [], []
    for _ in range(repeats):
        c0, t0 = cpu(), time.perf_counter()
        size = fn()
        runs.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    return {"median_s": statistics.median(runs), "min_s": min(runs), "max_s": max(runs),
            "cpu_median_s": statistics.median(cpus), "runs_s": runs, "cpu_s": cpus,
            "bytes": size, "loadavg_1m": os.getloadavg()[0]}  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(url: str, token: str, work: Path, repeats: int) -> dict[str, Any]:
    db = Database.from_url(url)
    out: dict[str, Any] = {}
    entries = inventory.inventory(db)
    out["models"] = len(entries)
    for fmt in FORMATS:
        out[f"service_{fmt}"] = timed(
            lambda fmt=fmt: len(render(inventory.inventory(db), fmt, utcnow())), repeats
        )
    db.dispose()
    port = h.free_port()
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    server = h.ServerProcess(
        name="modelyard",
        argv=[
            sys.executable,
            "-m",
            "modelyard",
            "serve",
            "--data-dir",
            str(work / "data"),
            "--database-url",
            url,
            "--port",
            str(port),
        ],
        health_url=f"http://{h.HOST}:{port}/healthz",
        log_path=work / "server.log",
        env=env,
    )
    server.start()
    try:
        base = f"http://{h.HOST}:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=120) as http:  # fmt: skip
            server_cpu = lambda: server.cpu()[0]  # noqa: E731
            for fmt in FORMATS:
                out[f"http_{fmt}"] = timed(lambda fmt=fmt: _get(http, fmt), repeats, server_cpu)
        cli_env = {**os.environ, **env, "MODELYARD_URL": base, "MODELYARD_TOKEN": token}
        for fmt in FORMATS:
            target = work / f"inventory.{fmt}"
            out[f"cli_{fmt}"] = timed(
                lambda fmt=fmt, target=target: _cli(fmt, target, cli_env),
                repeats,
                lambda: _children_cpu() + server.cpu()[0],
            )
    finally:
        server.stop()
    return out


def _get(http: httpx.Client, fmt: str) -> int:
    r = http.get("/api/v1/inventory", params={"format": fmt})
    r.raise_for_status()
    return len(r.content)


def _cli(fmt: str, target: Path, env: dict[str, str]) -> int:
    argv = [sys.executable, "-m", "modelyard", "inventory", "export", "--format", fmt, "-o",
            str(target)]  # fmt: skip
    subprocess.run(argv, env=env, check=True, capture_output=True, timeout=300)
    return target.stat().st_size


# -------------------------------------------------------------------------------- report


def report(results: dict[str, dict[str, Any]]) -> None:
    print(f"\n{'database':<11}{'path':<9}{'format':<7}{'wall s':>8}{'min-max':>12}{'cpu s':>7}"
          f"{'load':>6}{'MB':>6}  target <= {TARGET_S:.0f} s")  # fmt: skip
    for kind, r in results.items():
        for path in ("service", "http", "cli"):
            for fmt in FORMATS:
                m = r[f"{path}_{fmt}"]
                ok = "ok" if m["median_s"] <= TARGET_S else "over (see cpu, load)"
                spread_ = f"{m['min_s']:.2f}-{m['max_s']:.2f}"
                print(f"{kind:<11}{path:<9}{fmt:<7}{m['median_s']:>8.2f}{spread_:>12}"
                      f"{m['cpu_median_s']:>7.2f}{m['loadavg_1m']:>6.1f}{m['bytes'] / 1e6:>6.1f}"
                      f"  {ok if path != 'service' else ''}")  # fmt: skip
        print(f"{kind:<11}seeded {r['seed']['rows']} rows for {r['models']} models in "
              f"{r['seed']['seed_s']:.1f} s")  # fmt: skip
    print("cpu: this process (service), the server's process tree (http), the CLI process and")
    print("the server (cli). The export is single-threaded: on an idle machine wall ~ cpu.")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--databases", default="sqlite,postgresql")
    p.add_argument("--postgres-url", default=PG_URL)
    args = p.parse_args()
    h.install_cleanup_handlers()
    results: dict[str, dict[str, Any]] = {}
    for kind in args.databases.split(","):
        work = WORK / f"inventory-{kind}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        with database(kind, args.postgres_url, work) as url:
            print(f"{kind}: seeding {args.models} models …", flush=True)
            seed, token = prepare(url, args.models)
            print(f"{kind}: {seed['rows']} rows in {seed['seed_s']:.1f} s; timing …", flush=True)
            results[kind] = {"seed": seed, **measure(url, token, work, args.repeats)}
    report(results)
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    path = RESULTS / f"inventory-{stamp}-{args.models}.json"
    machine = {"cpus": os.cpu_count(), "loadavg": os.getloadavg(), "python": sys.version}
    path.write_text(json.dumps({"machine": machine, "args": vars(args), "results": results},
                               indent=2, default=str))  # fmt: skip
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
