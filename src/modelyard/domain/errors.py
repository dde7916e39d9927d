"""Domain errors and the one registry of stable error codes.

Every error a client can see has a stable ``code``, an HTTP status and a message. The API maps
``ModelyardError`` to the JSON shape ``{"error": {"code", "message", "details"}}`` in exactly one
exception handler; the SDK raises the same classes from that shape.

    ModelyardError                 (base: code, status, message, details)
    ├── NotFoundError              404  *_NOT_FOUND
    ├── ConflictError              409  *_EXISTS, *_ARCHIVED, CONFLICT
    ├── InvalidInputError          400  *_INVALID, VALIDATION_FAILED, BAD_REQUEST
    ├── UnauthenticatedError       401  UNAUTHENTICATED, TOKEN_*, LOGIN_FAILED
    ├── ForbiddenError             403  PERMISSION_DENIED, CSRF_FAILED
    ├── PayloadTooLargeError       413  PAYLOAD_TOO_LARGE, BLOB_TOO_LARGE
    ├── RangeNotSatisfiableError   416  CHUNK_OUT_OF_ORDER, RANGE_NOT_SATISFIABLE
    ├── TooManyRequestsError       429  TOO_MANY_ATTEMPTS
    └── UnavailableError           503  DATABASE_UNAVAILABLE, BLOB_STORE_UNAVAILABLE
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    description: str


# The registry. Codes are part of the public API: never rename one, only add.
ERROR_CODES: dict[str, ErrorCode] = {
    c.code: c
    for c in [
        ErrorCode(
            "BAD_REQUEST", 400, "The request could not be read (malformed JSON, bad encoding)."
        ),
        ErrorCode(
            "VALIDATION_FAILED", 422, "The request body or parameters do not match the schema."
        ),
        ErrorCode(
            "NAME_INVALID", 400, "A namespace, model, alias or tag name breaks the naming rule."
        ),
        ErrorCode("REFERENCE_INVALID", 400, "A reference is not of the form namespace/name[@REF]."),
        ErrorCode(
            "FILTER_INVALID", 400, "A search filter does not parse; details give the position."
        ),
        ErrorCode(
            "ORDER_BY_INVALID", 400, "An order_by clause names an unknown field or direction."
        ),
        ErrorCode("PAGE_TOKEN_INVALID", 400, "A page_token was not issued for this query."),
        ErrorCode("ALIAS_RESERVED", 400, "The alias is reserved (latest, numbers, stage names)."),
        ErrorCode(
            "DIGEST_INVALID",
            400,
            "A digest is malformed, or the uploaded bytes do not match the digest given.",
        ),
        ErrorCode(
            "BATCH_INVALID",
            400,
            "A batch upload body is not a tar stream of regular files named by their digests.",
        ),
        ErrorCode(
            "SIZE_INVALID",
            400,
            "The uploaded length differs from the size declared or given, or a manifest states"
            " a size other than its blob's.",
        ),
        ErrorCode(
            "ARTIFACT_PATH_INVALID",
            400,
            "An artifact path is absolute, has '..', a backslash, a control character, or is a"
            " duplicate; details give the reason.",
        ),
        ErrorCode(
            "MANIFEST_INVALID", 400, "A manifest is malformed (media type, too many artifacts)."
        ),
        ErrorCode(
            "MANIFEST_BLOB_UNKNOWN",
            400,
            "A manifest names blobs the server does not hold; upload them first. Details list"
            " them.",
        ),
        ErrorCode("RANGE_INVALID", 400, "A Range or Content-Range header does not parse."),
        ErrorCode(
            "INGREDIENTS_INVALID",
            400,
            "A version's ingredients (code, environment, config, data) are malformed, or the"
            " recorded diff is not one of the version's artifacts.",
        ),
        ErrorCode(
            "SCOPE_INVALID",
            400,
            "A token scope is not ACTION:*, ACTION:namespace or ACTION:ns/model.",
        ),
        ErrorCode("ROLE_INVALID", 400, "A role is not viewer, contributor, maintainer or admin."),
        ErrorCode("CAPACITY_INVALID", 400, "A reviewer capacity this server does not define."),
        ErrorCode("PASSWORD_INVALID", 400, "A new password is too short or too long."),
        ErrorCode(
            "WEBHOOK_URL_INVALID",
            400,
            "A webhook URL is not http(s), names no host, holds a user name or password, or is"
            " longer than 2048 characters.",
        ),
        ErrorCode(
            "WEBHOOK_TARGET_FORBIDDEN",
            400,
            "A webhook URL's host is (or resolves to) a loopback, private, link-local or other"
            " non-public address; MODELYARD_WEBHOOKS_ALLOW_PRIVATE allows them.",
        ),
        ErrorCode(
            "WEBHOOK_FILTER_INVALID",
            400,
            "A webhook event filter is not an event type, a prefix ending in .* or *; or there"
            " are too many filters.",
        ),
        ErrorCode(
            "POLICY_INVALID",
            400,
            "A policy (file or namespace override) does not validate; details list each"
            " offending key and why.",
        ),
        ErrorCode(
            "POLICY_LOOSENS",
            400,
            "A namespace's policy override would loosen the server's policy; details name"
            " what loosens. Overrides may only tighten.",
        ),
        ErrorCode(
            "STAGE_INVALID",
            400,
            "A stage the policy does not define (or, for a rollback, one that is not exclusive).",
        ),
        ErrorCode(
            "CAPACITY_REQUIRED",
            400,
            "The voter holds several reviewer capacities the request could mean; name one"
            " (--as CAPACITY).",
        ),
        ErrorCode(
            "UNAUTHENTICATED", 401, "The request carries no credentials, or an unknown session."
        ),
        ErrorCode("TOKEN_INVALID", 401, "The API token is malformed or unknown."),
        ErrorCode("TOKEN_EXPIRED", 401, "The API token has expired; create a new one."),
        ErrorCode("TOKEN_REVOKED", 401, "The API token was revoked; create a new one."),
        ErrorCode("LOGIN_FAILED", 401, "Wrong user name or password (or the account is disabled)."),
        ErrorCode(
            "PERMISSION_DENIED",
            403,
            "The caller can see the target but lacks the role or token scope for the action.",
        ),
        ErrorCode(
            "CSRF_FAILED",
            403,
            "A request signed in by session cookie lacks the CSRF token, or comes from another"
            " site.",
        ),
        ErrorCode(
            "SELF_APPROVAL",
            403,
            "The requester of a transition cannot vote on it (separation of duties).",
        ),
        ErrorCode("NOT_FOUND", 404, "No such route."),
        ErrorCode("USER_NOT_FOUND", 404, "No such user or service account."),
        ErrorCode("TOKEN_NOT_FOUND", 404, "No such API token."),
        ErrorCode("MEMBER_NOT_FOUND", 404, "The user is not a member of the namespace."),
        ErrorCode("BLOB_NOT_FOUND", 404, "No blob with this digest."),
        ErrorCode("DATASET_NOT_FOUND", 404, "No registered dataset (version) with this name."),
        ErrorCode("CONSUMER_NOT_FOUND", 404, "The model has no consumer of this name."),
        ErrorCode("TRANSITION_NOT_FOUND", 404, "No transition request with this id."),
        ErrorCode(
            "UPLOAD_NOT_FOUND", 404, "No such upload session (committed, cancelled or expired)."
        ),
        ErrorCode("MANIFEST_NOT_FOUND", 404, "The version was created without files."),
        ErrorCode("NAMESPACE_NOT_FOUND", 404, "No such namespace."),
        ErrorCode("MODEL_NOT_FOUND", 404, "No such model."),
        ErrorCode("VERSION_NOT_FOUND", 404, "No such version, or the reference resolves to none."),
        ErrorCode("ALIAS_NOT_FOUND", 404, "No such alias on this model."),
        ErrorCode("TAG_NOT_FOUND", 404, "No such tag."),
        ErrorCode("WEBHOOK_NOT_FOUND", 404, "No such webhook, or not one the caller manages."),
        ErrorCode("DELIVERY_NOT_FOUND", 404, "The webhook has no delivery with this id."),
        ErrorCode("METHOD_NOT_ALLOWED", 405, "The route does not accept this HTTP method."),
        ErrorCode("NAMESPACE_EXISTS", 409, "A namespace with this name exists."),
        ErrorCode("MODEL_EXISTS", 409, "A model with this name exists in the namespace."),
        ErrorCode(
            "DATASET_EXISTS",
            409,
            "This dataset version is registered already (versions never change).",
        ),
        ErrorCode("USER_EXISTS", 409, "A user or service account with this name exists."),
        ErrorCode(
            "LAST_ADMIN",
            409,
            "The change would leave the server without a global admin, or a namespace without"
            " an admin.",
        ),
        ErrorCode(
            "SERVICE_ACCOUNT_NOT_ALLOWED",
            409,
            "Service accounts cannot do this: hold reviewer capacities, log in with a password,"
            " approve, or be global admins.",
        ),
        ErrorCode(
            "NAMESPACE_ARCHIVED", 409, "The namespace is archived; it accepts no new models."
        ),
        ErrorCode("MODEL_ARCHIVED", 409, "The model is archived; it accepts no changes."),
        ErrorCode("VERSION_ARCHIVED", 409, "The version is archived; it accepts no changes."),
        ErrorCode(
            "TRANSITION_NOT_ALLOWED",
            409,
            "The policy does not allow moving a version from its current stage to that one.",
        ),
        ErrorCode(
            "TRANSITION_REFUSED",
            409,
            "The policy refuses the target stage at the model's risk level (the built-in policy"
            " refuses production until the risk is assessed).",
        ),
        ErrorCode(
            "CHECKS_FAILED",
            409,
            "A check the policy needs fails, or is not available and the policy blocks on that;"
            " details list each.",
        ),
        ErrorCode(
            "TRANSITION_PENDING",
            409,
            "The version already has a pending transition request; cancel it or wait.",
        ),
        ErrorCode(
            "TRANSITION_CLOSED",
            409,
            "The transition request is applied, rejected, cancelled or expired; it takes no more"
            " decisions.",
        ),
        ErrorCode(
            "TRANSITION_CONFLICT",
            409,
            "Another transition changed the stage (or the version) at the same time; look again"
            " and retry.",
        ),
        ErrorCode(
            "ALREADY_VOTED",
            409,
            "The caller already voted on this request, differently (the same vote again is"
            " accepted and counts once).",
        ),
        ErrorCode(
            "APPROVALS_MISSING",
            409,
            "The request cannot be applied yet: approvals are missing; details say which.",
        ),
        ErrorCode(
            "ROLLBACK_UNAVAILABLE",
            409,
            "Nothing to roll back to: no version holds the stage, or none held it before.",
        ),
        ErrorCode(
            "STAGE_HELD",
            409,
            "The version holds an exclusive stage (production); move it out before archiving it.",
        ),
        ErrorCode("CONFLICT", 409, "A concurrent change won; retry the request."),
        ErrorCode(
            "DELIVERY_PENDING",
            409,
            "The delivery is still pending (it is retried on its own); only delivered or"
            " dead-lettered ones can be redelivered.",
        ),
        ErrorCode(
            "UPLOAD_BUSY", 409, "Another request is writing to this upload session; retry shortly."
        ),
        ErrorCode("PAYLOAD_TOO_LARGE", 413, "The request body is larger than the server accepts."),
        ErrorCode(
            "BLOB_TOO_LARGE", 413, "The blob is larger than the server accepts (max_blob_bytes)."
        ),
        ErrorCode("UNSUPPORTED_MEDIA_TYPE", 415, "The request body must be JSON."),
        ErrorCode(
            "CHUNK_OUT_OF_ORDER",
            416,
            "An upload chunk does not start where the upload stands; details and the Range"
            " header give the bytes received so far.",
        ),
        ErrorCode(
            "RANGE_NOT_SATISFIABLE",
            416,
            "The requested byte range starts past the end of the blob.",
        ),
        ErrorCode(
            "TOO_MANY_ATTEMPTS",
            429,
            "Too many failed logins or bad tokens from this client; wait Retry-After seconds.",
        ),
        ErrorCode("DATABASE_UNAVAILABLE", 503, "The metadata database cannot be reached."),
        ErrorCode(
            "BLOB_STORE_UNAVAILABLE",
            503,
            "The blob store (disk or S3) failed or cannot be reached.",
        ),
        ErrorCode("INTERNAL", 500, "A bug in Modelyard; the request id is in the logs."),
    ]
}


class ModelyardError(Exception):
    """Base of every error with a stable code. ``code`` must be in ``ERROR_CODES``."""

    def __init__(self, code: str, message: str, **details: Any) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unregistered error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details

    @property
    def status(self) -> int:
        # error_from_code keeps a code this registry does not know (a newer server's): no KeyError.
        spec = ERROR_CODES.get(self.code)
        return spec.status if spec else 500

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class NotFoundError(ModelyardError):
    pass


class ConflictError(ModelyardError):
    pass


class InvalidInputError(ModelyardError):
    pass


class UnauthenticatedError(ModelyardError):
    pass


class ForbiddenError(ModelyardError):
    pass


class TooManyRequestsError(ModelyardError):
    pass


class PayloadTooLargeError(ModelyardError):
    pass


class RangeNotSatisfiableError(ModelyardError):
    pass


class UnavailableError(ModelyardError):
    pass


_CLASS_BY_STATUS: dict[int, type[ModelyardError]] = {
    400: InvalidInputError,
    401: UnauthenticatedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    416: RangeNotSatisfiableError,
    422: InvalidInputError,
    429: TooManyRequestsError,
    503: UnavailableError,
}


def error_from_code(
    code: str, message: str, details: dict[str, Any] | None = None
) -> ModelyardError:
    """Rebuild the right exception class from a wire error (used by the SDK)."""
    spec = ERROR_CODES.get(code)
    cls = _CLASS_BY_STATUS.get(spec.status, ModelyardError) if spec else ModelyardError
    err = cls(code if spec else "INTERNAL", message, **(details or {}))
    err.code = code
    return err
