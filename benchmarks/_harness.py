"""Machinery shared by the benchmark scripts: servers as process trees, /proc accounting,
latency statistics and the private MLflow virtualenv.

Why whole process trees: both servers fork. What we start and what we measure look like this

    spawned command (own session, so its process group id is its pid)
    ├── request workers      uvicorn --workers N children; they serve the requests
    └── helpers              anything else the server starts (MLflow: a job runner, huey consumers)

so CPU time and memory are summed over every live descendant, found by walking /proc parent
links (a worker that called setsid would leave the process group but not the tree). A
descendant that already exited and was reaped is still counted, through its parent's
cutime/cstime. Stopping kills the process group and then any straggler left in the tree.

Only 127.0.0.1 is ever used, and every wait here is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"


# --------------------------------------------------------------------------- /proc accounting


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from field 3 (state) on; None if the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """The root pid and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime+stime of each process plus cutime+cstime (its reaped children), in seconds."""
    ticks = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            ticks += sum(int(v) for v in fields[11:15])
    return ticks / CLOCK_TICKS


def memory_bytes(pids: Iterable[int]) -> dict[str, int]:
    """Summed RSS (counts pages shared between forked workers once per process) and PSS
    (shares them out, so it adds up to the real footprint)."""
    rss = pss = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
    return {"rss": rss, "pss": pss}


def rss_bytes(pids: Iterable[int]) -> int:
    """Summed VmRSS only: cheap enough to sample every few milliseconds."""
    rss = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1]) * 1024
                    break
    return rss


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


_LIVE: set[ServerProcess] = set()
_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(eq=False)
class ServerProcess:
    """One server started in its own session. `serving_marker`, if set, names the part of the
    tree that serves HTTP (a substring of its command line); CPU is also reported for that
    subtree alone so that idle helper processes cannot inflate a per-request figure."""

    name: str
    argv: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    serving_marker: str | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180.0) -> float:
        """Spawn and wait for the first 200 from the health URL; returns seconds from spawn."""
        env = {**os.environ, **self.env}
        log = self.log_path.open("ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        log.close()
        _LIVE.add(self)
        elapsed = wait_healthy(self.health_url, t0, timeout, self.proc)
        if elapsed is None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"{self.name} did not become healthy in {timeout:.0f}s:\n{tail}")
        return elapsed

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def tree(self) -> list[int]:
        return process_tree(self.pid)

    def serving_tree(self) -> list[int]:
        if self.serving_marker:
            for pid in self.tree():
                if self.serving_marker in cmdline(pid):
                    return process_tree(pid)
        return self.tree()

    def cpu(self) -> tuple[float, float]:
        """(whole tree, serving subtree) CPU seconds so far."""
        return cpu_seconds(self.tree()), cpu_seconds(self.serving_tree())

    def memory(self) -> dict[str, int]:
        pids = self.tree()
        return {**memory_bytes(pids), "processes": len(pids)}

    def stop(self) -> None:
        if self.proc is None:
            return
        pids = self.tree()
        _signal_group(self.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        _signal_group(self.pid, signal.SIGKILL)
        for pid in pids:  # stragglers that left the process group
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.proc = None
        _LIVE.discard(self)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def stop_all_servers() -> None:
    """Stop every server still running; a second Ctrl-C must not cut this short."""
    if not _LIVE:
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in _SIGNALS}
    try:
        for server in list(_LIVE):
            server.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def install_cleanup_handlers() -> None:
    """Ctrl-C and SIGTERM unwind through `finally` blocks (which stop the servers); atexit
    catches the rest."""
    import atexit

    atexit.register(stop_all_servers)

    def _raise(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    # SIGINT explicitly too: a shell starts background jobs with it ignored.
    for sig in _SIGNALS:
        signal.signal(sig, _raise)


def wait_healthy(
    url: str, t0: float, timeout: float, proc: subprocess.Popen[bytes]
) -> float | None:
    """Poll every 5 ms on a fresh connection; seconds from t0 to the first 200, or None."""
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            return None
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    return None


# --------------------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty sequence."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values) + 0.4999))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median with min and max: how every repeated figure is reported."""
    clean = [v for v in values if v == v]  # drop NaN
    if not clean:
        return {"median": float("nan"), "min": float("nan"), "max": float("nan"), "n": 0}
    return {
        "median": statistics.median(clean),
        "min": min(clean),
        "max": max(clean),
        "n": len(clean),
    }


# --------------------------------------------------------------------------- MLflow venv


def ensure_mlflow_venv(
    venv: Path, version: str, say: Callable[[str], None]
) -> dict[str, str | None]:
    """Create `venv` with MLflow `version` unless a finished install is already there.

    A plain `pip install mlflow==X` is tried first. When the index lacks the exactly pinned
    mlflow-skinny / mlflow-tracing (seen on 2026-11-27: 3.18.0 served, its children only up
    to 3.17.2), MLflow's own requirements are read from the wheel, the two pins are relaxed
    to `<=X` (pip takes the newest available) and the MLflow wheel is installed last with
    --no-deps. The full MLflow wheel carries the whole `mlflow` package, so installing it last
    means every module that runs is X's own; only the child packages' metadata says 3.17.x.
    """
    marker = venv / ".modelyard-bench-complete"
    python = venv / "bin" / "python"
    if not (marker.exists() and python.exists()):
        say(f"creating {venv} with mlflow {version} (one-off, a few minutes)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet"]
        plain = subprocess.run([*pip, f"mlflow=={version}"], capture_output=True, text=True)
        if plain.returncode != 0:
            say(f"plain install failed ({_last_line(plain.stderr)}); installing with --no-deps")
            log = venv / "install.log"
            with log.open("w") as out:
                try:
                    _install_mlflow_no_deps(venv, pip, version, out)
                except subprocess.CalledProcessError:
                    say(log.read_text()[-3000:])
                    raise
        marker.write_text(json.dumps(mlflow_versions(python)))
    return mlflow_versions(python)


def _install_mlflow_no_deps(venv: Path, pip: list[str], version: str, out: IO[str]) -> None:
    wheels = venv / "wheels"
    python = str(venv / "bin" / "python")
    download = [python, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(wheels)]
    subprocess.run([*download, f"mlflow=={version}"], check=True, stdout=out, stderr=out)
    wheel = next(wheels.glob(f"mlflow-{version}-*.whl"))
    for step in (_runtime_requirements(wheel, version), ["--no-deps", str(wheel)]):
        subprocess.run([*pip, *step], check=True, stdout=out, stderr=subprocess.STDOUT)


def _runtime_requirements(wheel: Path, version: str) -> list[str]:
    """Requires-Dist of the wheel without extras, markers evaluated, own pins relaxed."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as zf:
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        meta = zf.read(meta_name).decode()
    out = []
    for line in meta.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = Requirement(line.split(":", 1)[1].strip())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        req.marker = None
        if req.name in ("mlflow-skinny", "mlflow-tracing"):
            out.append(f"{req.name}<={version}")
        else:
            out.append(str(req))
    return out


def mlflow_versions(python: Path) -> dict[str, str | None]:
    code = (
        "import json, importlib.metadata as m\n"
        "def v(n):\n"
        "    try: return m.version(n)\n"
        "    except m.PackageNotFoundError: return None\n"
        "print(json.dumps({n: v(n) for n in ('mlflow', 'mlflow-skinny', 'mlflow-tracing')}))"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""
