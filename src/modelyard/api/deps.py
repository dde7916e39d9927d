"""FastAPI dependencies: the database and the acting principal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from modelyard.db.engine import Database

ANONYMOUS = "anonymous"


async def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def current_actor(request: Request) -> str:
    """Who is acting. Until identity and access land, every request acts as ``anonymous``."""
    return ANONYMOUS


Db = Annotated[Database, Depends(get_db)]
Actor = Annotated[str, Depends(current_actor)]
