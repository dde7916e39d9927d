"""Progress of push and pull: rich bars (bytes, rate, ETA) on a terminal, nothing otherwise.

Workers in several threads advance the bars; rich's ``Progress`` serialises updates itself.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

Advance = Callable[[int], None]


class Reporter(Protocol):
    def task(self, description: str, total: int) -> Advance:
        """A new bar of ``total`` bytes; returns the function that advances it."""
        ...

    def __enter__(self) -> Reporter: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Quiet:
    def task(self, description: str, total: int) -> Advance:
        return _ignore

    def __enter__(self) -> Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _ignore(n: int) -> None:
    return None


class Bars:
    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )

    def task(self, description: str, total: int) -> Advance:
        task_id = self._progress.add_task(description, total=total)
        return lambda n: self._progress.advance(task_id, n)

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()


def reporter(show: bool | None) -> Reporter:
    """Bars when ``show`` is True, or when it is None and stderr is a terminal."""
    if show is None:
        show = sys.stderr.isatty()
    return Bars() if show else Quiet()
