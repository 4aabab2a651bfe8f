"""The one registry from gateway errors to aio_etcd's exceptions.

An error reply is read in any of the five shapes etcd's gateway has used (seen on 3.4.23 and
3.5.1; 3.6 from grpc-gateway v2's ``runtime/errors.go``): the HTTP status is the truth; the
message is ``message``, else a string ``error``, else ``error.message``; the gRPC code is
``code``, else ``error.code``, else ``error.grpc_code``. The class is then chosen by message
first (the code alone is too coarse: 400 covers compacted revisions, bad arguments and missing
credentials), by gRPC code second. Messages are etcd's own (etcd-io/etcd
``api/v3rpc/rpctypes/error.go``), matched without their ``etcdserver: `` prefix.

The retry policy (``aio_etcd/_retry.py``) acts on the classes: ``no leader``/``not leader``
(:class:`~aio_etcd.EtcdLeaderElectionInProgress`) and ``too many requests`` are retried,
writes included, because etcd never proposed them; ``request timed out`` and ``context
deadline exceeded`` (:class:`~aio_etcd.EtcdRaftInternalError`) are retried for reads and make a
write :class:`~aio_etcd.EtcdOutcomeUnknown`; ``database space exceeded`` is raised.
"""

from __future__ import annotations

import json
from typing import Any

from .._exceptions import (
    EtcdAlreadyExist,
    EtcdAPIUnavailable,
    EtcdCompacted,
    EtcdException,
    EtcdFutureRevision,
    EtcdInsufficientPermissions,
    EtcdKeyNotFound,
    EtcdLeaderElectionInProgress,
    EtcdLearnerNotReady,
    EtcdLeaseNotFound,
    EtcdMemberNotFound,
    EtcdNoSpace,
    EtcdNotLearner,
    EtcdRaftInternalError,
    EtcdRoleNotFound,
    EtcdRootUserMissing,
    EtcdTooManyRequests,
    EtcdUnexpectedResponse,
    EtcdUserNotFound,
    EtcdValueError,
)
from .._transport import origin
from ..models import ErrorPayload
from ..models.v3.error import GatewayError

_SNIPPET = 200
"""How much of an unexpected body an error message quotes."""

_BY_MESSAGE: tuple[tuple[str, type[EtcdException]], ...] = (
    # Never proposed: safe to retry, writes included.
    ("no leader", EtcdLeaderElectionInProgress),
    ("not leader", EtcdLeaderElectionInProgress),
    ("server stopped", EtcdLeaderElectionInProgress),
    ("not capable", EtcdLeaderElectionInProgress),
    ("unhealthy cluster", EtcdLeaderElectionInProgress),  # member add refused for now
    ("rpc not supported for learner", EtcdLeaderElectionInProgress),  # ask a voter
    ("too many requests", EtcdTooManyRequests),
    # Maybe proposed: unknown for writes.
    ("request timed out", EtcdRaftInternalError),
    ("leader changed", EtcdRaftInternalError),
    ("context deadline exceeded", EtcdRaftInternalError),
    # Definite answers.
    ("mvcc: database space exceeded", EtcdNoSpace),
    ("mvcc: required revision has been compacted", EtcdCompacted),
    ("mvcc: required revision is a future revision", EtcdFutureRevision),
    ("requested lease not found", EtcdLeaseNotFound),
    ("lease already exists", EtcdAlreadyExist),
    ("key not found", EtcdKeyNotFound),
    ("member not found", EtcdMemberNotFound),
    ("user name not found", EtcdUserNotFound),
    ("role name not found", EtcdRoleNotFound),
    ("role is not granted to the user", EtcdKeyNotFound),
    ("permission is not granted to the role", EtcdKeyNotFound),
    ("can only promote a learner member which is in sync", EtcdLearnerNotReady),
    ("can only promote a learner member", EtcdNotLearner),
    ("root user does not", EtcdRootUserMissing),  # ... exist / ... have root role
    ("user name already exists", EtcdAlreadyExist),
    ("role name already exists", EtcdAlreadyExist),
    ("member id already exist", EtcdAlreadyExist),
    ("peer urls already exists", EtcdAlreadyExist),
    ("permission denied", EtcdInsufficientPermissions),
    ("invalid auth token", EtcdInsufficientPermissions),
    ("user name is empty", EtcdInsufficientPermissions),
    ("authentication failed", EtcdInsufficientPermissions),
    ("auth: authentication failed", EtcdInsufficientPermissions),  # a no-password user's
    ("revision of auth store is old", EtcdInsufficientPermissions),
    ("auth: revision in header is old", EtcdInsufficientPermissions),
    ("grpc: received message larger than max", EtcdValueError),
)
"""(message prefix, lower case, without ``etcdserver: ``) -> class; the first match wins."""

_BY_CODE: dict[int, type[EtcdException]] = {
    3: EtcdValueError,  # InvalidArgument
    4: EtcdRaftInternalError,  # DeadlineExceeded
    5: EtcdKeyNotFound,  # NotFound
    6: EtcdAlreadyExist,  # AlreadyExists
    7: EtcdInsufficientPermissions,  # PermissionDenied
    11: EtcdValueError,  # OutOfRange
    12: EtcdAPIUnavailable,  # Unimplemented
    14: EtcdRaftInternalError,  # Unavailable
    16: EtcdInsufficientPermissions,  # Unauthenticated
}
"""gRPC code -> class, for messages not in :data:`_BY_MESSAGE`; others raise the base."""

HTTP_STATUS: dict[int, int] = {
    0: 200, 1: 408, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
    9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}  # fmt: skip
"""gRPC code -> HTTP status, as grpc-gateway's ``HTTPStatusFromCode`` (for stream errors of
etcd 3.6, which carry no HTTP code)."""

REAUTHENTICATE = ("invalid auth token", "user name is empty", "auth: revision in header is old",
                  "revision of auth store is old")  # fmt: skip
"""Errors after which a held token is renewed once and the call sent again."""


def _bare(message: str) -> str:
    return message.lower().removeprefix("etcdserver: ")


def error_class(code: int, message: str) -> type[EtcdException]:
    """The exception class for gRPC ``code`` and etcd's ``message``."""
    bare = _bare(message)
    for prefix, cls in _BY_MESSAGE:
        if bare.startswith(prefix):
            return cls
    return _BY_CODE.get(code, EtcdException)


def needs_new_token(error: EtcdException) -> bool:
    """Whether ``error`` says the token is missing, expired or stale."""
    payload = error.payload
    return isinstance(payload, GatewayError) and _bare(payload.message).startswith(REAUTHENTICATE)


def error_for_payload(payload: GatewayError, url: str) -> EtcdException:
    """The exception for a parsed gateway error."""
    cls = error_class(payload.code, payload.message)
    text = (
        f"{payload.message or 'etcd error'} (gRPC code {payload.code}, "
        f"HTTP {payload.http_status}, {origin(url)})"
    )
    return cls(text, payload, status=payload.http_status)


def error_for_reply(status: int, body: bytes, url: str) -> EtcdException:
    """The exception for a unary reply whose status is not 200."""
    document: object = None
    if body.lstrip()[:1] == b"{":
        try:
            document = json.loads(body)
        except ValueError:
            return unexpected(status, body, url, "a truncated or malformed JSON error")
    payload = _payload(document, status) if isinstance(document, dict) else None
    if payload is not None:
        return error_for_payload(payload, url)
    if document is None:
        if status == 404:
            return EtcdAPIUnavailable(
                f"{origin(url)} serves no etcd v3 gateway at {_path(url)} (HTTP 404 "
                f"{_text(body)!r}): the gateway is disabled (--enable-grpc-gateway=false) or "
                "etcd is older than 3.4",
                _text_payload(body),
                status=404,
            )
        if status == 401:  # a proxy's own authentication
            return EtcdInsufficientPermissions(
                f"HTTP 401 from {origin(url)}: {_text(body)!r}", _text_payload(body), status=401
            )
    return unexpected(status, body, url, "not an etcd gateway reply")


def error_for_stream(error: object, status: int, url: str) -> EtcdException:
    """The exception for the ``error`` member of a streamed object."""
    if not isinstance(error, dict):
        text = json.dumps(error)[:_SNIPPET]
        return EtcdUnexpectedResponse(
            f"a stream error that is not an object from {origin(url)}: {text}",
            ErrorPayload(message=text),
            status=status,
        )
    payload = _payload({"error": error}, status)
    if payload is None:
        text = json.dumps(error)[:_SNIPPET]
        return EtcdUnexpectedResponse(
            f"a stream error without code or message from {origin(url)}: {text}",
            ErrorPayload(message=text),
            status=status,
        )
    return error_for_payload(payload, url)


def _payload(document: dict[str, Any], status: int) -> GatewayError | None:
    """Read one of the shapes; ``None`` when it has neither a message nor a code."""
    nested = document.get("error")
    inner: dict[str, Any] = nested if isinstance(nested, dict) else {}
    message = _first_str(document.get("message"), nested, inner.get("message"))
    code = _first_int(document.get("code"), inner.get("code"), inner.get("grpc_code"))
    if message is None and code is None:
        return None
    if code is None:
        code = 2
    http = _first_int(inner.get("http_code"))
    if status == 200:  # an error ending a stream whose headers said 200
        status = http if http is not None else HTTP_STATUS.get(code, 500)
    details = document.get("details", inner.get("details"))
    return GatewayError(
        code=code,
        message=message or "",
        http_status=status,
        details=details if isinstance(details, list) else [],
    )


def _first_str(*values: object) -> str | None:
    for value in values:
        if isinstance(value, str):
            return value
    return None


def _first_int(*values: object) -> int | None:
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def unexpected(status: int, body: bytes, url: str, why: str) -> EtcdUnexpectedResponse:
    """A reply that no etcd sends (a proxy's HTML, a cut-off body)."""
    return EtcdUnexpectedResponse(
        f"{why}: HTTP {status} from {origin(url)}, body {body[:_SNIPPET]!r}",
        _text_payload(body),
        status=status,
    )


def _text(body: bytes) -> str:
    return body[:_SNIPPET].decode("utf-8", "replace").strip()


def _text_payload(body: bytes) -> ErrorPayload:
    return ErrorPayload(message=_text(body))


def _path(url: str) -> str:
    return "/" + url.partition("://")[2].split("/", 1)[1].split("?", 1)[0]
