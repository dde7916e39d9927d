"""Entry point for uvicorn worker processes: ``uvicorn --factory modelyard.api.asgi:from_env``.

``modelyard serve`` passes its options to the workers through ``MODELYARD_*`` variables; each
worker builds its own app (and database pool) when it starts, not at import.
"""

from __future__ import annotations

from fastapi import FastAPI

from modelyard.api.app import create_app
from modelyard.settings import Settings


def from_env() -> FastAPI:
    return create_app(Settings.from_env())
