"""Filling the page cache ahead of a sequential reader of a big file (Linux).

Used by the local blob store, which streams blobs out (blobs/local.py), and by the SDK, which
hashes the files it pushes (client/_upload.py): neither layer may import the other, and this
is no domain logic, so it lives here, beside ``settings.py``.

Why: a file that is not in the page cache (a blob pulled long after its push, a model pushed
long after it was written) read with plain reads cost the benchmark machine 1.4-2.4 s of CPU per
GiB at 420-615 MiB/s; with ``POSIX_FADV_WILLNEED`` ahead of the reader 0.2 s at 1,500-1,600
MiB/s. On a cached file the advice costs nothing measurable (benchmarks/README.md, "What
bounds a big pull"). Where there is no ``posix_fadvise``, or it fails, reads go on without it.
"""

from __future__ import annotations

import os

WINDOW = 32 * 1024 * 1024  # one POSIX_FADV_WILLNEED
KEEP = 64 * 1024 * 1024  # how far ahead of the reader the advice runs
AVAILABLE = hasattr(os, "posix_fadvise") and hasattr(os, "POSIX_FADV_WILLNEED")


class ReadAhead:
    """Asks the kernel to read ``[ahead, ahead + WINDOW)`` of the file open as ``fd`` into the
    page cache while the reader, which reads ``length`` bytes (to the end when ``None``) from
    ``start``, is less than ``KEEP`` behind. The reader calls ``passed(n)`` after each read."""

    def __init__(self, fd: int, start: int, length: int | None) -> None:
        self.fd = fd
        self.position = self.ahead = start
        self.end = None if length is None else start + length
        self.on = AVAILABLE

    def passed(self, n: int) -> None:
        self.position += n
        if self.on and self.end is None:  # to the end of the file: its size, once
            try:
                self.end = os.fstat(self.fd).st_size
            except OSError:
                self.on = False
        while self.on and self.ahead < self.position + KEEP:
            if self.end is not None and max(self.ahead, self.position) >= self.end:
                return
            self.ahead = max(self.ahead, self.position)  # never behind the reader
            try:
                os.posix_fadvise(self.fd, self.ahead, WINDOW, os.POSIX_FADV_WILLNEED)
            except OSError:
                self.on = False
                return
            self.ahead += WINDOW
