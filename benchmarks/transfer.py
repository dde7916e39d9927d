"""Transfer benchmark: push and pull through Modelyard and through MLflow's artifact proxy.

The same bytes go through each system in one run: a big file (1 GiB of random bytes) and a
directory of many small files (2,000 random files of 100 KB, about 200 MB), next to `cp` and
`dd conv=fdatasync` of the same bytes as the physical reference.

    python benchmarks/transfer.py                 # full run (~20 min, most of it MLflow)
    python benchmarks/transfer.py --quick         # 128 MiB and 200 files, a smoke run
    python benchmarks/transfer.py --skip-mlflow   # Modelyard and the disk only

Modelyard: `python -m modelyard serve` on a fresh data directory (SQLite + local disk) for each
repeat; the client is the SDK's `push`/`pull` in this process (ingredient capture off: the
transfer is what is measured) and, for the re-push, the `modelyard push` CLI as a user types it.
MLflow 3.18.0 (benchmarks/.venv-mlflow): `mlflow server --artifacts-destination DIR` (SQLite
backend), with its default workers and with `--workers 1` (shared/CLARIFICATIONS.md: the better
figure is the baseline, and named); its client, in MLflow's own virtualenv, logs the files to a
run with `MlflowClient.log_artifact(s)` and fetches them with `mlflow.artifacts.download_artifacts`.

What is measured (each figure `--repeats` times; median, min-max):

    upload        MiB/s of a push of the big file: Modelyard with a cold local digest cache
                  (the client hashes the file first) and with the digest cached; MLflow's
                  log_artifact; `dd conv=fdatasync` and `cp` of the same file
    download      MiB/s of a pull of the big file into an empty directory (cold client cache)
    re-push       wall seconds of pushing the unchanged big file again (SDK and CLI)
    many files    wall seconds of pushing and of pulling the directory of small files
    server RSS    growth of the server's process tree (summed RSS from /proc, sampled every
                  20 ms) during the big push and the big pull, over its RSS just before
    server CPU    utime+stime of the server's process tree for each transfer
    client CPU    CPU time of the client process (Modelyard: this process, all its threads)

The machine is shared: the load average is recorded with every figure.
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
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # sibling module of a script, not a package

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
MLFLOW_VERSION = "3.18.0"
MIB = 1024 * 1024
NAMESPACE, MODEL = "bench", "transfer"

console = Console(width=None if sys.stdout.isatty() else 160)
Results = dict[str, Any]


@dataclass(frozen=True)
class Sizes:
    big_mib: int
    files: int
    file_bytes: int

    @property
    def small_mib(self) -> float:
        return self.files * self.file_bytes / MIB


FULL = Sizes(1024, 2000, 100_000)
QUICK = Sizes(128, 200, 100_000)


# --------------------------------------------------------------------------- data and disk


def make_data(work: Path, sizes: Sizes) -> tuple[Path, Path]:
    """The big file and the directory of small files, random bytes, under `work/src`."""
    src = work / "src"
    big, small = src / "big" / "model.bin", src / "small"
    big.parent.mkdir(parents=True)
    small.mkdir()
    with big.open("wb") as f:
        for _ in range(sizes.big_mib):
            f.write(os.urandom(MIB))
    for i in range(sizes.files):
        (small / f"shard-{i:05d}.bin").write_bytes(os.urandom(sizes.file_bytes))
    return big, small


def check_disk(work: Path, sizes: Sizes) -> None:
    need = (sizes.big_mib + sizes.small_mib) * MIB * 6  # sources, stores, pulls, copies
    free = shutil.disk_usage(work).free
    if free < need:
        raise SystemExit(
            f"need about {need / 2**30:.1f} GiB free in {work}, have {free / 2**30:.1f}"
        )


def physical(big: Path, small: Path, work: Path) -> Results:
    """`dd conv=fdatasync` and `cp` of the big file, `cp -r` of the small files."""
    target = work / "copy"
    out: Results = {}
    commands = {
        "dd_fdatasync": [
            "dd",
            f"if={big}",
            f"of={target}",
            "bs=4M",
            "conv=fdatasync",
            "status=none",
        ],
        "cp": ["cp", str(big), str(target)],
        "cp_r_small": ["cp", "-r", str(small), str(target)],
    }
    for name, argv in commands.items():
        _drop(target)
        t0 = time.perf_counter()
        subprocess.run(argv, check=True)
        if name == "cp_r_small":  # durable like the others' uploads: sync what cp wrote
            subprocess.run(["sync", "-f", str(target)], check=True)
        out[name] = {"wall_s": time.perf_counter() - t0, "loadavg_1m": os.getloadavg()[0]}
        _drop(target)
    return out


def _drop(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- sampling


class RssSampler:
    """Peak summed RSS of a server's process tree while the block runs (every 20 ms).

    The tree is listed once, before the block (a server does not fork during a transfer), and
    each sample reads only VmRSS: listing the tree scans all of /proc and PSS walks page tables,
    about 5 ms of CPU a sample, which took a quarter of a core (and the GIL, for the in-process
    SDK client) from the transfer being measured."""

    def __init__(self, server: h.ServerProcess) -> None:
        self.server = server
        self.before = self.peak = 0
        self._pids: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        return h.rss_bytes(self._pids)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> RssSampler:
        self._pids = self.server.tree()
        self.before = self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 1e6


def timed(server: h.ServerProcess, fn: Callable[[], Any], rss: bool = False) -> Results:
    """Wall time, server CPU (whole tree), this process's CPU, load; peak RSS growth if asked."""
    cpu0, client0 = server.cpu()[0], time.process_time()
    sampler = RssSampler(server) if rss else None
    t0 = time.perf_counter()
    if sampler:
        with sampler:
            fn()
    else:
        fn()
    out = {
        "wall_s": time.perf_counter() - t0,
        "server_cpu_s": server.cpu()[0] - cpu0,
        "client_cpu_s": time.process_time() - client0,
        "loadavg_1m": os.getloadavg()[0],
    }
    if sampler:
        out["server_rss_before_mb"] = sampler.before / 1e6
        out["server_rss_growth_mb"] = sampler.growth_mb
    return out


# --------------------------------------------------------------------------- Modelyard


def modelyard_env(data: Path) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))
    # The first start writes the admin's token to the store's own credentials file.
    return {"PYTHONPATH": path, "MODELYARD_CREDENTIALS": str(data / "credentials")}


@contextmanager
def modelyard_server(work: Path) -> Iterator[tuple[h.ServerProcess, str, str]]:
    data = Path(tempfile.mkdtemp(prefix="modelyard-", dir=work))
    port = h.free_port()
    argv = [sys.executable, "-m", "modelyard", "serve", "--data-dir", str(data)]
    argv += ["--host", h.HOST, "--port", str(port)]
    url = f"http://{h.HOST}:{port}"
    log = work / "logs" / f"{data.name}.log"
    server = h.ServerProcess("modelyard", argv, f"{url}/healthz", log, env=modelyard_env(data))
    server.start()
    try:
        stored = json.loads((data / "credentials").read_text())
        token = next(iter(stored["servers"].values()))["token"]
        yield server, url, token
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def modelyard_repeat(big: Path, small: Path, work: Path) -> Results:
    """One fresh server: every Modelyard figure once."""
    sys.path.insert(0, str(REPO / "src"))
    from modelyard.client import Client

    quiet: dict[str, Any] = {"progress": False, "code": False, "environment": False}
    out: Results = {}
    with modelyard_server(work) as (server, url, token), Client(url, token=token) as client:
        caches = Path(tempfile.mkdtemp(prefix="client-", dir=work))
        warm_up(client, work, caches)
        model = f"{NAMESPACE}/{MODEL}"

        def push(path: Path, cache: str) -> Callable[[], Any]:
            return lambda: client.push(path, model, cache_dir=caches / cache, **quiet)

        def pull(ref: str, dest: str) -> Callable[[], Any]:
            return lambda: client.pull(ref, work / dest, cache_dir=caches / dest, progress=False)

        out["push_big_cold"] = timed(server, push(big, "push"), rss=True)
        out["repush_big_sdk"] = timed(server, push(big, "push"))
        out["repush_big_cli"] = timed(server, lambda: cli_push(big, model, url, token, caches))
        out["pull_big"] = timed(server, pull(f"{model}@1", "pull-big"), rss=True)
        out["push_small"] = timed(server, push(small, "push"))
        version = client.resolve(f"{model}@latest").version
        out["pull_small"] = timed(server, pull(f"{model}@{version}", "pull-small"))
        verify(big, work / "pull-big" / big.name, small, work / "pull-small")
        out["push_big_cached"] = pushed_again_to_a_fresh_server(big, work, caches)
        shutil.rmtree(caches)
        for dest in ("pull-big", "pull-small"):
            shutil.rmtree(work / dest, ignore_errors=True)
    return out


def pushed_again_to_a_fresh_server(big: Path, work: Path, caches: Path) -> Results:
    """Upload alone: the big file to a server that lacks it, its digest already in the
    client's cache (as when a model pushed to one registry is pushed to another)."""
    from modelyard.client import Client

    with modelyard_server(work) as (server, url, token), Client(url, token=token) as client:
        warm_up(client, work, caches)
        return timed(
            server,
            lambda: client.push(
                big,
                f"{NAMESPACE}/{MODEL}",
                cache_dir=caches / "push",
                progress=False,
                code=False,
                environment=False,
            ),
            rss=True,
        )


def warm_up(client: Any, work: Path, caches: Path) -> None:
    """The model to measure, and one small push and pull (not measured) to another: a fresh
    server's first requests pay for imports and first connections."""
    client.create_namespace(NAMESPACE)
    client.create_model(f"{NAMESPACE}/{MODEL}")
    client.create_model(f"{NAMESPACE}/warm-up")
    seed = work / "warm-up.bin"
    seed.write_bytes(os.urandom(1000))
    quiet: dict[str, Any] = {"progress": False, "code": False, "environment": False}
    client.push(seed, f"{NAMESPACE}/warm-up", cache_dir=caches / "warm-up", **quiet)
    client.pull(f"{NAMESPACE}/warm-up@1", work / "warm-up", cache_dir=caches / "warm-up")
    shutil.rmtree(work / "warm-up")


def cli_push(path: Path, model: str, url: str, token: str, caches: Path) -> None:
    env = {
        **os.environ,
        **modelyard_env(caches),
        "MODELYARD_URL": url,
        "MODELYARD_TOKEN": token,
        "MODELYARD_CACHE_DIR": str(caches / "push"),
    }
    argv = [sys.executable, "-m", "modelyard", "push", str(path), model]
    argv += ["--no-code", "--no-environment", "--json"]
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)


def verify(big: Path, pulled_big: Path, small: Path, pulled_small: Path) -> None:
    """What came back is what went in (size and a sample of bytes; the SDK checked digests)."""
    if pulled_big.stat().st_size != big.stat().st_size:
        raise RuntimeError(f"{pulled_big} has the wrong size")
    names = sorted(p.name for p in small.iterdir())
    if sorted(p.name for p in pulled_small.iterdir()) != names:
        raise RuntimeError(f"{pulled_small} does not hold the pushed files")
    if (pulled_small / names[0]).read_bytes() != (small / names[0]).read_bytes():
        raise RuntimeError(f"{pulled_small / names[0]} differs from what was pushed")


# --------------------------------------------------------------------------- MLflow

MLFLOW_CLIENT = r"""
import json, os, sys, time
import mlflow
from mlflow import MlflowClient

url, big, small, out = sys.argv[1:5]
mlflow.set_tracking_uri(url)
client = MlflowClient()
run_id = client.create_run(client.create_experiment(f"bench-{time.time_ns()}")).info.run_id
timings = {}

def measure(name, fn):
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    timings[name] = {"wall_s": time.perf_counter() - t0, "client_cpu_s": time.process_time() - c0}
    print(json.dumps({name: timings[name]}), flush=True)
    input()  # the benchmark reads the server's figures, then lets the next one start

measure("push_big", lambda: client.log_artifact(run_id, big, "big"))
measure("pull_big", lambda: mlflow.artifacts.download_artifacts(
    run_id=run_id, artifact_path="big", dst_path=os.path.join(out, "big")))
measure("push_small", lambda: client.log_artifacts(run_id, small, "small"))
measure("pull_small", lambda: mlflow.artifacts.download_artifacts(
    run_id=run_id, artifact_path="small", dst_path=os.path.join(out, "small")))
"""

MLFLOW_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    # Its job runner and huey consumers serve no artifact request but take ~1 GB and CPU.
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "PYTHONWARNINGS": "ignore",
}


@contextmanager
def mlflow_server(
    venv: Path, work: Path, workers: int | None
) -> Iterator[tuple[h.ServerProcess, str]]:
    data = Path(tempfile.mkdtemp(prefix="mlflow-", dir=work))
    port = h.free_port()
    argv = [str(venv / "bin" / "mlflow"), "server", "--backend-store-uri"]
    argv += [f"sqlite:///{data}/mlflow.db", "--artifacts-destination", str(data / "artifacts")]
    argv += ["--host", h.HOST, "--port", str(port)]
    if workers:
        argv += ["--workers", str(workers)]
    url = f"http://{h.HOST}:{port}"
    log = work / "logs" / f"{data.name}.log"
    server = h.ServerProcess(
        "mlflow", argv, f"{url}/health", log, env=MLFLOW_ENV, serving_marker="uvicorn"
    )
    server.start()
    try:
        yield server, url
    finally:
        server.stop()
        shutil.rmtree(data, ignore_errors=True)


def mlflow_repeat(venv: Path, big: Path, small: Path, work: Path, workers: int | None) -> Results:
    """One fresh MLflow server and one client process: each transfer once."""
    out: Results = {}
    dest = Path(tempfile.mkdtemp(prefix="mlflow-pulls-", dir=work))
    with mlflow_server(venv, work, workers) as (server, url):
        argv = [str(venv / "bin" / "python"), "-c", MLFLOW_CLIENT, url, str(big), str(small)]
        proc = subprocess.Popen(
            [*argv, str(dest)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **MLFLOW_ENV},
        )
        try:
            for _ in range(4):
                out.update(_mlflow_step(server, proc))
            if proc.wait(timeout=60) != 0:
                raise RuntimeError("the MLflow client failed")
        finally:
            if proc.poll() is None:
                proc.kill()
    verify(big, dest / "big" / "big" / big.name, small, dest / "small" / "small")
    shutil.rmtree(dest)
    return out


def _mlflow_step(server: h.ServerProcess, proc: subprocess.Popen[str]) -> Results:
    """Read one measurement from the MLflow client, with the server's CPU and RSS over it."""
    assert proc.stdin is not None
    assert proc.stdout is not None
    cpu0 = server.cpu()[0]
    with RssSampler(server) as sampler:
        line = proc.stdout.readline()
    if not line:
        raise RuntimeError("the MLflow client stopped early")
    ((name, figures),) = json.loads(line).items()
    figures.update(
        server_cpu_s=server.cpu()[0] - cpu0,
        server_rss_growth_mb=sampler.growth_mb,
        loadavg_1m=os.getloadavg()[0],
    )
    proc.stdin.write("\n")
    proc.stdin.flush()
    return {name: figures}


# --------------------------------------------------------------------------- summary

# figure -> (what, unit, higher is better, how a batch's value is computed)
FIGURES: dict[str, tuple[str, str, bool]] = {
    "push_big_cold": ("upload big: push, digest not cached (hash + send)", "MiB/s", True),
    "push_big_cached": ("upload big: push, digest cached (send only)", "MiB/s", True),
    "push_big": ("upload big", "MiB/s", True),
    "dd_fdatasync": ("dd conv=fdatasync of the big file", "MiB/s", True),
    "cp": ("cp of the big file", "MiB/s", True),
    "pull_big": ("download big (empty cache)", "MiB/s", True),
    "repush_big_sdk": ("re-push of the unchanged big file, SDK", "s", False),
    "repush_big_cli": ("re-push of the unchanged big file, CLI", "s", False),
    "push_small": ("push of the small files", "s", False),
    "pull_small": ("pull of the small files", "s", False),
    "cp_r_small": ("cp -r + sync of the small files", "s", False),
}


def value(name: str, batch: Results, sizes: Sizes) -> float:
    if FIGURES[name][1] == "MiB/s":
        return float(sizes.big_mib / batch["wall_s"])
    return float(batch["wall_s"])


def summarize(raw: Results, sizes: Sizes) -> Results:
    """{system: {figure: {"spread", "config", and spreads of CPU and RSS}}}; for MLflow the
    configuration with the better median of each figure."""
    out: Results = {}
    for system, configs in raw.items():
        best: Results = {}
        for config, repeats in configs.items():
            for name in repeats[0]:
                batches = [r[name] for r in repeats]
                s = h.spread([value(name, b, sizes) for b in batches])
                higher = FIGURES[name][2]
                cur = best.get(name)
                if cur is None or (s["median"] > cur["spread"]["median"]) == higher:
                    best[name] = {"spread": s, "config": config, **_extras(batches)}
        out[system] = best
    return out


def _extras(batches: list[Results]) -> Results:
    extras = {}
    for field in ("server_cpu_s", "client_cpu_s", "server_rss_growth_mb", "loadavg_1m"):
        if all(field in b for b in batches):
            extras[field] = h.spread([b[field] for b in batches])
    return extras


def targets(summary: Results) -> list[dict[str, Any]]:
    my, ml = (summary.get(k, {}) for k in ("modelyard", "mlflow"))

    def med(src: Results, name: str) -> float | None:
        return src.get(name, {}).get("spread", {}).get("median")

    def row(target: str, v: float | None, unit: str, ok: Callable[[float], bool]) -> Results:
        return {"target": target, "value": v, "unit": unit, "pass": None if v is None else ok(v)}

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    up = med(my, "push_big_cold")
    rss = [
        my.get(n, {}).get("server_rss_growth_mb", {}).get("median")
        for n in ("push_big_cold", "push_big_cached", "pull_big")
    ]
    rss_max = max((r for r in rss if r is not None), default=None)
    rows = [
        row(
            "upload >= 70% of dd conv=fdatasync",
            _of_dd(summary, "push_big_cold"),
            "x",
            lambda v: v >= 0.7,
        ),
        row(
            "upload (digest cached) >= 70% of dd",
            _of_dd(summary, "push_big_cached"),
            "x",
            lambda v: v >= 0.7,
        ),
        row("upload vs MLflow (reported)", ratio(up, med(ml, "push_big")), "x", lambda v: True),
        row(
            "download >= 5x MLflow",
            ratio(med(my, "pull_big"), med(ml, "pull_big")),
            "x",
            lambda v: v >= 5,
        ),
        row(
            "re-push of the unchanged big file <= 2 s (CLI)",
            med(my, "repush_big_cli"),
            "s",
            lambda v: v <= 2,
        ),
        row(
            "small-file push >= 10x MLflow",
            ratio(med(ml, "push_small"), med(my, "push_small")),
            "x",
            lambda v: v >= 10,
        ),
        row(
            "small-file pull >= 5x MLflow",
            ratio(med(ml, "pull_small"), med(my, "pull_small")),
            "x",
            lambda v: v >= 5,
        ),
        row("server RSS growth during a big transfer <= 100 MB", rss_max, "MB", lambda v: v <= 100),
    ]
    return rows


def _of_dd(summary: Results, name: str) -> float | None:
    """Median over the repeats of the push's MiB/s over dd's in the same repeat (the disk's
    speed moves a lot on a shared machine; a ratio of two medians would mix repeats)."""
    ratios = summary.get("upload_over_dd", {}).get(name)
    return h.spread(ratios)["median"] if ratios else None


def upload_over_dd(raw: Results) -> Results:
    disk = raw.get("physical", {}).get("local disk", [])
    mine = raw.get("modelyard", {}).get("workers=1", [])
    out: Results = {}
    for name in ("push_big_cold", "push_big_cached"):
        pairs = [(m[name], d["dd_fdatasync"]) for m, d in zip(mine, disk, strict=False)]
        out[name] = [dd["wall_s"] / m["wall_s"] for m, dd in pairs]
    return out


def fmt(s: Results | None) -> str:
    if not s or not s.get("n"):
        return "-"
    return f"{_num(s['median'])} ({_num(s['min'])}-{_num(s['max'])})"


def _num(v: float) -> str:
    if v != v:
        return "nan"
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def print_tables(summary: Results, sizes: Sizes) -> None:
    table = Table(
        title=f"Transfers: {sizes.big_mib} MiB file, {sizes.files} files of "
        f"{sizes.file_bytes // 1000} KB (median (min-max))"
    )
    columns = ("figure", "unit", "system", "value", "server CPU s", "client CPU s")
    for col in (*columns, "RSS growth MB", "load"):
        table.add_column(col, overflow="fold")
    for system in ("physical", "modelyard", "mlflow"):
        for name, fig in summary.get(system, {}).items():
            what, unit, _ = FIGURES[name]
            label = system if system != "mlflow" else f"mlflow ({fig['config']})"
            table.add_row(
                what,
                unit,
                label,
                fmt(fig["spread"]),
                fmt(fig.get("server_cpu_s")),
                fmt(fig.get("client_cpu_s")),
                fmt(fig.get("server_rss_growth_mb")),
                fmt(fig.get("loadavg_1m")),
            )
        table.add_section()
    console.print(table)
    tt = Table(title="Targets (Modelyard)")
    for col in ("target", "value", "result"):
        tt.add_column(col)
    for r in summary["targets"]:
        v = "-" if r["value"] is None else f"{_num(r['value'])} {r['unit']}"
        tt.add_row(
            r["target"], v, {True: "[green]PASS", False: "[red]FAIL", None: "n/a"}[r["pass"]]
        )
    console.print(tt)


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repeats", type=int, default=3, help="measurements per figure (default 3)")
    p.add_argument("--quick", action="store_true", help="128 MiB and 200 files (a smoke run)")
    p.add_argument("--skip-mlflow", action="store_true", help="Modelyard and the disk only")
    p.add_argument("--mlflow-venv", type=Path, default=BENCH_DIR / ".venv-mlflow")
    p.add_argument("--out", type=Path, help="JSON path (default results/transfer-<date>.json)")
    p.add_argument("--keep-work", action="store_true", help="keep the data dirs and logs")
    p.add_argument(
        "--reprint", type=Path, help="print the tables of a results file, measure nothing"
    )
    args = p.parse_args(argv)
    if args.reprint:
        return reprint(args.reprint)
    h.install_cleanup_handlers()
    sizes = QUICK if args.quick else FULL
    work = Path(tempfile.mkdtemp(prefix="transfer-", dir=_mkdir(BENCH_DIR / ".work")))
    _mkdir(work / "logs")
    raw: Results = {"physical": {"local disk": []}, "modelyard": {"workers=1": []}}
    versions: Results = {"modelyard": _modelyard_version()}
    try:
        check_disk(work, sizes)
        console.print(f"making {sizes.big_mib} MiB + {sizes.files} files in {work}")
        big, small = make_data(work, sizes)
        mlflow_configs: dict[str, int | None] = {}
        if not args.skip_mlflow:
            versions["mlflow"] = h.ensure_mlflow_venv(
                args.mlflow_venv, MLFLOW_VERSION, lambda m: console.print(f"[dim]{m}")
            )
            mlflow_configs = {"workers=4 (default)": None, "workers=1": 1}
            for label in mlflow_configs:
                raw.setdefault("mlflow", {})[label] = []
        for rep in range(args.repeats):
            console.rule(f"repeat {rep + 1}/{args.repeats}")
            raw["physical"]["local disk"].append(physical(big, small, work))
            _say("disk", raw["physical"]["local disk"][-1], sizes)
            raw["modelyard"]["workers=1"].append(modelyard_repeat(big, small, work))
            _say("modelyard", raw["modelyard"]["workers=1"][-1], sizes)
            for label, workers in mlflow_configs.items():
                raw["mlflow"][label].append(
                    mlflow_repeat(args.mlflow_venv, big, small, work, workers)
                )
                _say(f"mlflow {label}", raw["mlflow"][label][-1], sizes)
    except KeyboardInterrupt:
        console.print("[red]interrupted; servers stopped")
        return 130
    finally:
        h.stop_all_servers()
        if not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    summary = summarize(raw, sizes)
    summary["upload_over_dd"] = upload_over_dd(raw)
    summary["targets"] = targets(summary)
    print_tables(summary, sizes)
    _write_json(args, sizes, versions, raw, summary)
    return 0


def reprint(path: Path) -> int:
    """The tables of an earlier run, recomputed from its raw figures."""
    doc = json.loads(path.read_text())
    sizes = Sizes(**doc["sizes"])
    summary = summarize(doc["raw"], sizes)
    summary["upload_over_dd"] = upload_over_dd(doc["raw"])
    summary["targets"] = targets(summary)
    print_tables(summary, sizes)
    return 0


def _say(system: str, batch: Results, sizes: Sizes) -> None:
    parts = []
    for name, b in batch.items():
        unit = FIGURES[name][1]
        cpu = f" cpu {b['server_cpu_s']:.2f}s" if "server_cpu_s" in b else ""
        cpu += f" client {b['client_cpu_s']:.2f}s" if "client_cpu_s" in b else ""
        parts.append(f"{name} {value(name, b, sizes):.1f} {unit}{cpu}")
    console.print(f"  [dim]{system:22} " + " | ".join(parts) + f"  load {os.getloadavg()[0]:.1f}")


def _modelyard_version() -> Results:
    git = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
    )
    return {"git_commit": git.stdout.strip(), "src_uncommitted_changes": bool(dirty.stdout)}


def _write_json(
    args: argparse.Namespace, sizes: Sizes, versions: Results, raw: Results, summary: Results
) -> None:
    today = dt.date.today().isoformat()
    name = f"transfer-{today}{'-quick' if args.quick else ''}.json"
    out = args.out or BENCH_DIR / "results" / name
    _mkdir(out.parent)
    doc = {
        "benchmark": "transfer",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "kernel": platform.release(),
        },
        "args": {k: str(v) for k, v in vars(args).items()},
        "sizes": sizes.__dict__,
        "versions": versions,
        "summary": summary,
        "raw": raw,
    }
    out.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    console.print(
        f"results written to {out.relative_to(REPO) if out.is_relative_to(REPO) else out}"
    )


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
