"""FastAPI dependencies: the database and the acting principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelyard.api.access import authenticated
from modelyard.api.calls import Db, get_db, run

__all__ = ["Actor", "Db", "current_actor", "get_db", "run"]


async def current_actor(request: Request) -> str:
    """Who is acting: the signed-in user's or service account's name (``created_by`` and the
    like). Depending on it makes a route need a signed-in caller."""
    return (await authenticated(request)).name


Actor = Annotated[str, Depends(current_actor)]
