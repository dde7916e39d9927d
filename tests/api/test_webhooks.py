"""/api/v1/webhooks over the real HTTP stack: management, who may manage what, SSRF refusal at
creation, test events, the delivery log and redelivery (with the worker driven by the test)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from modelyard.api.app import create_app
from modelyard.db.engine import Database
from modelyard.db.tables import DeniedRequestRow
from modelyard.domain.access import Role
from modelyard.services.secretbox import SecretBox
from modelyard.settings import Settings
from tests import identity as make
from tests.support import started
from tests.webhook_support import Receiver, running_worker, settle

API = "/api/v1"
HOOKS = f"{API}/webhooks"
PUBLIC = "https://hooks.example.com/modelyard"


def _status(response: httpx.Response) -> tuple[int, str]:
    body = response.json() if response.content else {}
    return response.status_code, body.get("error", {}).get("code", "")


@pytest.fixture
def private_ok(settings: Settings, db: Database, admin_token: str) -> Iterator[httpx.Client]:
    """The admin on an app that allows private targets (MODELYARD_WEBHOOKS_ALLOW_PRIVATE)."""
    app = create_app(settings.with_(webhooks_allow_private=True), db)
    with make.http_as(app, admin_token) as client:
        yield client


@pytest.fixture
def teams(db: Database) -> None:
    """alpha: mia maintainer, carl contributor; beta: bob admin."""
    make.team(db, "alpha", mia=Role.MAINTAINER, carl=Role.CONTRIBUTOR)
    make.team(db, "beta", bob=Role.ADMIN)


def test_create_show_list_update_delete(http: httpx.Client) -> None:
    made = http.post(HOOKS, json={"url": PUBLIC, "events": ["transition.*"], "description": "CI"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["secret"].startswith("whsec_")
    assert (body["url"], body["events"], body["namespaces"], body["active"]) == (
        PUBLIC,
        ["transition.*"],
        [],
        True,
    )
    one = f"{HOOKS}/{body['id']}"
    shown = http.get(one).json()
    assert "secret" not in shown
    assert shown["created_by"] == "admin"
    assert [h["id"] for h in http.get(HOOKS).json()] == [body["id"]]
    changed = http.patch(one, json={"active": False, "events": []}).json()
    assert (changed["active"], changed["events"], changed["description"]) == (False, [], "CI")
    assert http.delete(one).status_code == 204
    assert _status(http.get(one)) == (404, "WEBHOOK_NOT_FOUND")
    assert http.get(HOOKS).json() == []


def test_rotating_the_secret_shows_a_new_one_once(http: httpx.Client) -> None:
    made = http.post(HOOKS, json={"url": PUBLIC}).json()
    rotated = http.post(f"{HOOKS}/{made['id']}/rotate-secret")
    assert rotated.status_code == 200
    assert rotated.json()["secret"].startswith("whsec_")
    assert rotated.json()["secret"] != made["secret"]
    assert "secret" not in http.get(f"{HOOKS}/{made['id']}").json()
    assert rotated.json()["previous_secret_until"] is None


def test_rotating_with_an_overlap_shows_until_when_the_old_secret_signs(
    http: httpx.Client,
) -> None:
    made = http.post(HOOKS, json={"url": PUBLIC}).json()
    url = f"{HOOKS}/{made['id']}/rotate-secret"
    rotated = http.post(url, json={"keep_previous_seconds": 3600})
    assert rotated.status_code == 200
    until = datetime.fromisoformat(rotated.json()["previous_secret_until"])
    assert timedelta(minutes=59) < until - datetime.now(UTC) <= timedelta(hours=1)
    assert http.get(f"{HOOKS}/{made['id']}").json()["previous_secret_until"] is not None
    for bad in ({"keep_previous_seconds": -1}, {"keep_previous_seconds": 604801}, {"x": 1}):
        assert _status(http.post(url, json=bad)) == (422, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:9000/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_targets_are_refused_at_creation(http: httpx.Client, url: str) -> None:
    answer = http.post(HOOKS, json={"url": url})
    assert _status(answer) == (400, "WEBHOOK_TARGET_FORBIDDEN")
    assert "MODELYARD_WEBHOOKS_ALLOW_PRIVATE" in answer.json()["error"]["message"]
    assert http.get(HOOKS).json() == []


def test_a_name_that_resolves_to_a_private_address_is_refused_at_creation(
    http: httpx.Client,
) -> None:
    host = socket.gethostname()
    if not any(info[4][0].startswith("127.") for info in socket.getaddrinfo(host, 80)):
        pytest.skip(f"{host} does not resolve to a loopback address here")
    answer = http.post(HOOKS, json={"url": f"http://{host}:8080/hook"})
    assert _status(answer) == (400, "WEBHOOK_TARGET_FORBIDDEN")
    assert f"{host} resolves to 127.0.0.1" in answer.json()["error"]["message"]


def test_changing_the_url_to_a_private_one_is_refused(http: httpx.Client) -> None:
    made = http.post(HOOKS, json={"url": PUBLIC}).json()
    answer = http.patch(f"{HOOKS}/{made['id']}", json={"url": "http://192.168.1.1/x"})
    assert _status(answer) == (400, "WEBHOOK_TARGET_FORBIDDEN")
    assert http.get(f"{HOOKS}/{made['id']}").json()["url"] == PUBLIC


def test_private_targets_are_allowed_when_the_server_says_so(private_ok: httpx.Client) -> None:
    answer = private_ok.post(HOOKS, json={"url": "http://127.0.0.1:8080/hook"})
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"url": "ftp://example.com/x"}, "WEBHOOK_URL_INVALID"),
        ({"url": "https://u:p@example.com/x"}, "WEBHOOK_URL_INVALID"),
        ({"url": PUBLIC, "events": ["Model Created"]}, "WEBHOOK_FILTER_INVALID"),
        ({"url": PUBLIC, "namespaces": ["Not A Name"]}, "NAME_INVALID"),
        ({"url": PUBLIC, "secret": "mine"}, "VALIDATION_FAILED"),
        ({"url": 5}, "VALIDATION_FAILED"),
        ({"events": ["*"]}, "VALIDATION_FAILED"),
    ],
)
def test_bad_input_is_a_clear_4xx(http: httpx.Client, body: dict[str, Any], code: str) -> None:
    assert _status(http.post(HOOKS, json=body))[1] == code


@pytest.mark.usefixtures("teams")
def test_maintainers_manage_webhooks_of_their_namespaces_only(
    app: FastAPI, db: Database, http: httpx.Client
) -> None:
    global_hook = http.post(HOOKS, json={"url": PUBLIC}).json()
    both = http.post(HOOKS, json={"url": PUBLIC, "namespaces": ["alpha", "beta"]}).json()
    with make.http_as(app, make.token(db, "mia")) as mia:
        mine = mia.post(HOOKS, json={"url": PUBLIC, "namespaces": ["alpha"]})
        assert mine.status_code == 201, mine.text
        as_global = mia.post(HOOKS, json={"url": PUBLIC})
        in_beta = mia.post(HOOKS, json={"url": PUBLIC, "namespaces": ["beta"]})
        listed = [h["id"] for h in mia.get(HOOKS).json()]
        others = [mia.get(f"{HOOKS}/{h['id']}") for h in (global_hook, both)]
        delete_other = mia.delete(f"{HOOKS}/{global_hook['id']}")
        widen = mia.patch(f"{HOOKS}/{mine.json()['id']}", json={"namespaces": ["alpha", "beta"]})
        to_global = mia.patch(f"{HOOKS}/{mine.json()['id']}", json={"namespaces": []})
        test = mia.post(f"{HOOKS}/{mine.json()['id']}/test")
    with make.http_as(app, make.token(db, "carl")) as carl:
        contributor = carl.post(HOOKS, json={"url": PUBLIC, "namespaces": ["alpha"]})
        carl_list = carl.get(HOOKS).json()
    assert _status(as_global) == (403, "PERMISSION_DENIED")
    assert _status(in_beta) == (404, "NAMESPACE_NOT_FOUND")
    assert listed == [mine.json()["id"]]
    assert [_status(r) for r in others] == [(404, "WEBHOOK_NOT_FOUND")] * 2
    assert _status(delete_other) == (404, "WEBHOOK_NOT_FOUND")
    assert _status(widen) == (404, "NAMESPACE_NOT_FOUND")
    assert _status(to_global) == (403, "PERMISSION_DENIED")
    assert test.status_code == 202
    assert _status(contributor) == (403, "PERMISSION_DENIED")
    assert carl_list == []
    assert http.get(f"{HOOKS}/{global_hook['id']}").status_code == 200
    with db.read() as s:
        hidden = s.query(DeniedRequestRow).filter_by(actor="mia", code="WEBHOOK_NOT_FOUND").count()
    assert hidden == 3


@pytest.mark.usefixtures("teams", "admin_token")
def test_global_webhooks_need_an_admin_scope_on_every_namespace(app: FastAPI, db: Database) -> None:
    narrow = make.token(db, "admin", ["admin:alpha"])
    with make.http_as(app, narrow) as client:
        as_global = client.post(HOOKS, json={"url": PUBLIC})
        for_alpha = client.post(HOOKS, json={"url": PUBLIC, "namespaces": ["alpha"]})
    assert _status(as_global) == (403, "PERMISSION_DENIED")
    assert for_alpha.status_code == 201


def test_an_admin_cannot_filter_on_a_namespace_that_does_not_exist(http: httpx.Client) -> None:
    answer = http.post(HOOKS, json={"url": PUBLIC, "namespaces": ["no-such-team"]})
    assert _status(answer) == (404, "NAMESPACE_NOT_FOUND")


def test_test_event_delivery_log_and_redelivery(
    private_ok: httpx.Client, db: Database, settings: Settings
) -> None:
    box = SecretBox(settings.resolved_webhooks_key_file)
    with Receiver(answers=[500, 500]) as receiver:
        made = private_ok.post(HOOKS, json={"url": receiver.url, "events": ["model.*"]}).json()
        one = f"{HOOKS}/{made['id']}"
        queued = private_ok.post(f"{one}/test")
        assert queued.status_code == 202
        assert queued.json()["status"] == "pending"
        pending = private_ok.post(f"{one}/deliveries/{queued.json()['id']}/redeliver")
        with running_worker(db, box, max_attempts=2) as worker:
            settle(worker, db)
            log = private_ok.get(f"{one}/deliveries").json()
            dead = private_ok.get(f"{one}/deliveries", params={"status": "dead"}).json()["items"]
            again = private_ok.post(f"{one}/deliveries/{queued.json()['id']}/redeliver")
            settle(worker, db)
        shown = private_ok.get(f"{one}/deliveries/{queued.json()['id']}").json()
    assert _status(pending) == (409, "DELIVERY_PENDING")
    (item,) = log["items"]
    assert (item["status"], item["attempts"], item["last_status_code"]) == ("dead", 2, 500)
    assert item["event_type"] == "webhook.test"
    assert [d["id"] for d in dead] == [item["id"]]
    assert again.status_code == 202
    assert (shown["status"], shown["attempts"]) == ("delivered", 3)
    assert [a["status_code"] for a in shown["attempt_log"]] == [500, 500, 200]
    assert shown["attempt_log"][0]["error"] == "HTTP 500"
    assert {r.event(made["secret"])["type"] for r in receiver.requests} == {"webhook.test"}
    assert {r.event_id for r in receiver.requests} == {shown["event_id"]}


def test_the_delivery_log_pages_newest_first(http: httpx.Client) -> None:
    made = http.post(HOOKS, json={"url": PUBLIC}).json()
    one = f"{HOOKS}/{made['id']}"
    ids = [http.post(f"{one}/test").json()["id"] for _ in range(3)]
    first = http.get(f"{one}/deliveries", params={"page_size": 2}).json()
    rest = http.get(
        f"{one}/deliveries", params={"page_size": 2, "page_token": first["next_page_token"]}
    ).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == ids[::-1]
    assert rest["next_page_token"] is None
    other = http.get(
        f"{one}/deliveries", params={"status": "dead", "page_token": first["next_page_token"]}
    )
    assert _status(other) == (400, "PAGE_TOKEN_INVALID")
    assert _status(http.get(f"{one}/deliveries", params={"status": "lost"})) == (
        422,
        "VALIDATION_FAILED",
    )


def test_unknown_webhooks_and_deliveries_are_404(http: httpx.Client) -> None:
    made = http.post(HOOKS, json={"url": PUBLIC}).json()
    assert _status(http.get(f"{HOOKS}/not-a-uuid")) == (404, "WEBHOOK_NOT_FOUND")
    assert _status(http.get(f"{HOOKS}/{'0' * 8}-0000-0000-0000-{'0' * 12}")) == (
        404,
        "WEBHOOK_NOT_FOUND",
    )
    assert _status(http.get(f"{HOOKS}/{made['id']}/deliveries/nope")) == (
        404,
        "DELIVERY_NOT_FOUND",
    )


def test_the_worker_runs_inside_the_app_and_stops_with_it(
    settings: Settings, db: Database, admin_token: str
) -> None:
    app = create_app(settings.with_(webhooks_allow_private=True, webhooks_poll_seconds=0.05), db)
    with Receiver() as receiver, started(app), make.http_as(app, admin_token) as client:
        made = client.post(HOOKS, json={"url": receiver.url}).json()
        assert client.post(f"{API}/namespaces", json={"name": "risk-team"}).status_code == 201
        (request,) = receiver.wait_until(lambda got: len(got) >= 1)
        worker = app.state.webhook_worker
        assert worker.is_running()
        metrics = metrics_once(client, 'modelyard_webhook_attempts_total{outcome="delivered"} 1.0')
    assert request.event(made["secret"])["type"] == "namespace.created"
    assert 'modelyard_webhook_attempts_total{outcome="delivered"} 1.0' in metrics
    assert 'modelyard_webhook_attempts_total{outcome="failed"} 0.0' in metrics
    assert "modelyard_webhook_dead_letters_total 0.0" in metrics
    assert not worker.is_running()


def metrics_once(client: httpx.Client, line: str) -> str:
    """/metrics as soon as it shows ``line`` (the worker counts an attempt once it has
    recorded it); waiting is a guard, not a measurement."""
    deadline = time.monotonic() + 60
    while line not in (text := client.get("/metrics").text):
        assert time.monotonic() < deadline, text
        time.sleep(0.02)
    return text
