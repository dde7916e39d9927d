"""Webhook rules without I/O: signatures, filters, target URLs and addresses, retry delays."""

from __future__ import annotations

import base64

import pytest

from modelyard.domain import webhooks as rules
from modelyard.domain.errors import InvalidInputError
from tests.webhook_support import verify


def test_signature_matches_the_standard_webhooks_example() -> None:
    # The example from the Standard Webhooks specification's reference libraries.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signed = rules.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signed == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_new_secret_is_whsec_and_32_random_bytes_and_verifies() -> None:
    import time

    secret = rules.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != rules.new_secret()
    now = int(time.time())
    headers = {
        "webhook-id": "evt-1",
        "webhook-timestamp": str(now),
        "webhook-signature": rules.signature(secret, "evt-1", now, b'{"a":1}'),
    }
    assert verify(secret, headers, b'{"a":1}') == {"a": 1}
    with pytest.raises(AssertionError):
        verify(secret, headers, b'{"a":2}')


@pytest.mark.parametrize(
    ("filters", "event", "matches"),
    [
        ([], "model.created", True),
        (["*"], "transition.applied", True),
        (["transition.*"], "transition.applied", True),
        (["transition.*"], "transitions.applied", False),
        (["transition.*"], "transition", False),
        (["model.created"], "model.created", True),
        (["model.created"], "model.updated", False),
        (["model.created", "tag.*"], "tag.removed", True),
    ],
)
def test_event_filters(filters: list[str], event: str, matches: bool) -> None:
    assert rules.event_matches(filters, event) is matches


def test_namespace_filters_leave_server_wide_events_to_global_webhooks() -> None:
    assert rules.namespace_matches([], None)
    assert rules.namespace_matches([], "alpha")
    assert rules.namespace_matches(["alpha"], "alpha")
    assert not rules.namespace_matches(["alpha"], "beta")
    assert not rules.namespace_matches(["alpha"], None)


@pytest.mark.parametrize("text", ["", "Model.created", "model.", "*.created", "model.**", "a b"])
def test_bad_event_filters_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        rules.check_event_filters([text])
    assert info.value.code == "WEBHOOK_FILTER_INVALID"


def test_filters_are_deduplicated_and_limited() -> None:
    assert rules.check_event_filters(["a.*", "b", "a.*"]) == ["a.*", "b"]
    with pytest.raises(InvalidInputError):
        rules.check_event_filters([f"e{n}" for n in range(51)])
    with pytest.raises(InvalidInputError) as info:
        rules.check_namespace_filters(["Bad Name"])
    assert info.value.code == "NAME_INVALID"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "https:///nohost",
        "https://user:pw@example.com/",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "example.com/hook",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        rules.parse_target(url)
    assert info.value.code == "WEBHOOK_URL_INVALID"


def test_a_target_shows_only_its_origin() -> None:
    target = rules.parse_target("https://Hooks.Example.com/services/T0/secret?x=1")
    assert (target.host, target.port, target.origin) == (
        "hooks.example.com",
        443,
        "https://hooks.example.com:443",
    )
    assert rules.parse_target("http://[::1]:8080/x").origin == "http://[::1]:8080"


@pytest.mark.parametrize(
    ("host", "refused"),
    [
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("192.168.0.1", "192.168.0.1 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
        ("100.64.0.1", "100.64.0.1 is not a public address"),
        ("0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("224.0.0.1", "224.0.0.1 is a multicast address"),
        ("::1", "::1 is a loopback address"),
        ("fe80::1", "fe80::1 is a link-local address"),
        ("fd00::1", "fd00::1 is a private address"),
        ("::ffff:10.0.0.1", "::ffff:10.0.0.1 is a private address"),
        ("localhost", "localhost is this machine"),
        ("api.localhost", "api.localhost is this machine"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
        ("example.com", None),
    ],
)
def test_non_public_hosts_are_refused_before_any_lookup(host: str, refused: str | None) -> None:
    assert rules.non_public_host_reason(host) == refused


def test_a_name_is_refused_for_the_address_it_resolves_to() -> None:
    assert rules.refusal("intranet.example", "10.0.0.5") == (
        "intranet.example resolves to 10.0.0.5, a private address"
    )
    assert rules.refusal("example.com", "93.184.216.34") is None


def test_retry_delays_double_up_to_the_cap() -> None:
    delays = [rules.retry_delay(n, 30, 3600) for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert rules.retry_delay(10_000, 30, 3600) == 3600
