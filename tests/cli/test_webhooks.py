"""``modelyard webhooks …`` through CliRunner on the app in process; ``worker --once`` on the
same database."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from modelyard.cli import app as cli_app
from modelyard.client import Client
from modelyard.settings import Settings
from tests.cli.conftest import Run, fits
from tests.webhook_support import Receiver

URL = "https://hooks.example.com/modelyard"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.with_(webhooks_allow_private=True)


def test_create_prints_the_secret_once_then_list_show_update_rm(run: Run, sdk: Client) -> None:
    made = run("webhooks", "create", URL, "-e", "transition.*", "-e", "model.created")
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip()
    assert secret.startswith("whsec_")
    assert "shown this once" in made.stderr
    (hook,) = sdk.list_webhooks()
    listed = run("webhooks", "list")
    assert hook.id[:8] in listed.stdout
    assert "transition.*,model.created @ (all)" in listed.stdout
    assert fits(listed.stdout)
    shown = run("webhooks", "show", hook.id[:6])
    assert secret not in shown.stdout
    assert "transition.*, model.created" in shown.stdout
    updated = run("webhooks", "update", hook.id[:6], "--inactive", "--all-events", "--json")
    assert (json.loads(updated.stdout)["active"], json.loads(updated.stdout)["events"]) == (
        False,
        [],
    )
    rotated = run("webhooks", "rotate-secret", hook.id[:6])
    assert rotated.stdout.strip().startswith("whsec_")
    assert rotated.stdout.strip() != secret
    overlap = run("webhooks", "rotate-secret", hook.id[:6], "--keep-previous", "600")
    assert overlap.exit_code == 0, overlap.output
    assert "the previous secret also signs until" in overlap.stderr
    assert "also signs until" in run("webhooks", "show", hook.id[:6]).stdout
    assert run("webhooks", "rm", hook.id[:6]).exit_code == 0
    assert sdk.list_webhooks() == []
    missing = run("webhooks", "show", hook.id)
    assert missing.exit_code == 1
    assert "error: WEBHOOK_NOT_FOUND" in missing.stderr


def test_refused_target_is_a_clear_error(run: Run, settings: Settings) -> None:
    # This app allows private targets; the link-local check is lifted with them, so ask one
    # that has it on: a URL with credentials is refused everywhere.
    answer = run("webhooks", "create", "https://me:pw@example.com/h")
    assert answer.exit_code == 1
    assert "error: WEBHOOK_URL_INVALID" in answer.stderr


def test_test_worker_once_deliveries_and_redeliver(
    run: Run, sdk: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "MODELYARD_DATA_DIR": str(settings.data_dir),
        "MODELYARD_DATABASE_URL": settings.resolved_database_url,
        "MODELYARD_WEBHOOKS_ALLOW_PRIVATE": "true",
        "MODELYARD_WEBHOOKS_MAX_ATTEMPTS": "1",
        "MODELYARD_WEBHOOKS_RETRY_BASE_SECONDS": "0",
    }.items():
        monkeypatch.setenv(name, value)
    with Receiver(answers=[500]) as receiver:
        made = run("webhooks", "create", receiver.url, "--json")
        hook = json.loads(made.stdout)
        queued = run("webhooks", "test", hook["id"][:8])
        assert "queued test event" in queued.stdout
        worker = CliRunner().invoke(cli_app, ["webhooks", "worker", "--once"])
        assert worker.exit_code == 0, worker.output
        dead = run("webhooks", "deliveries", hook["id"][:8], "--status", "dead")
        (delivery,) = sdk.list_deliveries(hook["id"]).items
        attempts = run("webhooks", "deliveries", hook["id"][:8], delivery.id[:8])
        again = run("webhooks", "redeliver", hook["id"][:8], delivery.id[:8])
        CliRunner().invoke(cli_app, ["webhooks", "worker", "--once"])
        log = run("webhooks", "deliveries", hook["id"][:8], "--json")
    assert delivery.id[:8] in dead.stdout
    assert "HTTP 500" in dead.stdout
    assert fits(dead.stdout)
    assert "1 attempt(s)" in attempts.stdout
    assert "HTTP 500" in attempts.stdout
    assert again.exit_code == 0, again.output
    assert [(d["status"], d["attempts"]) for d in json.loads(log.stdout)] == [("delivered", 2)]
    assert [r.status for r in receiver.requests] == [500, 200]
    assert receiver.requests[1].event(hook["secret"])["type"] == "webhook.test"
