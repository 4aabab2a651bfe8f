"""``from aio_etcd.lock import Lock``, as older code imports it."""

from ._lock import Lock

__all__ = ["Lock"]
