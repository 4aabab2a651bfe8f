"""aio_etcd: an asynchronous, fully typed client for etcd.

::

    import aio_etcd as etcd

    async with etcd.Client(port=2379) as client:
        await client.write("/nodes/n1", 1)
        print((await client.read("/nodes/n1")).value)
"""

from . import client as client  # aio_etcd 0.4 had these modules: aio_etcd.client.Client
from . import lock as lock
from ._client import Client, WatchCallback
from ._constants import VERSION as __version__
from ._exceptions import (
    EtcdAlreadyExist,
    EtcdAPIUnavailable,
    EtcdClusterIdChanged,
    EtcdCompacted,
    EtcdCompareFailed,
    EtcdConnectionFailed,
    EtcdDirNotEmpty,
    EtcdDiscoveryFailed,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdFutureRevision,
    EtcdInsufficientPermissions,
    EtcdKeyError,
    EtcdKeyNotFound,
    EtcdLeaderElectionInProgress,
    EtcdLearnerNotReady,
    EtcdLeaseNotFound,
    EtcdLockExpired,
    EtcdMemberNotFound,
    EtcdNoSpace,
    EtcdNotDir,
    EtcdNotFile,
    EtcdNotLearner,
    EtcdOutcomeUnknown,
    EtcdRaftInternalError,
    EtcdRoleNotFound,
    EtcdRootReadOnly,
    EtcdRootUserMissing,
    EtcdTimedOut,
    EtcdTLSFailed,
    EtcdTooManyRequests,
    EtcdUnexpectedResponse,
    EtcdUserNotFound,
    EtcdValueError,
    EtcdWatcherCleared,
    EtcdWatchTimedOut,
    StopWatching,
)
from ._http11 import LeanTransport
from ._lock import Lock
from ._transport import AiohttpTransport, HttpResponse, Transport
from ._types import NOT_GIVEN, NotGiven
from ._v3._client import Etcd3Client
from ._watch import Watch
from .models import ErrorPayload, EtcdNode, EtcdResult, Member, VersionInfo

__all__ = [
    "NOT_GIVEN",
    "AiohttpTransport",
    "Client",
    "ErrorPayload",
    "Etcd3Client",
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
    "EtcdNode",
    "EtcdNotDir",
    "EtcdNotFile",
    "EtcdNotLearner",
    "EtcdOutcomeUnknown",
    "EtcdRaftInternalError",
    "EtcdResult",
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
    "HttpResponse",
    "LeanTransport",
    "Lock",
    "Member",
    "NotGiven",
    "StopWatching",
    "Transport",
    "VersionInfo",
    "Watch",
    "WatchCallback",
    "__version__",
]
