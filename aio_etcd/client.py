"""``from aio_etcd.client import Client``, as code written for aio_etcd 0.4 (and python-etcd's
``etcd.client``) imports it."""

from ._client import Client, WatchCallback

__all__ = ["Client", "WatchCallback"]
