"""Sealing webhook signing secrets, so that a database dump alone does not reveal them.

The server must sign with the secret itself (HMAC needs it), so it cannot keep only a hash as
it does for API tokens. It keeps the secret encrypted with AES-256-GCM under a key that lives
in a file outside the database: ``MODELYARD_WEBHOOKS_KEY_FILE``, by default
``<data_dir>/webhooks.key``, created on first use with mode 0600 (32 random bytes, base64).
Every server process and delivery worker that shares the database needs the same file.

    sealed = "v1" "." key id (8 hex: SHA-256 of the key) "." base64(nonce[12] || ciphertext+tag)

The webhook's id is the associated data: a sealed secret copied onto another webhook's row does
not open there. The key id tells a wrong key file apart from a damaged value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = "v1"
_KEY_BYTES = 32
_NONCE_BYTES = 12


class SecretUnavailable(Exception):
    """A sealed secret that this server's key cannot open (another key file, or damage)."""


class SecretBox:
    """Seals and opens secrets with the key in ``key_file`` (made on first use when missing)."""

    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def seal(self, secret: str, context: str) -> str:
        key = self._load()
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, secret.encode(), context.encode())
        body = base64.b64encode(nonce + sealed).decode()
        return f"{_VERSION}.{_key_id(key)}.{body}"

    def open(self, sealed: str, context: str) -> str:
        key = self._load()
        version, _, rest = sealed.partition(".")
        key_id, _, body = rest.partition(".")
        if version != _VERSION:
            raise SecretUnavailable(f"unknown sealed-secret format {version!r}")
        if key_id != _key_id(key):
            raise SecretUnavailable(
                f"the secret was sealed with key {key_id}, but {self.key_file} holds key"
                f" {_key_id(key)}: every server needs the same MODELYARD_WEBHOOKS_KEY_FILE"
            )
        try:
            raw = base64.b64decode(body, validate=True)
            plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
        except (InvalidTag, binascii.Error, ValueError):
            raise SecretUnavailable("the sealed secret is damaged") from None
        return plain.decode()

    def _load(self) -> bytes:
        with self._lock:
            if self._key is None:
                self._key = _read_or_create(self.key_file)
            return self._key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def _read_or_create(path: Path) -> bytes:
    if not path.exists():
        _create(path)
    key = base64.b64decode(path.read_text().strip())
    if len(key) != _KEY_BYTES:
        raise SecretUnavailable(f"{path} does not hold a {_KEY_BYTES}-byte base64 key")
    return key


def _create(path: Path) -> None:
    """Write a new key atomically: to a private temporary file, then linked into place, so two
    processes starting together agree on one key (the loser of the link reads the winner's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, base64.b64encode(secrets.token_bytes(_KEY_BYTES)) + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)
    except FileExistsError:
        pass
    finally:
        temp.unlink()
