"""How route handlers reach the database: the ``Db`` dependency and ``run`` for service calls.

(``api/deps.py`` re-exports both; this module exists so that ``api/access.py``, which
``deps.py`` builds on, can use them without an import cycle.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from modelyard.db.engine import Database

P = ParamSpec("P")
R = TypeVar("R")


async def run(db: Database, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a service call for a route handler.

    On SQLite the call runs inline on the event loop: the registry's queries take tens to
    hundreds of microseconds, less than a hop to the thread pool and back costs, and SQLite
    writers are serialised anyway. On PostgreSQL (a network round trip per statement) it runs in
    the thread pool so one slow statement never stalls the other requests of the worker.
    """
    if db.dialect == "sqlite":
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


Db = Annotated[Database, Depends(get_db)]
