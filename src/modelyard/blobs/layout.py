"""The storage layout: the one module that knows where bytes live. Every key is built here.

The same tree is used on local disk (under the directory of ``file://PATH``) and in S3 (under
``s3://bucket/prefix``); keys are relative POSIX paths.

    <root>/
    ├── sha256/
    │   ├── 00/ … ff/                     fan-out by the first two hex digits (256 directories,
    │   │   └── <64 hex digits>           so no directory grows past a few thousand entries)
    │   │                                 one blob: the exact bytes whose SHA-256 is its name.
    │   │                                 Written once (rename / create-once put), never changed.
    └── uploads/
        └── <upload id>/                  one upload in progress (a UUID; the session row in
            │                             the database holds its state)
            ├── data                      local disk: the bytes received so far, in one file on
            │                             the same file system as sha256/, so commit is a rename
            ├── <index:06d>               local disk, a batch upload: its index-th blob, renamed
            │                             into sha256/ when the batch is published
            └── <offset:020d>-<token>     S3: one object per received part, named by where it
                                          starts; the token makes concurrent writers distinct
                                          (S3 batches are spooled on the server, not stored here)

Nothing else is ever written under the root. A blob key that does not parse (``blob_digest``
returns None) is not ours and is left alone by garbage collection.
"""

from __future__ import annotations

import re
import uuid

from modelyard.domain.digests import check_digest, hex_of

BLOBS = "sha256"
UPLOADS = "uploads"
UPLOAD_DATA = "data"

_BLOB_KEY_RE = re.compile(r"^sha256/([0-9a-f]{2})/([0-9a-f]{64})$")
_PART_RE = re.compile(r"^(\d{20})-([0-9a-f]{32})$")


def blob_key(digest: str) -> str:
    """``sha256/ab/abcd…``: where the blob named ``digest`` lives."""
    hex_digits = hex_of(digest)
    return f"{BLOBS}/{hex_digits[:2]}/{hex_digits}"


def blob_digest(key: str) -> str | None:
    """The digest a blob key names, or None when ``key`` is not a blob key."""
    m = _BLOB_KEY_RE.match(key)
    if m is None or not m.group(2).startswith(m.group(1)):
        return None
    return check_digest(f"sha256:{m.group(2)}")


def fanout_dir(digest: str) -> str:
    return blob_key(digest).rsplit("/", 1)[0]


def check_upload_id(upload_id: str) -> str:
    """Upload ids are UUIDs in canonical form; anything else never reaches a path."""
    if str(uuid.UUID(upload_id)) != upload_id:
        raise ValueError(f"not a canonical upload id: {upload_id!r}")
    return upload_id


def upload_dir(upload_id: str) -> str:
    return f"{UPLOADS}/{check_upload_id(upload_id)}"


def upload_data_key(upload_id: str) -> str:
    return f"{upload_dir(upload_id)}/{UPLOAD_DATA}"


def upload_member_key(upload_id: str, index: int) -> str:
    return f"{upload_dir(upload_id)}/{index:06d}"


def upload_part_key(upload_id: str, offset: int, token: str) -> str:
    return f"{upload_dir(upload_id)}/{offset:020d}-{token}"


def new_part_token() -> str:
    return uuid.uuid4().hex


def upload_id_of(key: str) -> str | None:
    """The upload id of any key under ``uploads/``, or None."""
    parts = key.split("/")
    if len(parts) < 2 or parts[0] != UPLOADS:
        return None
    try:
        return check_upload_id(parts[1])
    except ValueError:
        return None
