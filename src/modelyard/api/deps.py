"""FastAPI dependencies: the database and the acting principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelyard.api.calls import Db, get_db, run

__all__ = ["ANONYMOUS", "Actor", "Db", "current_actor", "get_db", "run"]

ANONYMOUS = "anonymous"


async def current_actor(request: Request) -> str:
    """Who is acting. Until identity and access land, every request acts as ``anonymous``."""
    return ANONYMOUS


Actor = Annotated[str, Depends(current_actor)]
