"""Schemathesis over the published OpenAPI (``/api/v1/openapi.json``), against the real app in
process, on SQLite and PostgreSQL (PostgreSQL refuses NUL characters and has 32-bit integers:
exactly where 500s hide).

Every operation is fuzzed with schema-conforming (positive) and schema-violating (negative)
requests, and checked: no 5xx, responses match their documented schema, status code and
content type. Generated names almost never exist, so each operation also gets requests aimed at
rows seeded for it (a namespace of its own with a model, versions, an alias and tags), and the
search operations get valid filters. Runs are derandomized: the same examples on every run.
"""

from __future__ import annotations

import zlib
from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from modelyard.api.app import OPENAPI_PATH

# Batch uploads are tar streams: send the generated binary as it is (mostly not a tar stream,
# which must be a 400, never a 500).
schemathesis.serializer.alias("application/x-tar", "application/octet-stream")

MAX_EXAMPLES = 20
# Operations are spread over buckets by a stable hash of their label, so pytest-xdist can run the
# buckets in parallel and a new operation is fuzzed without anyone listing it here.
BUCKETS = 6
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
FILTERS = (
    "risk >= 'medium'",
    "tags.team = 'fraud' AND version > 1",
    "name LIKE 'fr%' OR alias IN ('champion')",
    "created_at > '2020-01-01' AND stage != 'production'",
    "namespace ILIKE 'TEAM%' AND (description = '' OR risk < 'high')",
    "alias NOT IN ('a', 'b') AND version IN (1, 2, 2147483647)",
    "updated_at <= '2100-01-01T00:00:00+02:00'",
)
REFS = ("", "@latest", "@1", "@2147483647", "@champion", "@development", "@sha256:" + "0" * 64)


def _seed(http: httpx.Client, namespace: str) -> dict[str, Any]:
    """A namespace of one operation's own (archive and delete operations must not spoil the
    rows of the next one); returns the path parameters that name its rows."""
    model = f"/api/v1/models/{namespace}/fraud"
    for method, path, body in [
        ("POST", "/api/v1/namespaces", {"name": namespace}),
        ("POST", "/api/v1/models", {"namespace": namespace, "name": "fraud"}),
        ("POST", f"{model}/versions", {"tags": {"team": "fraud"}, "metrics": {"auc": 0.9}}),
        ("POST", f"{model}/versions", {"description": "second"}),
        ("PUT", f"{model}/aliases/champion", {"version": 1}),
        ("PUT", f"{model}/tags/team", {"value": "fraud"}),
        ("PUT", f"{model}/risk", {"level": "high", "reason": "decides on payments"}),
    ]:
        response = http.request(method, path, json=body)
        assert response.status_code in (200, 201), response.text
    return {
        "namespace": namespace,
        "name": "fraud",
        "version": 1,
        "alias": "champion",
        "key": "team",
    }


def _strategies(op: Any, known: dict[str, Any]) -> list[Any]:
    strategies = [op.as_strategy(), op.as_strategy(GenerationMode.NEGATIVE)]
    names = {p.name for p in op.path_parameters}
    path = {k: known[k] for k in names} if names and names <= known.keys() else None
    if path:
        strategies.append(op.as_strategy(path_parameters=path))
    query = {p.name for p in op.query}
    if "filter" in query:
        strategies.append(
            st.sampled_from(FILTERS).flatmap(
                lambda f: op.as_strategy(
                    path_parameters=path, query={"filter": f, "order_by": "risk DESC, name"}
                )
            )
        )
    if "ref" in query:
        model = f"{known['namespace']}/fraud"
        strategies.append(
            st.sampled_from(REFS).flatmap(lambda r: op.as_strategy(query={"ref": model + r}))
        )
    return strategies


def _fuzz(op: Any, known: dict[str, Any], headers: dict[str, str]) -> None:
    @given(case=st.one_of(_strategies(op, known)))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()


def _in_bucket(op: Any, bucket: int) -> bool:
    return zlib.crc32(op.label.encode()) % BUCKETS == bucket


@pytest.mark.slow
@pytest.mark.parametrize("bucket", range(BUCKETS))
def test_every_operation_answers_without_5xx_and_as_documented(
    app: FastAPI, http: httpx.Client, bucket: int
) -> None:
    schema = schemathesis.openapi.from_asgi(OPENAPI_PATH, app)
    operations = [r.ok() for r in schema.get_all_operations() if _in_bucket(r.ok(), bucket)]
    # The same credentials as the seeding client (when the server asks for any), so requests get
    # past authentication into the code under test.
    auth = {k: v for k, v in http.headers.items() if k.lower() == "authorization"}
    failures = {}
    for i, op in enumerate(operations):
        known = _seed(http, f"team-{bucket}-{i}")
        try:
            _fuzz(op, known, auth)
        except Exception as exc:  # collected: one run reports every failing operation
            failures[op.label] = str(exc)
    assert failures == {}
