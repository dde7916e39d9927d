"""What bounds a verified pull of a big file on this machine: each piece of the work alone.

    python benchmarks/pull_floor.py            # 1 GiB, 3 repeats
    python benchmarks/pull_floor.py --mib 256  # smaller

A pull of one big blob must: receive the bytes from a socket, hash them (SHA-256) and write
them to a file (the page cache; the disk catches up later). Each is measured here alone, in
this process, with wall and CPU seconds per GiB:

    sha256           hashlib over 4 MiB buffers (OpenSSL; SHA-NI where the CPU has it)
    memcpy           one copy of the bytes in memory (what a user-space buffer costs)
    loopback         sendfile from a cached file to a socket, recv_into a 4 MiB buffer
                     (sender and receiver both counted: the network part, server included)
    write cold       write() of a new file after the memory sat free for a few seconds
    write warm       the same again at once (pages the kernel just freed)
    write prefilled  a sparse file whose page cache a second thread fills ahead of the writer
                     (posix_fadvise WILLNEED, as the SDK does; CPU of both threads)

On a virtual machine that hands free memory back to its host (free page reporting), a page
used for the first time costs a fault in the host: "write cold" against "write warm" shows it.
The best possible pull on 2 cores is about max(hash, (everything else) / cores).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

BUFFER = 4 * 1024 * 1024
STEP = 2 * 1024 * 1024  # as the SDK (client/_download.py)
AHEAD = 64 * 1024 * 1024


def measure(fn: Callable[[], None]) -> tuple[float, float]:
    c0, w0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - w0, time.process_time() - c0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--mib", type=int, default=1024)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--pause", type=float, default=5.0, help="idle seconds before a cold write")
    args = p.parse_args()
    size = args.mib * 1024 * 1024
    buf = memoryview(bytearray(os.urandom(BUFFER)))
    work = Path(tempfile.mkdtemp(prefix="pull-floor-", dir=Path(__file__).parent))
    source = work / "source"
    with source.open("wb") as f:
        for _ in range(size // BUFFER):
            f.write(buf)

    def sha() -> None:
        h = hashlib.sha256()
        for _ in range(size // BUFFER):
            h.update(buf)

    dst = bytearray(BUFFER)

    def memcpy() -> None:
        for _ in range(size // BUFFER):
            dst[:] = buf

    def loopback() -> None:
        with socket.create_server(("127.0.0.1", 0)) as server:

            def send() -> None:
                with socket.create_connection(server.getsockname()) as s, source.open("rb") as f:
                    sent = 0
                    while sent < size:
                        sent += os.sendfile(s.fileno(), f.fileno(), sent, size - sent)

            sender = threading.Thread(target=send)
            sender.start()
            conn, _ = server.accept()
            with conn:
                while conn.recv_into(buf):
                    pass
            sender.join()

    def write(prefill: bool) -> Callable[[], None]:
        def run() -> None:
            target = work / "written"
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            done = [0]
            filler = None
            if prefill:
                os.ftruncate(fd, size)

                def fill() -> None:
                    at = 0
                    while at < size:
                        while at >= done[0] + AHEAD:
                            time.sleep(0.0005)
                        os.posix_fadvise(fd, at, STEP, os.POSIX_FADV_WILLNEED)
                        at += STEP

                filler = threading.Thread(target=fill)
                filler.start()
            for _ in range(size // BUFFER):
                done[0] += os.write(fd, buf)
            if filler is not None:
                filler.join()
            os.close(fd)
            target.unlink()

        return run

    # (name, what, idle first: the memory freed before it goes back to the host)
    cases: list[tuple[str, Callable[[], None], bool]] = [
        ("sha256", sha, False),
        ("memcpy", memcpy, False),
        ("loopback", loopback, False),
        ("write cold", write(False), True),
        ("write warm", write(False), False),
        ("write prefilled (cold)", write(True), True),
    ]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in cases}
    try:
        for _ in range(args.repeats):
            for name, fn, idle in cases:
                if idle:
                    time.sleep(args.pause)
                results[name].append(measure(fn))
    finally:
        for path in work.iterdir():
            path.unlink()
        work.rmdir()
    gib = size / 2**30
    print(
        f"{args.mib} MiB, {args.repeats} repeats, load {os.getloadavg()[0]:.1f}; median (min-max)"
    )
    print(f"{'':24} {'MiB/s':>22} {'CPU s per GiB':>22}")
    for name, rows in results.items():
        rates = [args.mib / w for w, _ in rows]
        cpus = [c / gib for _, c in rows]
        print(f"{name:24} {spread(rates):>22} {spread(cpus):>22}")
    return 0


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


if __name__ == "__main__":
    raise SystemExit(main())
