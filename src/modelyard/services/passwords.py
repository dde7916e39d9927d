"""Password hashing: argon2id (argon2-cffi) with its recommended parameters.

Only the PHC string (algorithm, parameters, salt, hash) is stored. Verifying against an unknown
user still spends one hash's time on a dummy, so response times do not tell which user names
exist.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from modelyard.domain.errors import InvalidInputError

MIN_LENGTH = 8
MAX_LENGTH = 1024


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()


@cache
def _dummy_hash() -> str:
    return _hasher().hash("modelyard: a password nobody has")


def check_password(password: str) -> str:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInputError(
            "PASSWORD_INVALID",
            f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters",
            min_length=MIN_LENGTH,
        )
    return password


def hash_password(password: str) -> str:
    return _hasher().hash(check_password(password))


def verify(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; ``None`` (no password) never matches."""
    try:
        return _hasher().verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """The hasher's parameters were raised since this hash was made: store a new one."""
    return _hasher().check_needs_rehash(stored)
