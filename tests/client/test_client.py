"""The Client itself: headers, environment, lifecycle, and errors that are not the server's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import modelyard
from modelyard.client import (
    DEFAULT_URL,
    Client,
    ClientError,
    ConnectionFailed,
    ModelyardError,
    UnauthenticatedError,
    UnexpectedResponse,
)
from tests.support import sync_transport


class Recording(httpx.BaseTransport):
    """Passes requests to the real transport and keeps them, to check what was sent."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)


def answering(status: int, body: bytes, content_type: bytes = b"application/json") -> Any:
    """An ASGI app that gives every request the same answer (a proxy, a newer server)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", content_type)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def test_modelyard_client_is_the_sdk_client() -> None:
    assert modelyard.Client is Client


def test_requests_carry_user_agent_and_bearer_token(app: Any, admin_token: str) -> None:
    with sync_transport(app) as inner:
        recording = Recording(inner)
        with Client("http://modelyard.test", token=admin_token, transport=recording) as client:
            client.list_namespaces()
    sent = recording.requests[0]
    assert sent.headers["user-agent"] == f"modelyard/{modelyard.__version__}"
    assert sent.headers["authorization"] == f"Bearer {admin_token}"


def test_no_authorization_header_without_a_token(app: Any) -> None:
    with sync_transport(app) as inner:
        recording = Recording(inner)
        with (
            Client("http://modelyard.test", transport=recording) as client,
            pytest.raises(UnauthenticatedError),
        ):
            client.list_namespaces()
    assert "authorization" not in recording.requests[0].headers


def test_repr_never_shows_the_token() -> None:
    with Client("http://modelyard.test/", token="s3cret") as client:
        assert repr(client) == "Client('http://modelyard.test')"


def test_from_env_reads_url_and_token() -> None:
    env = {"MODELYARD_URL": "http://registry.example:9000", "MODELYARD_TOKEN": "t"}
    with Client.from_env(env) as client:
        assert client.url == "http://registry.example:9000"
    with Client.from_env({}) as client:
        assert client.url == DEFAULT_URL


def test_closed_client_refuses_requests(app: Any) -> None:
    with sync_transport(app) as transport:
        with Client("http://modelyard.test", transport=transport) as client:
            pass
        with pytest.raises(RuntimeError):
            client.list_namespaces()


def test_unreachable_server_raises_connection_failed() -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    with Client("http://127.0.0.1:1", timeout=2) as client, pytest.raises(ConnectionFailed) as err:
        client.list_namespaces()
    assert isinstance(err.value, ModelyardError)
    assert err.value.code == "CONNECTION_FAILED"
    assert "127.0.0.1:1" in err.value.message


def test_an_answer_that_is_not_modelyard_json_raises_unexpected_response() -> None:
    proxy = answering(502, b"<html>Bad Gateway</html>", b"text/html")
    with (
        sync_transport(proxy) as transport,
        Client("http://modelyard.test", transport=transport) as client,
        pytest.raises(UnexpectedResponse) as err,
    ):
        client.get_model("risk-team/fraud")
    assert isinstance(err.value, ClientError)
    assert (err.value.code, err.value.status) == ("UNEXPECTED_RESPONSE", 502)
    assert "Bad Gateway" in err.value.details["body"]


def test_a_route_the_server_lacks_raises_its_not_found(app: Any) -> None:
    # A server answers with its JSON error shape even for an unknown route.
    with (
        sync_transport(app) as transport,
        Client("http://modelyard.test/prefix", transport=transport) as client,
        pytest.raises(ModelyardError) as err,
    ):
        client.list_namespaces()
    assert (err.value.code, err.value.status) == ("NOT_FOUND", 404)


def test_a_success_body_without_the_record_fields_raises_unexpected_response() -> None:
    with (
        sync_transport(answering(200, b'{"name": "risk-team"}')) as transport,
        Client("http://modelyard.test", transport=transport) as client,
        pytest.raises(UnexpectedResponse) as err,
    ):
        client.get_namespace("risk-team")
    assert err.value.status == 200


def test_an_error_code_this_sdk_does_not_know_keeps_its_code() -> None:
    body = b'{"error": {"code": "QUOTA_EXCEEDED", "message": "too many", "details": {"n": 1}}}'
    with (
        sync_transport(answering(429, body)) as transport,
        Client("http://modelyard.test", transport=transport) as client,
        pytest.raises(ModelyardError) as err,
    ):
        client.get_namespace("risk-team")
    assert (err.value.code, err.value.message, err.value.details) == (
        "QUOTA_EXCEEDED",
        "too many",
        {"n": 1},
    )
    assert type(err.value) is ModelyardError
