"""The typed v3 API of etcd, over its JSON gateway (etcd 3.4 and later)::

    from aio_etcd.v3 import Etcd3Client, ModRevision, Op, Value

    async with Etcd3Client(port=2379) as client:
        await client.put(b"/config/level", b"debug")
        reply = await client.transaction(
            [Value(b"/config/level") == b"debug"],
            [Op.put(b"/config/level", b"info")],
        )

Every model of the wire is here too (and in :mod:`aio_etcd.models.v3`).
"""

from ._v3._auth_admin import Auth
from ._v3._client import Etcd3Client
from ._v3._cluster import Cluster
from ._v3._concurrency import Election, Lock
from ._v3._kv import CreateRevision, LeaseId, ModRevision, Op, RangeOptions, Value, Version
from ._v3._lease import HasLeaseId, Lease, LeaseLike
from ._v3._maintenance import Maintenance
from ._v3._watch import Watch, WatchItem, WatchOptions
from .models.v3 import *  # noqa: F403 - the models are part of this surface
from .models.v3 import __all__ as _models

__all__ = [
    "Auth",
    "Cluster",
    "CreateRevision",
    "Election",
    "Etcd3Client",
    "HasLeaseId",
    "Lease",
    "LeaseId",
    "LeaseLike",
    "Lock",
    "Maintenance",
    "ModRevision",
    "Op",
    "RangeOptions",
    "Value",
    "Version",
    "Watch",
    "WatchItem",
    "WatchOptions",
    *_models,
]
