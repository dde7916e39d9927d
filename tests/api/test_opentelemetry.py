"""FastAPI's native OpenTelemetry instrumentation is off unless MODELYARD_OPENTELEMETRY asks
for it: left on, every request asks the global providers whether any is configured."""

from __future__ import annotations

import dataclasses

import pytest
from opentelemetry import trace

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.settings import Settings
from tests import identity as make


def _provider_lookups(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, token: str
) -> int:
    calls = 0
    real = trace.get_tracer_provider

    def counting() -> trace.TracerProvider:
        nonlocal calls
        calls += 1
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counting)
    with make.http_as(create_app(settings, db), token) as client:
        for _ in range(3):
            assert client.get("/api/v1/namespaces").status_code == 200
    return calls


def test_requests_do_not_consult_opentelemetry_by_default(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, admin_token: str
) -> None:
    assert settings.opentelemetry is False
    assert _provider_lookups(settings, db, monkeypatch, admin_token) == 0


def test_modelyard_opentelemetry_turns_fastapis_instrumentation_on(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, admin_token: str
) -> None:
    on = dataclasses.replace(settings, opentelemetry=True)
    assert _provider_lookups(on, db, monkeypatch, admin_token) >= 3


def test_the_switch_reads_from_the_environment() -> None:
    assert Settings.from_env({"MODELYARD_OPENTELEMETRY": "true"}).opentelemetry is True
    assert Settings.from_env({}).opentelemetry is False
