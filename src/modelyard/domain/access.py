"""Who may do what: roles, scopes, API token format, and the one authorization decision.

Pure rules, no I/O. The API's access layer (``api/access.py``) loads a ``Principal`` and asks
``decide`` before any route runs; services never see a request they should not.

    rights of a request = (global admin, or the role held in the namespace)
                          ∩ (the token's scopes; a web session has all of the user's rights)

Roles, each including the ones before it::

    viewer       read
    contributor  + write: push versions, edit metadata, tags, aliases
    maintainer   + promote, manage: members up to maintainer, risk levels, archive models
    admin        + own: visibility, archive the namespace, grant admin, reviewer capacities

Scopes are ``ACTION:TARGET``: an action (``read write promote approve admin``) on ``*`` (every
namespace the user may reach), a namespace (``risk-team``) or one model (``risk-team/fraud``).
``write``, ``promote`` and ``approve`` imply ``read``; ``admin`` implies read, write and
promote, never ``approve``: an approval is always asked for by name (separation of duties).

Hiding: a caller who may not even read a target gets the same 404 a missing target gets
(``Decision.HIDE``); a caller who can see it but lacks the right gets 403 (``FORBID``).

Tokens: ``myd_`` + 32 base62 characters of randomness (190 bits) + a 6-character base62
CRC-32 of them. The prefix lets secret scanners find leaked tokens; the checksum lets the
server refuse a mistyped or made-up token without a database look-up.
"""

from __future__ import annotations

import secrets
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, IntEnum
from uuid import UUID

from modelyard.domain.errors import InvalidInputError
from modelyard.domain.names import check_name


class Role(IntEnum):
    VIEWER = 1
    CONTRIBUTOR = 2
    MAINTAINER = 3
    ADMIN = 4

    @property
    def label(self) -> str:
        return self.name.lower()


ROLES: tuple[str, ...] = tuple(r.label for r in Role)
ACTIONS: tuple[str, ...] = ("read", "write", "promote", "approve", "admin")
DEFAULT_CAPACITIES: tuple[str, ...] = ("technical", "business", "legal")
VISIBILITIES: tuple[str, ...] = ("private", "internal")
USER_KINDS: tuple[str, ...] = ("user", "service")

_IMPLIED: dict[str, frozenset[str]] = {
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
    "promote": frozenset({"read", "promote"}),
    "approve": frozenset({"read", "approve"}),
    "admin": frozenset({"read", "write", "promote", "admin"}),
}


def parse_role(text: str) -> Role:
    if text not in ROLES:
        raise InvalidInputError(
            "ROLE_INVALID", f"unknown role {text!r}; one of {', '.join(ROLES)}", role=text
        )
    return Role[text.upper()]


def check_visibility(text: str) -> str:
    if text not in VISIBILITIES:
        raise InvalidInputError(
            "VALIDATION_FAILED",
            f"visibility must be one of {', '.join(VISIBILITIES)}",
            visibility=text,
        )
    return text


def check_capacity(text: str, configured: tuple[str, ...]) -> str:
    if text not in configured:
        raise InvalidInputError(
            "CAPACITY_INVALID",
            f"unknown reviewer capacity {text!r}; this server has {', '.join(configured)}",
            capacity=text,
            capacities=list(configured),
        )
    return text


# ---------------------------------------------------------------------------------- scopes


@dataclass(frozen=True)
class Scope:
    """``action`` on every namespace (``namespace is None``), one namespace, or one model."""

    action: str
    namespace: str | None = None
    model: str | None = None

    @classmethod
    def parse(cls, text: str) -> Scope:
        action, sep, target = text.partition(":")
        if not sep or action not in ACTIONS:
            raise _scope_invalid(text, f"the action is one of {', '.join(ACTIONS)}")
        if target == "*":
            return cls(action)
        namespace, slash, model = target.partition("/")
        try:
            check_name("namespace", namespace)
            if slash:
                check_name("model", model)
        except InvalidInputError as exc:
            raise _scope_invalid(text, exc.message) from None
        return cls(action, namespace, model if slash else None)

    def __str__(self) -> str:
        if self.namespace is None:
            return f"{self.action}:*"
        suffix = f"/{self.model}" if self.model else ""
        return f"{self.action}:{self.namespace}{suffix}"

    def covers(self, action: str, namespace: str, model: str | None) -> bool:
        """Does this scope allow ``action`` on the namespace (``model is None``) or model?"""
        if action not in _IMPLIED[self.action]:
            return False
        if self.namespace is None:
            return True
        if self.namespace != namespace:
            return False
        if self.model is None or self.model == model:
            return True
        # A model-scoped token may see the namespace that holds its model, nothing more of it.
        return model is None and action == "read"

    def includes(self, other: Scope) -> bool:
        """Is ``other`` no broader than this scope (a token may only mint narrower ones)?"""
        if other.action not in _IMPLIED[self.action]:
            return False
        if self.namespace is None:
            return True
        if other.namespace != self.namespace:
            return False
        return self.model is None or other.model == self.model


def _scope_invalid(text: str, why: str) -> InvalidInputError:
    return InvalidInputError(
        "SCOPE_INVALID",
        f"invalid scope {text!r}: {why}; a scope is ACTION:* , ACTION:namespace "
        "or ACTION:namespace/model",
        scope=text,
    )


FULL_SCOPES: tuple[Scope, ...] = tuple(Scope(a) for a in ACTIONS)


def parse_scopes(texts: list[str] | None) -> tuple[Scope, ...]:
    """No scopes given means every action on every namespace the user may reach."""
    if not texts:
        return FULL_SCOPES
    scopes = tuple(dict.fromkeys(Scope.parse(t) for t in texts))
    return scopes


# ---------------------------------------------------------------------------------- tokens

TOKEN_PREFIX = "myd_"  # noqa: S105 - the public prefix, not a secret
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_LENGTH = 32
_CHECK_LENGTH = 6
TOKEN_LENGTH = len(TOKEN_PREFIX) + _SECRET_LENGTH + _CHECK_LENGTH
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 4


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rest = divmod(number, 62)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits))


def _checksum(secret: str) -> str:
    return _base62(zlib.crc32(secret.encode()), _CHECK_LENGTH)


def new_token() -> str:
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(_SECRET_LENGTH))
    return TOKEN_PREFIX + secret + _checksum(secret)


def is_well_formed_token(text: str) -> bool:
    """Prefix, length, alphabet and checksum: what can be known without the database."""
    if len(text) != TOKEN_LENGTH or not text.startswith(TOKEN_PREFIX):
        return False
    body = text[len(TOKEN_PREFIX) :]
    if any(c not in _ALPHABET for c in body):
        return False
    secret, check = body[:_SECRET_LENGTH], body[_SECRET_LENGTH:]
    return secrets.compare_digest(_checksum(secret), check)


def display_parts(token: str) -> tuple[str, str]:
    """What may be stored and shown of a token: its first 8 and last 4 characters."""
    return token[:DISPLAY_PREFIX_LENGTH], token[-4:]


# ------------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Permission:
    """What a route needs: a token scope ``action`` and at least ``role`` in the namespace."""

    name: str
    action: str
    role: Role


READ = Permission("read", "read", Role.VIEWER)
WRITE = Permission("write", "write", Role.CONTRIBUTOR)
PROMOTE = Permission("promote", "promote", Role.MAINTAINER)
MANAGE = Permission("manage", "admin", Role.MAINTAINER)
OWN = Permission("own", "admin", Role.ADMIN)
APPROVE = Permission("approve", "approve", Role.VIEWER)


class Decision(Enum):
    ALLOW = "allow"
    FORBID = "forbid"  # 403: the caller can see the target but lacks the right
    HIDE = "hide"  # 404: the caller may not know the target exists


@dataclass(frozen=True)
class Principal:
    """The caller of one request: a user or service account, through a token or a session.

    ``scopes is None`` for a web session (the user's full rights). ``roles`` and
    ``capacities`` are by namespace name.
    """

    user_id: UUID
    name: str
    kind: str
    is_admin: bool
    roles: Mapping[str, Role] = field(default_factory=dict)
    capacities: Mapping[str, frozenset[str]] = field(default_factory=dict)
    scopes: tuple[Scope, ...] | None = None
    token_id: UUID | None = None

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def via(self) -> str:
        return "session" if self.scopes is None else "token"

    def scope_allows(self, action: str, namespace: str, model: str | None = None) -> bool:
        if self.scopes is None:
            return True
        return any(s.covers(action, namespace, model) for s in self.scopes)

    def writes_somewhere(self) -> bool:
        """May write to at least one namespace: enough to upload blobs, which belong to no
        model until a version names them (and then that model's rules apply)."""
        entitled = self.is_admin or any(r >= Role.CONTRIBUTOR for r in self.roles.values())
        scoped = self.scopes is None or any("write" in _IMPLIED[s.action] for s in self.scopes)
        return entitled and scoped

    def has_global(self, action: str) -> bool:
        """A scope on ``*`` for ``action``: needed for server-wide work (users, new teams)."""
        if self.scopes is None:
            return True
        return any(s.namespace is None and action in _IMPLIED[s.action] for s in self.scopes)


def decide(
    principal: Principal,
    permission: Permission,
    namespace: str,
    model: str | None,
    visibility: str | None,
) -> Decision:
    """``visibility`` is the namespace's, or ``None`` when no such namespace exists."""
    role = principal.roles.get(namespace)
    if role is None and visibility == "internal":
        role = Role.VIEWER  # every signed-in user reads an internal namespace
    sees = principal.is_admin or role is not None
    if not (sees and principal.scope_allows("read", namespace, model)):
        return Decision.HIDE
    entitled = principal.is_admin or (role is not None and role >= permission.role)
    if not (entitled and principal.scope_allows(permission.action, namespace, model)):
        return Decision.FORBID
    return Decision.ALLOW


@dataclass(frozen=True)
class Readable:
    """What a caller may read, for lists that span namespaces (search, namespace lists).

    Rights: every namespace (``everything``: a global admin), else the namespaces they belong
    to and every internal one. Token scopes narrow that: ``scoped_namespaces`` (``None``: no
    narrowing, a ``read:*`` scope or a session) and single models ``scoped_models``.
    """

    everything: bool
    members_of: frozenset[str]
    scoped_namespaces: frozenset[str] | None
    scoped_models: frozenset[tuple[str, str]]


def readable(principal: Principal) -> Readable:
    scopes = [s for s in principal.scopes or () if "read" in _IMPLIED[s.action]]
    unlimited = principal.scopes is None or any(s.namespace is None for s in scopes)
    return Readable(
        everything=principal.is_admin,
        members_of=frozenset(principal.roles),
        scoped_namespaces=None
        if unlimited
        else frozenset(s.namespace for s in scopes if s.namespace and s.model is None),
        scoped_models=frozenset(
            (s.namespace, s.model) for s in scopes if s.namespace and s.model is not None
        ),
    )


def can_approve(principal: Principal, namespace: str, model: str | None, capacity: str) -> bool:
    """May this caller vote on a transition of ``namespace/model`` as ``capacity``?

    Service accounts never approve, whatever their scopes or roles (separation of duties:
    a pipeline must not approve what it ships). People need the capacity in the namespace and
    a token scoped for ``approve`` (or a web session).
    """
    if principal.is_service:
        return False
    if capacity not in principal.capacities.get(namespace, frozenset()):
        return False
    return principal.scope_allows("approve", namespace, model)
