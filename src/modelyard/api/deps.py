"""FastAPI dependencies: the database and the acting principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from modelyard.api.access import Caller
from modelyard.api.calls import Db, get_db, run

__all__ = ["Actor", "Db", "current_actor", "get_db", "run"]


async def current_actor(who: Caller) -> str:
    """Who is acting: the signed-in user's or service account's name (``created_by`` and the
    like). Depending on it makes a route need a signed-in caller."""
    return who.name


Actor = Annotated[str, Depends(current_actor)]
