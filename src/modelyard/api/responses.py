"""JSON responses written once, for the registry's hot routes.

A route that returns a pydantic model makes FastAPI validate it again against the declared
response model, dump it to Python objects and encode those with ``json.dumps``: for a page of
100 versions, more CPU than reading them. The models these routes build come from typed domain
records and were validated when they were made; ``as_json`` has pydantic write their JSON in
one pass. Such routes declare ``response_model=`` so the OpenAPI document stays as it was.
"""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def as_json(model: BaseModel, status_code: int = 200) -> Response:
    body = model.__pydantic_serializer__.to_json(model)
    return Response(body, status_code=status_code, media_type="application/json")
