"""Webhooks: the rules that need no I/O.

- Signing secrets and signatures follow Standard Webhooks (standardwebhooks.com): a secret is
  ``whsec_`` + base64 of 32 random bytes; a delivery carries ``webhook-id`` (the event's stable
  id, the same on every retry), ``webhook-timestamp`` (Unix seconds of this attempt) and
  ``webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``.
- Event filters: an exact type (``model.created``), a prefix (``transition.*``) or ``*``; no
  filter means every event. Namespace filters: none means every namespace and the events that
  belong to no namespace (a global webhook, for global admins only).
- Targets: ``http``/``https`` URLs without credentials, whose host is not a loopback, private,
  link-local or otherwise non-public address (SSRF), unless the server allows private targets.
- Retries: attempt ``n`` (1-based) failed -> wait ``min(base * 2**(n-1), cap)``; after
  ``max_attempts`` failures in a row the delivery is dead-lettered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.names import check_name

SECRET_PREFIX = "whsec_"  # noqa: S105 - the public prefix of every signing secret
SECRET_BYTES = 32
MAX_URL_LENGTH = 2048
MAX_FILTERS = 50
TEST_EVENT = "webhook.test"

# Delivery states. "pending" waits for its next attempt (or is being attempted right now).
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
DELIVERY_STATES: tuple[str, ...] = (PENDING, DELIVERED, DEAD)

_EVENT_FILTER = re.compile(r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$")


# ---------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    description: str
    events: list[str]
    namespaces: list[str]
    active: bool
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    previous_secret_until: datetime | None = None  # the previous secret also signs until then


@dataclass(frozen=True)
class CreatedWebhook:
    """A webhook and its signing secret, shown this once (at creation and on rotation)."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True)
class Attempt:
    number: int
    at: datetime
    status_code: int | None  # None: no HTTP answer (refused, timeout, connection error)
    error: str  # "" when the attempt succeeded
    duration_ms: int


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one webhook; ``attempt_log`` is filled when one is shown."""

    id: str
    webhook_id: str
    event_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[Attempt] = field(default_factory=list)


# ---------------------------------------------------------------------------------- secrets


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a ``whsec_`` secret stands for."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signatures(keys: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The header value signed with each secret, space-separated (the spec's form for a
    rotation: a receiver accepts the message if any one of them verifies)."""
    return " ".join(signature(key, message_id, timestamp, body) for key in keys)


MAX_SECRET_OVERLAP_SECONDS = 7 * 24 * 3600  # the longest a rotated-out secret keeps signing


def check_overlap(seconds: int) -> int:
    if not 0 <= seconds <= MAX_SECRET_OVERLAP_SECONDS:
        raise InvalidInputError(
            "VALIDATION_FAILED",
            f"keep_previous_seconds is between 0 and {MAX_SECRET_OVERLAP_SECONDS} (7 days)",
            keep_previous_seconds=seconds,
        )
    return seconds


# ---------------------------------------------------------------------------------- filters


def check_event_filters(filters: Iterable[str]) -> list[str]:
    """Validated, de-duplicated event filters in the order given."""
    result = list(dict.fromkeys(filters))
    if len(result) > MAX_FILTERS:
        raise _filter_invalid(f"at most {MAX_FILTERS} event filters")
    for text in result:
        if not _EVENT_FILTER.match(text):
            raise _filter_invalid(
                f"{text!r} is not an event type (model.created), a prefix (transition.*) or *",
                filter=text,
            )
    return result


def check_namespace_filters(namespaces: Iterable[str]) -> list[str]:
    result = list(dict.fromkeys(namespaces))
    if len(result) > MAX_FILTERS:
        raise _filter_invalid(f"at most {MAX_FILTERS} namespaces")
    for name in result:
        check_name("namespace", name)
    return result


def _filter_invalid(message: str, **details: object) -> InvalidInputError:
    return InvalidInputError("WEBHOOK_FILTER_INVALID", message, **details)


def event_matches(filters: Iterable[str], event_type: str) -> bool:
    filters = list(filters)
    if not filters:
        return True
    return any(_one_matches(f, event_type) for f in filters)


def _one_matches(text: str, event_type: str) -> bool:
    if text == "*":
        return True
    if text.endswith(".*"):
        return event_type.startswith(text[:-1])
    return text == event_type


def namespace_matches(namespaces: Iterable[str], namespace: str | None) -> bool:
    """A global webhook (no namespaces) gets every event; a namespaced one only its own."""
    wanted = list(namespaces)
    return not wanted or namespace in wanted


# ---------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # lower case, IPv6 without brackets
    port: int

    @property
    def origin(self) -> str:
        """What may be shown and logged of a URL: its path and query can hold credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_target(url: str) -> Target:
    """A webhook URL: http(s), a host, no user name or password, no more than 2048 characters."""
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise _url_invalid("the URL is longer than 2048 characters or has spaces")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        raise _url_invalid("the URL's port is not a number from 0 to 65535") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _url_invalid("a webhook URL is http:// or https:// and names a host")
    if parts.username is not None or parts.password is not None:
        raise _url_invalid("a webhook URL may not hold a user name or password")
    default = 443 if parts.scheme == "https" else 80
    return Target(url, parts.scheme, parts.hostname.lower(), port or default)


def _url_invalid(message: str) -> InvalidInputError:
    return InvalidInputError("WEBHOOK_URL_INVALID", message)


def literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def non_public_kind(address: str) -> str | None:
    """What kind of non-public address this is (None: a public address).

    Anything that is not globally routable is refused: loopback, private (RFC 1918, unique
    local), link-local (cloud metadata endpoints live there), shared (CGNAT), unspecified,
    multicast, reserved and documentation ranges; IPv4-mapped IPv6 addresses count as the IPv4
    address they carry."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of it
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "unspecified", "multicast", "private", "reserved"):
        if getattr(ip, f"is_{kind}"):
            article = "an" if kind[0] in "aeiou" else "a"
            return f"{article} {kind.replace('_', '-')} address"
    if not ip.is_global:
        return "not a public address"
    return None


def refusal(host: str, address: str) -> str | None:
    """Why ``host`` (resolved to ``address``) may not be a target; None when it may."""
    kind = non_public_kind(address)
    if kind is None:
        return None
    if literal_address(host) is not None:
        return f"{host} is {kind}"
    return f"{host} resolves to {address}, {kind}"


def non_public_host_reason(host: str) -> str | None:
    """For a URL's host before any DNS look-up: a literal non-public address or a name that
    always means this machine (``localhost``, ``*.localhost``)."""
    if literal_address(host) is not None:
        return refusal(host, host)
    name = host.rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return f"{host} is this machine"
    return None


# ---------------------------------------------------------------------------------- retries


def retry_delay(failures: int, base_seconds: float, cap_seconds: float) -> float:
    """Seconds to wait after the ``failures``-th failed attempt in a row (1-based)."""
    exponent = min(max(failures - 1, 0), 62)  # 2**62 * base is past any cap already
    return float(min(base_seconds * 2**exponent, cap_seconds))
