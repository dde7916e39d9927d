"""Registry metadata benchmark: Modelyard against MLflow's model registry, over HTTP.

Both servers run on SQLite in fresh directories under benchmarks/.work/ and get the same
workload from the same client (`_client.py`, on the standard library's http.client; one
keep-alive client, or eight threads with a client each). MLflow runs in its installed form
in benchmarks/.venv-mlflow (created on first use).

    python benchmarks/metadata.py                 # full run, ~25 minutes, writes results/
    python benchmarks/metadata.py --quick         # small counts, a few minutes
    python benchmarks/metadata.py --skip-mlflow   # Modelyard only

Fairness rules (shared/CLARIFICATIONS.md): MLflow runs with its default worker count and with
`--workers 1`, each driven by a keep-alive client and by a new connection per request; for every
operation and metric its best figure is the baseline, and the configuration that gave it is
named. Every figure is measured `--repeats` times (median, min-max). Server CPU per request is
read from /proc for the whole server process tree (and, for MLflow, for its uvicorn subtree
alone, the lower of the two being its baseline).

Order of work, per system:
    1. workload   fresh store: idle memory, then health, create model, create version (one
                  client, then 8 clients on one model), get by alias; memory again
    2. search     a store seeded over HTTP to 1k and then 10k versions (100 models), snapshotted
                  while stopped; each configuration searches a copy of each snapshot
    3. cold start spawn to first 200 on health, fresh directory (so migrations included)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # sibling modules of a script, not a package
from _client import Client, ClientError, Reply

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
MLFLOW_VERSION = "3.18.0"
CONCURRENCY = 8
BATCH_DEADLINE_S = 240.0
SEED_DEADLINE_S = 1800.0
SEED_MODELS = 100
NAMESPACE = "bench"
MODES = ("keep-alive", "new-conn")

console = Console(width=None if sys.stdout.isatty() else 160)


@dataclass(frozen=True)
class Counts:
    health: int
    create_model: int
    create_version_seq: int
    create_version_conc: int  # in total, split evenly over CONCURRENCY clients
    get_alias: int
    search: int
    levels: tuple[int, int]  # versions in the store while searching
    warmup: int = 5


FULL = Counts(100, 100, 300, 320, 300, 100, (1_000, 10_000))
QUICK = Counts(30, 20, 50, 40, 50, 30, (200, 1_000), warmup=3)


# --------------------------------------------------------------------------- the two APIs


class Api(Protocol):
    system: str
    health_path: str

    def setup(self, c: Client) -> None: ...
    def create_model(self, c: Client, name: str) -> Reply: ...
    def create_version(self, c: Client, model: str, team: str) -> Reply: ...
    def version_of(self, r: Reply) -> int: ...
    def set_alias(self, c: Client, model: str, alias: str, v: int) -> Reply: ...
    def get_alias(self, c: Client, model: str, alias: str) -> Reply: ...
    def search(self, c: Client, field: str, value: str) -> Reply: ...
    def result_count(self, r: Reply) -> int: ...


class ModelyardApi:
    """Modelyard's /api/v1 (contract from the core-service issue)."""

    system = "modelyard"
    health_path = "/healthz"

    def setup(self, c: Client) -> None:
        r = c.post("/api/v1/namespaces", json={"name": NAMESPACE})
        if r.status_code not in (201, 409):
            raise RuntimeError(f"creating namespace: {r.status_code} {r.text[:300]}")

    def create_model(self, c: Client, name: str) -> Reply:
        return c.post("/api/v1/models", json={"namespace": NAMESPACE, "name": name})

    def create_version(self, c: Client, model: str, team: str) -> Reply:
        body = {"description": "benchmark version", "tags": {"team": team}}
        return c.post(f"/api/v1/models/{NAMESPACE}/{model}/versions", json=body)

    def version_of(self, r: Reply) -> int:
        return int(r.json()["version"])

    def set_alias(self, c: Client, model: str, alias: str, v: int) -> Reply:
        url = f"/api/v1/models/{NAMESPACE}/{model}/aliases/{alias}"
        return c.put(url, json={"version": v})

    def get_alias(self, c: Client, model: str, alias: str) -> Reply:
        return c.get("/api/v1/resolve", params={"ref": f"{NAMESPACE}/{model}@{alias}"})

    def search(self, c: Client, field: str, value: str) -> Reply:
        expr = f"name = '{value}'" if field == "name" else f"tags.team = '{value}'"
        return c.get("/api/v1/versions", params={"filter": expr, "page_size": 100})

    def result_count(self, r: Reply) -> int:
        return _first_list_length(r.json())


class MlflowApi:
    """MLflow's REST API 2.0 model registry endpoints."""

    system = "mlflow"
    health_path = "/health"
    base = "/api/2.0/mlflow"

    def setup(self, c: Client) -> None:
        return None

    def create_model(self, c: Client, name: str) -> Reply:
        return c.post(f"{self.base}/registered-models/create", json={"name": name})

    def create_version(self, c: Client, model: str, team: str) -> Reply:
        # A remote URI: MLflow refuses local paths not inside a run's artifact directory.
        body = {
            "name": model,
            "source": f"s3://bench-bucket/{model}",
            "description": "benchmark version",
            "tags": [{"key": "team", "value": team}],
        }
        return c.post(f"{self.base}/model-versions/create", json=body)

    def version_of(self, r: Reply) -> int:
        return int(r.json()["model_version"]["version"])

    def set_alias(self, c: Client, model: str, alias: str, v: int) -> Reply:
        body = {"name": model, "alias": alias, "version": str(v)}
        return c.post(f"{self.base}/registered-models/alias", json=body)

    def get_alias(self, c: Client, model: str, alias: str) -> Reply:
        return c.get(f"{self.base}/registered-models/alias", params={"name": model, "alias": alias})

    def search(self, c: Client, field: str, value: str) -> Reply:
        expr = f"name='{value}'" if field == "name" else f"tags.team = '{value}'"
        params = {"filter": expr, "max_results": 100}
        return c.get(f"{self.base}/model-versions/search", params=params)

    def result_count(self, r: Reply) -> int:
        return len(r.json().get("model_versions", []))


def _first_list_length(body: Any) -> int:
    if isinstance(body, list):
        return len(body)
    for value in body.values():
        if isinstance(value, list):
            return len(value)
    raise ValueError(f"no list in response: {str(body)[:200]}")


# --------------------------------------------------------------------------- systems


@dataclass(frozen=True)
class ServerConfig:
    label: str
    make: Callable[[Path, int, Path], h.ServerProcess]  # (data dir, port, log) -> server


@dataclass(frozen=True)
class System:
    api: Api
    configs: tuple[ServerConfig, ...]
    versions: dict[str, Any]


def modelyard_system(workers: int | None) -> System:
    def make(data: Path, port: int, log: Path) -> h.ServerProcess:
        argv = [
            sys.executable,
            "-m",
            "modelyard",
            "serve",
            "--data-dir",
            str(data),
            "--host",
            h.HOST,
            "--port",
            str(port),
        ]
        if workers:
            argv += ["--workers", str(workers)]
        path = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
        url = f"http://{h.HOST}:{port}/healthz"
        # The first start of a store makes an admin and writes its token to the store's own
        # credentials file (not the user's ~/.config/modelyard/credentials).
        credentials = data / "credentials"
        _CREDENTIALS[f"http://{h.HOST}:{port}"] = credentials
        env = {"PYTHONPATH": path, "MODELYARD_CREDENTIALS": str(credentials)}
        return h.ServerProcess("modelyard", argv, url, log, env=env)

    label = f"workers={workers}" if workers else "workers=default"
    _compile_bytecode()
    return System(ModelyardApi(), (ServerConfig(label, make),), modelyard_versions())


def _compile_bytecode() -> None:
    """Measure Modelyard as installed. ``pip install`` writes every module's bytecode, and
    MLflow's virtualenv has it; a source checkout run with PYTHONDONTWRITEBYTECODE=1 (as on this
    machine) would instead compile all of Modelyard's modules at every start (about 0.3 s of
    the cold start). ``__pycache__`` is ignored by git."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=True)


def modelyard_versions() -> dict[str, Any]:
    code = "import importlib.metadata as m, modelyard; print(getattr(modelyard, '__version__', ''))"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    git = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
    )
    return {
        "modelyard": out.stdout.strip() or None,
        "git_commit": git.stdout.strip() or None,
        "src_uncommitted_changes": bool(dirty.stdout.strip()),
    }


def mlflow_system(venv: Path) -> System:
    versions = h.ensure_mlflow_venv(venv, MLFLOW_VERSION, lambda m: console.print(f"[dim]{m}"))
    env = {
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        # The job runner and its huey consumers serve no registry request, yet they take
        # ~1 GB and burn CPU while idle on this 2-core machine; off, MLflow is at its best.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PYTHONWARNINGS": "ignore",
    }

    def config(workers: int | None) -> ServerConfig:
        def make(data: Path, port: int, log: Path) -> h.ServerProcess:
            argv = [
                str(venv / "bin" / "mlflow"),
                "server",
                "--backend-store-uri",
                f"sqlite:///{data}/mlflow.db",
                "--default-artifact-root",
                str(data / "artifacts"),
                "--host",
                h.HOST,
                "--port",
                str(port),
            ]
            if workers:
                argv += ["--workers", str(workers)]
            url = f"http://{h.HOST}:{port}/health"
            return h.ServerProcess("mlflow", argv, url, log, env=env, serving_marker="uvicorn")

        return ServerConfig(f"workers={workers}" if workers else "workers=4 (default)", make)

    return System(MlflowApi(), (config(None), config(1)), {**versions, "job_runner": "disabled"})


# --------------------------------------------------------------------------- measuring


def make_client(base_url: str, mode: str) -> Client:
    """The same lean client for every server (``_client.py`` says why not httpx)."""
    return Client(base_url, keep_alive=mode == "keep-alive", headers=_first_start_token(base_url))


# base URL -> the credentials file of the Modelyard store served there (see modelyard_system).
_CREDENTIALS: dict[str, Path] = {}


def _first_start_token(base_url: str) -> dict[str, str]:
    """Modelyard wants a token: the one its store's first start wrote (a store copied to a
    snapshot keeps its file, under the URL it was first served at)."""
    try:
        stored = json.loads(_CREDENTIALS[base_url.rstrip("/")].read_text())
        token = next(iter(stored["servers"].values()))["token"]
    except (KeyError, OSError, ValueError, StopIteration):
        return {}
    return {"Authorization": f"Bearer {token}"}


Call = Callable[[Client, int], Reply]


@dataclass
class Run:
    """A live server with its base URL, a fresh store and its API."""

    server: h.ServerProcess
    base_url: str
    api: Api
    start_s: float


def measure(run: Run, mode: str, call: Call, n: int, clients: int = 1) -> dict[str, Any]:
    """One measured batch of n calls, sequential or spread over `clients` threads."""
    per_client = n // clients
    pool = [make_client(run.base_url, mode) for _ in range(clients)]
    for c in pool:  # open the keep-alive connection outside the timed window
        c.get(run.api.health_path)
    results: list[list[tuple[float, Reply | Exception]]] = [[] for _ in pool]
    barrier = threading.Barrier(clients + 1)
    deadline = time.perf_counter() + BATCH_DEADLINE_S

    def worker(k: int) -> None:
        barrier.wait()
        for j in range(per_client):
            if time.perf_counter() > deadline:
                break
            t = time.perf_counter()
            try:
                r: Reply | Exception = call(pool[k], k * per_client + j)
            except ClientError as exc:
                r = exc
            results[k].append(((time.perf_counter() - t) * 1000, r))

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    cpu0, client0 = run.server.cpu(), time.process_time()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join(timeout=BATCH_DEADLINE_S + 60)
    wall = time.perf_counter() - t0
    cpu1, client1 = run.server.cpu(), time.process_time()
    for c in pool:
        c.close()
    flat = [item for per in results for item in per]
    return _batch_summary(flat, n, wall, (cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]), client1 - client0)


def _batch_summary(
    flat: list[tuple[float, Any]], n: int, wall: float, cpu: tuple[float, float], client: float
) -> dict[str, Any]:
    lat = sorted(ms for ms, _ in flat)
    bad = [r for _, r in flat if not (isinstance(r, Reply) and r.is_success)]
    done = len(flat)
    return {
        "requested": n,
        "done": done,
        "errors": len(bad),
        "first_error": _describe(bad[0]) if bad else None,
        "wall_s": wall,
        "ops_per_s": (done - len(bad)) / wall if wall > 0 else float("nan"),
        "p50_ms": h.percentile(lat, 50),
        "p95_ms": h.percentile(lat, 95),
        "p99_ms": h.percentile(lat, 99),
        "cpu_ms_per_req": cpu[0] * 1000 / max(done, 1),
        "serving_cpu_ms_per_req": cpu[1] * 1000 / max(done, 1),
        "client_cpu_ms_per_req": client * 1000 / max(done, 1),
        "loadavg_1m": os.getloadavg()[0],  # the machine is shared: a busy one explains outliers
        "responses": [r for _, r in flat],  # dropped before the JSON is written
    }


def _describe(r: Any) -> str:
    if isinstance(r, Reply):
        return f"{r.request.method} {r.request.url.path} -> {r.status_code} {r.text[:300]}"
    return f"{type(r).__name__}: {r}"


def check(r: Reply, what: str) -> Reply:
    if not r.is_success:
        raise RuntimeError(f"{what}: {r.status_code} {r.text[:300]}")
    return r


@contextmanager
def running(system: System, config: ServerConfig, work: Path, tag: str) -> Iterator[Run]:
    data = Path(tempfile.mkdtemp(prefix=f"{system.api.system}-{tag}-", dir=work))
    with serving(system, config, data, work) as run:
        yield run


@contextmanager
def serving(system: System, config: ServerConfig, data: Path, work: Path) -> Iterator[Run]:
    port = h.free_port()
    server = config.make(data, port, work / "logs" / f"{data.name}.log")
    start_s = server.start()
    try:
        yield Run(server, f"http://{h.HOST}:{port}", system.api, start_s)
    finally:
        server.stop()


# --------------------------------------------------------------------------- phases

Results = dict[str, Any]


def record(out: Results, path: tuple[str, ...], batch: dict[str, Any]) -> None:
    node = out
    for key in path:
        node = node.setdefault(key, {})
    node.setdefault("repeats", []).append(batch)


def workload_phase(system: System, counts: Counts, repeats: int, work: Path, out: Results) -> None:
    api = system.api
    for config in system.configs:
        console.rule(f"{api.system} {config.label}: workload")
        with running(system, config, work, "workload") as run:
            node = out.setdefault(config.label, {})
            time.sleep(2)
            node["memory_after_start"] = run.server.memory()
            node["start_s"] = run.start_s
            with make_client(run.base_url, "keep-alive") as c:
                api.setup(c)
                _model(c, api, "alias-m")
                created = check(api.create_version(c, "alias-m", "t0"), "create alias version")
                check(api.set_alias(c, "alias-m", "champion", api.version_of(created)), "set alias")
            _warm_workload(run, counts)
            for rep in range(repeats):
                for mode in MODES:
                    _workload_round(run, mode, rep, counts, node.setdefault(mode, {}))
                console.print(f"  repeat {rep + 1}/{repeats} done")
            time.sleep(2)
            node["memory_after_workload"] = run.server.memory()


def _model(c: Client, api: Api, name: str) -> None:
    check(api.create_model(c, name), f"create model {name}")


def _warm_workload(run: Run, counts: Counts) -> None:
    """Unmeasured calls of every operation in both modes: imports, caches, first queries."""
    api, w = run.api, counts.warmup
    with make_client(run.base_url, "keep-alive") as c:
        _model(c, api, "warm-v")
    for mode in MODES:
        measure(run, mode, lambda c, i, m=mode: api.create_model(c, f"warm-{m}-{i}"), w)
        measure(run, mode, lambda c, i: api.create_version(c, "warm-v", "t0"), w)
        measure(run, mode, lambda c, i: api.get_alias(c, "alias-m", "champion"), w)
        measure(run, mode, lambda c, i: c.get(api.health_path), w)


def _workload_round(run: Run, mode: str, rep: int, counts: Counts, node: Results) -> None:
    api, tag = run.api, f"{'ka' if mode == 'keep-alive' else 'nc'}-{rep}"
    ops: list[tuple[str, Call, int, int]] = [
        ("health", lambda c, i: c.get(api.health_path), counts.health, 1),
        ("create_model", lambda c, i: api.create_model(c, f"cm-{tag}-{i}"), counts.create_model, 1),
        (
            "create_version_seq",
            lambda c, i: api.create_version(c, f"seq-{tag}", "t1"),
            counts.create_version_seq,
            1,
        ),
        (
            f"create_version_conc{CONCURRENCY}",
            lambda c, i: api.create_version(c, f"conc-{tag}", "t2"),
            counts.create_version_conc,
            CONCURRENCY,
        ),
        ("get_by_alias", lambda c, i: api.get_alias(c, "alias-m", "champion"), counts.get_alias, 1),
    ]
    with make_client(run.base_url, "keep-alive") as c:
        _model(c, api, f"seq-{tag}")
        _model(c, api, f"conc-{tag}")
    for name, call, n, clients in ops:
        batch = measure(run, mode, call, n, clients)
        if name.startswith("create_version_conc"):
            batch["version_numbers"] = _gapless(api, batch["responses"])
        node.setdefault(name, {}).setdefault("repeats", []).append(_lean(batch))
        _report_batch(run, mode, name, batch)


def _gapless(api: Api, responses: list[Any]) -> dict[str, Any]:
    """Versions created concurrently on one model must be exactly 1..n, each once."""
    nums = sorted(api.version_of(r) for r in responses if isinstance(r, Reply) and r.is_success)
    ok = nums == list(range(1, len(nums) + 1))
    return {"count": len(nums), "gapless_unique": ok, "max": nums[-1] if nums else None}


def _lean(batch: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in batch.items() if k != "responses"}


def _report_batch(run: Run, mode: str, name: str, b: dict[str, Any]) -> None:
    err = f" [red]{b['errors']} errors: {b['first_error']}" if b["errors"] else ""
    console.print(
        f"  [dim]{run.api.system:9} {mode:10} {name:26} {b['ops_per_s']:8.1f} ops/s "
        f"p50 {b['p50_ms']:7.2f} ms  p95 {b['p95_ms']:7.2f} ms  "
        f"cpu {b['cpu_ms_per_req']:6.2f} ms/req{err}"
    )


def search_phase(system: System, counts: Counts, repeats: int, work: Path, out: Results) -> None:
    api = system.api
    snapshots = _seed_snapshots(system, counts.levels, work)
    for config in system.configs:
        for level, snap in zip(counts.levels, snapshots, strict=True):
            console.rule(f"{api.system} {config.label}: search at {_k(level)} versions")
            data = Path(tempfile.mkdtemp(prefix=f"{api.system}-search-", dir=work))
            shutil.copytree(snap, data, dirs_exist_ok=True)
            with serving(system, config, data, work) as run:
                _search_level(run, level, counts, repeats, out.setdefault(config.label, {}))
            shutil.rmtree(data, ignore_errors=True)


def _search_level(run: Run, level: int, counts: Counts, repeats: int, node: Results) -> None:
    api = run.api
    queries = {
        "name": ("m-17", min(100, level // SEED_MODELS)),
        "tag": ("t3", min(100, level // 10)),
    }
    for field, (value, expected) in queries.items():  # warm up and check the answers
        with make_client(run.base_url, "keep-alive") as c:
            got = api.result_count(check(api.search(c, field, value), f"search {field}"))
        node.setdefault("search_checks", {})[f"{field}@{_k(level)}"] = {
            "got": got,
            "expected": expected,
        }
        if got != expected:
            console.print(f"  [yellow]search {field}={value!r}: {got} results, expected {expected}")
        for mode in MODES:
            measure(run, mode, lambda c, i, f=field, v=value: api.search(c, f, v), counts.warmup)
    for _rep in range(repeats):
        for mode in MODES:
            for field, (value, _) in queries.items():
                name = f"search_{field}@{_k(level)}"
                batch = measure(
                    run, mode, lambda c, i, f=field, v=value: api.search(c, f, v), counts.search
                )
                node.setdefault(mode, {}).setdefault(name, {}).setdefault("repeats", []).append(
                    _lean(batch)
                )
                _report_batch(run, mode, name, batch)


def _seed_snapshots(system: System, levels: tuple[int, int], work: Path) -> list[Path]:
    """Seed one store over HTTP up to each level in turn, copying it (stopped) at each."""
    api, config = system.api, system.configs[0]
    data = Path(tempfile.mkdtemp(prefix=f"{api.system}-seed-", dir=work))
    snaps, have = [], 0
    for level in levels:
        console.rule(f"{api.system}: seeding to {_k(level)} versions")
        with serving(system, config, data, work) as run:
            if have == 0:
                with make_client(run.base_url, "keep-alive") as c:
                    api.setup(c)
                    for m in range(SEED_MODELS):
                        _model(c, api, f"m-{m}")
            t0 = time.perf_counter()
            _seed(run, have // SEED_MODELS, level // SEED_MODELS)
            rate = (level - have) / (time.perf_counter() - t0)
            console.print(f"  seeded {level - have} versions at {rate:.0f}/s")
        have = level
        snap = work / f"{data.name}-snap-{_k(level)}"
        shutil.copytree(data, snap)
        snaps.append(snap)
    return snaps


def _seed(run: Run, have: int, want: int) -> None:
    """Bring every seed model from `have` to `want` versions, 8 clients on disjoint models."""
    api, errors, deadline = run.api, [], time.perf_counter() + SEED_DEADLINE_S

    def worker(k: int) -> None:
        with make_client(run.base_url, "keep-alive") as c:
            for v in range(have, want):
                for m in range(k, SEED_MODELS, CONCURRENCY):
                    if time.perf_counter() > deadline:
                        errors.append("seeding deadline passed")
                        return
                    r = api.create_version(c, f"m-{m}", f"t{(m + v) % 10}")
                    if not r.is_success:
                        errors.append(_describe(r))
                        return

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SEED_DEADLINE_S + 60)
    if errors:
        raise RuntimeError(f"seeding {api.system} failed: {errors[0]}")


def cold_start_phase(system: System, repeats: int, work: Path, out: Results) -> None:
    for config in system.configs:
        console.rule(f"{system.api.system} {config.label}: cold start")
        times = []
        for _ in range(repeats):
            with running(system, config, work, "cold") as run:
                times.append(run.start_s)
                console.print(f"  [dim]first 200 on health after {run.start_s:.2f} s")
        out.setdefault(config.label, {})["cold_start_s"] = times


def _k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


# --------------------------------------------------------------------------- summary


METRICS = {  # name -> (label, higher is better)
    "ops_per_s": ("ops/s", True),
    "p50_ms": ("p50 ms", False),
    "p95_ms": ("p95 ms", False),
    "cpu_ms_per_req": ("server CPU ms/req", False),
}


def summarize(system: str, per_config: Results) -> Results:
    """{op: {metric: {"spread":..., "config": "<config>, <mode>"}}} choosing the best median
    over configurations and client modes (for MLflow; Modelyard is reported keep-alive)."""
    best: Results = {}
    for config, node in per_config.items():
        for mode in MODES:
            if system == "modelyard" and mode != "keep-alive":
                continue
            for op, data in node.get(mode, {}).items():
                for metric, (_label, higher) in METRICS.items():
                    for field in _cpu_fields(metric, system):
                        s = h.spread([b[field] for b in data["repeats"]])
                        cur = best.setdefault(op, {}).get(metric)
                        if cur is None or _better(s["median"], cur["spread"]["median"], higher):
                            where = f"{config}, {mode}" + (
                                ", uvicorn only" if "serving" in field else ""
                            )
                            best[op][metric] = {"spread": s, "config": where}
                errs = sum(b["errors"] for b in data["repeats"])
                best[op].setdefault("errors", {})[f"{config}, {mode}"] = errs
    return best


def _cpu_fields(metric: str, system: str) -> tuple[str, ...]:
    if metric == "cpu_ms_per_req" and system == "mlflow":
        return ("cpu_ms_per_req", "serving_cpu_ms_per_req")
    return (metric,)


def _better(a: float, b: float, higher: bool) -> bool:
    return a > b if higher else a < b


def system_extras(per_config: Results, system: str) -> Results:
    """Cold start and memory: best (lowest) median over configurations."""
    out: Results = {}
    for config, node in per_config.items():
        figures = {
            "cold_start_s": node.get("cold_start_s", []),
            "rss_after_start_mb": [node.get("memory_after_start", {}).get("rss", 0) / 2**20],
            "rss_after_workload_mb": [node.get("memory_after_workload", {}).get("rss", 0) / 2**20],
            "pss_after_workload_mb": [node.get("memory_after_workload", {}).get("pss", 0) / 2**20],
        }
        for name, values in figures.items():
            s = h.spread([v for v in values if v])
            if s["n"] and (name not in out or s["median"] < out[name]["spread"]["median"]):
                out[name] = {"spread": s, "config": config}
    return out


def ratio(my: float | None, ml: float | None, higher: bool) -> float | None:
    if not my or not ml or my != my or ml != ml:
        return None
    return my / ml if higher else ml / my


def targets(
    my: Results, ml: Results, my_x: Results, ml_x: Results, levels: tuple[int, int]
) -> list[dict[str, Any]]:
    def med(src: Results, op: str, metric: str) -> float | None:
        return src.get(op, {}).get(metric, {}).get("spread", {}).get("median")

    def xmed(src: Results, name: str) -> float | None:
        return src.get(name, {}).get("spread", {}).get("median")

    conc = f"create_version_conc{CONCURRENCY}"
    rows = []
    for op, need in (("create_version_seq", 10), ("get_by_alias", 10), (conc, 5)):
        r = ratio(med(my, op, "ops_per_s"), med(ml, op, "ops_per_s"), True)
        rows.append(
            {
                "target": f"{op} ops/s >= {need}x MLflow",
                "value": r,
                "unit": "x",
                "pass": None if r is None else r >= need,
            }
        )
    for op in ("create_version_seq", "get_by_alias"):
        r = ratio(med(my, op, "cpu_ms_per_req"), med(ml, op, "cpu_ms_per_req"), False)
        rows.append(
            {
                "target": f"{op} server CPU/req >= 10x less than MLflow",
                "value": r,
                "unit": "x",
                "pass": None if r is None else r >= 10,
            }
        )
    for field in ("name", "tag"):
        v = med(my, f"search_{field}@{_k(levels[1])}", "p95_ms")
        rows.append(
            {
                "target": f"search ({field} filter) p95 at {_k(levels[1])} versions <= 20 ms",
                "value": v,
                "unit": "ms",
                "pass": None if v is None else v <= 20,
            }
        )
    v = xmed(my_x, "cold_start_s")
    rows.append(
        {
            "target": "cold start to health <= 2 s",
            "value": v,
            "unit": "s",
            "pass": None if v is None else v <= 2,
        }
    )
    for name, when in (
        ("rss_after_start_mb", "after start"),
        ("rss_after_workload_mb", "after workload"),
    ):
        v = xmed(my_x, name)
        rows.append(
            {
                "target": f"idle RSS ({when}) <= 150 MB",
                "value": v,
                "unit": "MB",
                "pass": None if v is None else v <= 150,
            }
        )
    return rows


# --------------------------------------------------------------------------- output


def fmt_spread(s: dict[str, float] | None) -> str:
    if not s or not s.get("n"):
        return "-"
    return f"{_num(s['median'])} ({_num(s['min'])}-{_num(s['max'])})"


def _num(v: float) -> str:
    if v != v:
        return "nan"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def print_tables(summary: Results) -> None:
    my, ml = summary.get("modelyard", {}), summary.get("mlflow", {})
    table = Table(title="Registry metadata: Modelyard vs MLflow (median (min-max) of repeats)")
    for col in ("operation", "metric", "Modelyard", "MLflow best", "MLflow config", "Modelyard x"):
        table.add_column(col, overflow="fold")
    ops = list(dict.fromkeys([*my.get("ops", {}), *ml.get("ops", {})]))
    for op in ops:
        for i, (metric, (label, higher)) in enumerate(METRICS.items()):
            a = my.get("ops", {}).get(op, {}).get(metric)
            b = ml.get("ops", {}).get(op, {}).get(metric)
            r = ratio(a and a["spread"]["median"], b and b["spread"]["median"], higher)
            table.add_row(
                op if i == 0 else "",
                label,
                fmt_spread(a and a["spread"]),
                fmt_spread(b and b["spread"]),
                b["config"] if b else "-",
                f"{r:.1f}x" if r else "-",
                end_section=i == len(METRICS) - 1,
            )
    for name, label in (
        ("cold_start_s", "cold start s"),
        ("rss_after_start_mb", "RSS after start MB"),
        ("rss_after_workload_mb", "RSS after workload MB"),
        ("pss_after_workload_mb", "PSS after workload MB"),
    ):
        a, b = my.get("extras", {}).get(name), ml.get("extras", {}).get(name)
        r = ratio(a and a["spread"]["median"], b and b["spread"]["median"], False)
        table.add_row(
            "server",
            label,
            fmt_spread(a and a["spread"]),
            fmt_spread(b and b["spread"]),
            b["config"] if b else "-",
            f"{r:.1f}x" if r else "-",
        )
    console.print(table)
    tt = Table(title="Targets (Modelyard)")
    for col in ("target", "value", "result"):
        tt.add_column(col)
    for row in summary.get("targets", []):
        v = "-" if row["value"] is None else f"{_num(row['value'])} {row['unit']}"
        res = {True: "[green]PASS", False: "[red]FAIL", None: "[yellow]n/a"}[row["pass"]]
        tt.add_row(row["target"], v, res)
    console.print(tt)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=3, help="measurements per figure (default 3)")
    p.add_argument("--quick", action="store_true", help="small counts (a smoke run)")
    p.add_argument("--skip-mlflow", action="store_true", help="measure Modelyard only")
    p.add_argument("--skip-modelyard", action="store_true", help="measure MLflow only")
    p.add_argument("--modelyard-workers", type=int, help="pass --workers N to modelyard serve")
    p.add_argument("--mlflow-venv", type=Path, default=BENCH_DIR / ".venv-mlflow")
    p.add_argument("--phases", default="workload,search,cold", help="comma-separated subset")
    p.add_argument(
        "--out", type=Path, help="JSON path (default benchmarks/results/metadata-<date>.json)"
    )
    p.add_argument("--keep-work", action="store_true", help="keep data dirs and logs in .work/")
    args = p.parse_args(argv)
    h.install_cleanup_handlers()
    counts = QUICK if args.quick else FULL
    phases = set(args.phases.split(","))
    work = Path(tempfile.mkdtemp(prefix="run-", dir=_mkdir(BENCH_DIR / ".work")))
    _mkdir(work / "logs")
    systems: list[System] = []
    if not args.skip_modelyard:
        systems.append(modelyard_system(args.modelyard_workers))
    if not args.skip_mlflow:
        systems.append(mlflow_system(args.mlflow_venv))
    raw: Results = {}
    try:
        for system in systems:
            console.print(f"[bold]{system.api.system}[/]: {system.versions}")
            node = raw.setdefault(system.api.system, {})
            if "workload" in phases:
                workload_phase(system, counts, args.repeats, work, node)
            if "search" in phases:
                search_phase(system, counts, args.repeats, work, node)
            if "cold" in phases:
                cold_start_phase(system, args.repeats, work, node)
    except KeyboardInterrupt:
        console.print("[red]interrupted; servers stopped")
        return 130
    finally:
        h.stop_all_servers()
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    summary: Results = {
        s.api.system: {
            "ops": summarize(s.api.system, raw[s.api.system]),
            "extras": system_extras(raw[s.api.system], s.api.system),
        }
        for s in systems
    }
    summary["targets"] = targets(
        summary.get("modelyard", {}).get("ops", {}),
        summary.get("mlflow", {}).get("ops", {}),
        summary.get("modelyard", {}).get("extras", {}),
        summary.get("mlflow", {}).get("extras", {}),
        counts.levels,
    )
    print_tables(summary)
    _write_json(args, counts, systems, raw, summary)
    return 0


def _write_json(
    args: argparse.Namespace, counts: Counts, systems: list[System], raw: Results, summary: Results
) -> None:
    today = dt.date.today().isoformat()
    out = (
        args.out or BENCH_DIR / "results" / f"metadata-{today}{'-quick' if args.quick else ''}.json"
    )
    _mkdir(out.parent)
    doc = {
        "benchmark": "metadata",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "cpu": _cpu_model(),
            "python": platform.python_version(),
            "kernel": platform.release(),
        },
        "args": {k: str(v) for k, v in vars(args).items()},
        "counts": counts.__dict__,
        "concurrency": CONCURRENCY,
        "versions": {s.api.system: s.versions for s in systems},
        "summary": summary,
        "raw": raw,
    }
    out.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    console.print(
        f"results written to {out.relative_to(REPO) if out.is_relative_to(REPO) else out}"
    )


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
