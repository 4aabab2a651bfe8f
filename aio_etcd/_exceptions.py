"""Every exception aio_etcd raises.

The tree (v2 error codes on the right)::

    EtcdException
    ├── EtcdKeyError
    │   ├── EtcdKeyNotFound ................ 100
    │   │   ├── EtcdLeaseNotFound .......... v3: requested lease not found (or expired)
    │   │   ├── EtcdMemberNotFound ......... v3: member not found
    │   │   ├── EtcdUserNotFound ........... v3: user name not found
    │   │   └── EtcdRoleNotFound ........... v3: role name not found
    │   ├── EtcdNotFile .................... 102
    │   ├── EtcdNotDir ..................... 104
    │   ├── EtcdAlreadyExist ............... 105
    │   └── EtcdRootReadOnly ............... 107
    ├── EtcdValueError (ValueError) ........ 200-212, and arguments rejected before sending
    │   ├── EtcdCompareFailed .............. 101
    │   ├── EtcdDirNotEmpty ................ 108
    │   ├── EtcdFutureRevision ............. v3: a revision the store has not reached
    │   ├── EtcdNotLearner ................. v3: only a learner can be promoted
    │   └── EtcdLearnerNotReady ............ v3: the learner has not caught up yet
    ├── EtcdInsufficientPermissions ........ 110, HTTP 401
    ├── EtcdRootUserMissing ................ v3: auth needs a user root with the role root
    ├── EtcdRaftInternalError .............. 300 (no quorum, request timed out in raft)
    ├── EtcdLeaderElectionInProgress ....... 301
    ├── EtcdWatcherCleared ................. 400
    ├── EtcdEventIndexCleared .............. 401 (the watch history no longer holds the index)
    │   └── EtcdCompacted .................. v3: the revision was compacted away
    ├── EtcdNoSpace ........................ v3: database space exceeded (an alarm is raised)
    ├── EtcdTooManyRequests ................ v3: the server sheds load (never proposed)
    ├── EtcdClusterIdChanged
    ├── EtcdLockExpired
    ├── EtcdAPIUnavailable ................. the server does not serve this API (v2 disabled)
    ├── EtcdUnexpectedResponse ............. the reply is not something etcd sends
    ├── EtcdDiscoveryFailed ................ no etcd found through DNS SRV records
    └── EtcdConnectionFailed
        ├── EtcdOutcomeUnknown ............. a write may or may not have been applied
        ├── EtcdTLSFailed .................. TLS refused: certificate, host name, protocol
        └── EtcdTimedOut (asyncio.TimeoutError)
            └── EtcdWatchTimedOut

    StopWatching (BaseException): raised by an eternal_watch callback to end the watch.

Every error that comes from the server carries ``payload`` (an
:class:`~aio_etcd.models.ErrorPayload`, also readable as ``payload['errorCode']``; from the v3
API a :class:`~aio_etcd.models.v3.GatewayError` with the gRPC ``code`` and ``message``) and the
HTTP ``status``; v3 errors are classified by gRPC code and message in
``aio_etcd/_v3/_errors.py``. Codes without a class of their own raise :class:`EtcdException`
itself, payload included. Wrong argument types raise :class:`TypeError`; wrong values raise
:class:`EtcdValueError` before anything is sent.
"""

from __future__ import annotations

import asyncio

from .models import ErrorPayload

__all__ = [
    "EtcdAPIUnavailable",
    "EtcdAlreadyExist",
    "EtcdClusterIdChanged",
    "EtcdCompacted",
    "EtcdCompareFailed",
    "EtcdConnectionFailed",
    "EtcdDirNotEmpty",
    "EtcdDiscoveryFailed",
    "EtcdEventIndexCleared",
    "EtcdException",
    "EtcdFutureRevision",
    "EtcdInsufficientPermissions",
    "EtcdKeyError",
    "EtcdKeyNotFound",
    "EtcdLeaderElectionInProgress",
    "EtcdLearnerNotReady",
    "EtcdLeaseNotFound",
    "EtcdLockExpired",
    "EtcdMemberNotFound",
    "EtcdNoSpace",
    "EtcdNotDir",
    "EtcdNotFile",
    "EtcdNotLearner",
    "EtcdOutcomeUnknown",
    "EtcdRaftInternalError",
    "EtcdRoleNotFound",
    "EtcdRootReadOnly",
    "EtcdRootUserMissing",
    "EtcdTLSFailed",
    "EtcdTimedOut",
    "EtcdTooManyRequests",
    "EtcdUnexpectedResponse",
    "EtcdUserNotFound",
    "EtcdValueError",
    "EtcdWatchTimedOut",
    "EtcdWatcherCleared",
    "StopWatching",
]


class EtcdException(Exception):
    """The root of every aio_etcd error."""

    def __init__(
        self,
        message: str | None = None,
        payload: ErrorPayload | None = None,
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.payload = payload
        """What the server sent, when the error came from the server."""
        self.status = status
        """The HTTP status of the reply, when there was one."""


class EtcdKeyError(EtcdException):
    """The key is not in a state the request allows."""


class EtcdKeyNotFound(EtcdKeyError):
    """The key does not exist (100)."""


class EtcdNotFile(EtcdKeyError):
    """The request needs a file but the key is a directory (102)."""


class EtcdNotDir(EtcdKeyError):
    """The path goes through a file as if it were a directory (104)."""


class EtcdAlreadyExist(EtcdKeyError):
    """The key exists, and the request said it must not (105)."""


class EtcdRootReadOnly(EtcdKeyError):
    """The root directory cannot be written or deleted (107)."""


class EtcdLeaseNotFound(EtcdKeyNotFound):
    """v3: the lease does not exist, or has expired or been revoked (gRPC NotFound
    ``requested lease not found``, or a keep-alive reply without a TTL)."""


class EtcdMemberNotFound(EtcdKeyNotFound):
    """v3: no member has this id (gRPC NotFound ``member not found``)."""


class EtcdUserNotFound(EtcdKeyNotFound):
    """v3: no user has this name (gRPC FailedPrecondition ``user name not found``, HTTP
    400)."""


class EtcdRoleNotFound(EtcdKeyNotFound):
    """v3: no role has this name (gRPC FailedPrecondition ``role name not found``, HTTP
    400)."""


class EtcdValueError(EtcdException, ValueError):
    """A value in the request is not acceptable (200-212, or rejected before sending)."""


class EtcdCompareFailed(EtcdValueError):
    """A compare-and-swap or compare-and-delete condition did not hold (101)."""


class EtcdDirNotEmpty(EtcdValueError):
    """The directory is not empty; delete it with ``recursive=True`` (108)."""


class EtcdFutureRevision(EtcdValueError):
    """v3: a read asked for a revision the store has not reached yet (gRPC OutOfRange
    ``mvcc: required revision is a future revision``)."""


class EtcdNotLearner(EtcdValueError):
    """v3: the member to promote is a voting member already (``can only promote a learner
    member``)."""


class EtcdLearnerNotReady(EtcdValueError):
    """v3: the learner to promote has not caught up with the leader, or has not started
    (``can only promote a learner member which is in sync with leader``); nothing changed,
    so the promotion can be asked for again later."""


class EtcdInsufficientPermissions(EtcdException):
    """The credentials are missing, wrong, or do not allow the request (110, HTTP 401)."""


class EtcdRootUserMissing(EtcdException):
    """v3: auth cannot be enabled: there is no user ``root``, or it lacks the role ``root``
    (``root user does not exist``, ``root user does not have root role``)."""


class EtcdRaftInternalError(EtcdException):
    """The cluster could not commit the request, e.g. it has no quorum (300)."""


class EtcdLeaderElectionInProgress(EtcdException):
    """The cluster is electing a leader (301)."""


class EtcdWatcherCleared(EtcdException):
    """The server dropped the watcher while recovering (400)."""


class EtcdEventIndexCleared(EtcdException):
    """The watch asked for an index older than the server's event history (401).

    ``payload.index`` is the server's current index: read the key again and watch from
    there plus one.
    """


class EtcdCompacted(EtcdEventIndexCleared):
    """v3: the revision asked for was compacted away (gRPC OutOfRange ``mvcc: required
    revision has been compacted``, or a watch canceled with ``compact_revision``).

    ``compact_revision`` is the oldest revision still available when the server said it (a
    watch does), else ``None``: read again at the current revision.
    """

    def __init__(
        self,
        message: str | None = None,
        payload: ErrorPayload | None = None,
        *,
        status: int | None = None,
        compact_revision: int | None = None,
    ) -> None:
        super().__init__(message, payload, status=status)
        self.compact_revision = compact_revision


class EtcdNoSpace(EtcdException):
    """v3: the database exceeded its quota (``mvcc: database space exceeded``); etcd refuses
    writes until space is freed (compact, defragment) and the NOSPACE alarm is disarmed."""


class EtcdTooManyRequests(EtcdException):
    """v3: the member sheds load (``etcdserver: too many requests``); the request was not
    proposed, so it is retried, writes included."""


class EtcdClusterIdChanged(EtcdException):
    """A reply came from a different cluster than the one this client was talking to."""


class EtcdLockExpired(EtcdException):
    """A lock was lost while it was being acquired or held."""


class EtcdAPIUnavailable(EtcdException):
    """The server does not serve the API this client speaks.

    etcd 3.4 and 3.5 serve the v2 API only when started with ``--enable-v2=true``; etcd 3.6
    removed it.
    """


class EtcdUnexpectedResponse(EtcdException):
    """The reply is not something etcd sends (e.g. an HTML page from a proxy, a cut-off body)."""


class EtcdDiscoveryFailed(EtcdException):
    """DNS SRV discovery found no etcd endpoint; the message names the records tried."""


class EtcdConnectionFailed(EtcdException):
    """No member could be reached, or a connection broke before a full reply."""

    def __init__(
        self,
        message: str | None = None,
        payload: ErrorPayload | None = None,
        cause: BaseException | None = None,
        *,
        status: int | None = None,
        sent: bool = True,
        next_index: int | None = None,
    ) -> None:
        super().__init__(message, payload, status=status)
        self.cause = cause
        self.sent = sent
        """``False`` when the request certainly never reached a server (it could not
        connect), so repeating it elsewhere is safe even for a write."""
        self.next_index = next_index
        """For a watch that gave up: the index to watch from again to miss nothing (the
        message says it too); ``None`` when the watch had not learned one yet."""


class EtcdOutcomeUnknown(EtcdConnectionFailed):
    """A write reached a member that then failed before confirming it.

    The write may or may not have been applied, so it is not repeated: read the key to find
    out. ``cause`` is what went wrong (a broken connection, a timeout, or etcd's own "request
    timed out").
    """


class EtcdTLSFailed(EtcdConnectionFailed):
    """The TLS handshake failed: the server's certificate is not trusted or is not for this
    host, or the server refused the client's certificate (or its absence)."""


class EtcdTimedOut(EtcdConnectionFailed, asyncio.TimeoutError):
    """The server did not answer within the request's timeout."""


class EtcdWatchTimedOut(EtcdTimedOut):
    """A watch given a timeout saw no event within it, or no member answered it in time
    (the message says which; either way it contains "timed out")."""


class StopWatching(BaseException):
    """Raise from an ``eternal_watch`` callback to end the watch."""


_BY_CODE: dict[int, type[EtcdException]] = {
    100: EtcdKeyNotFound,
    101: EtcdCompareFailed,
    102: EtcdNotFile,
    104: EtcdNotDir,
    105: EtcdAlreadyExist,
    107: EtcdRootReadOnly,
    108: EtcdDirNotEmpty,
    110: EtcdInsufficientPermissions,
    **dict.fromkeys(range(200, 213), EtcdValueError),
    300: EtcdRaftInternalError,
    301: EtcdLeaderElectionInProgress,
    400: EtcdWatcherCleared,
    401: EtcdEventIndexCleared,
}

_BY_STATUS: dict[int, type[EtcdException]] = {
    401: EtcdInsufficientPermissions,
    404: EtcdKeyNotFound,  # "No such member"
    409: EtcdAlreadyExist,  # "membership: peerURL exists"
    410: EtcdKeyNotFound,  # "Member permanently removed"
}
"""For replies without an errorCode (the members and auth endpoints)."""


def error_for(payload: ErrorPayload, status: int) -> EtcdException:
    """The exception for an error reply: by error code, else by HTTP status, else the base."""
    if payload.error_code is not None:
        cls = _BY_CODE.get(payload.error_code, EtcdException)
    else:
        cls = _BY_STATUS.get(status, EtcdException)
    return cls(_describe(payload, status), payload, status=status)


def _describe(payload: ErrorPayload, status: int) -> str:
    text = payload.message or "etcd error"
    if payload.cause:
        text += f": {payload.cause}"
    details = [f"errorCode {payload.error_code}"] if payload.error_code is not None else []
    details.append(f"HTTP {status}")
    if payload.index:
        details.append(f"index {payload.index}")
    return f"{text} ({', '.join(details)})"
