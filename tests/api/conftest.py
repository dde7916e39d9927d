"""Fixtures shared by the API tests."""

from __future__ import annotations

import httpx
import pytest

from modelyard.db.engine import Database
from tests import identity as make


@pytest.fixture
def alpha(http: httpx.Client, db: Database) -> None:
    """alpha/fraud (private, no versions); ``ann`` is a contributor of alpha."""
    api = "/api/v1"
    assert http.post(f"{api}/namespaces", json={"name": "alpha"}).status_code == 201
    assert http.post(f"{api}/models", json={"namespace": "alpha", "name": "fraud"}).status_code
    make.user(db, "ann")
    assert http.put(f"{api}/namespaces/alpha/members/ann", json={"role": "contributor"}).is_success
