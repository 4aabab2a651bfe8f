"""Copy a v2 store into etcd's v3 keys and keep the copy in step (``aio-etcd migrate``)::

    from aio_etcd.migrate import keep_syncing, migrate, verify

    report = await migrate(v2_client, etcd3_client, "/config")
    assert await verify(v2_client, etcd3_client, "/config") == []

See the "Moving to v3" page of the docs (``docs/migrating-to-v3.md``).
"""

from ._migrate import Difference, Entry, Report, SyncReport, keep_syncing, migrate, verify

__all__ = ["Difference", "Entry", "Report", "SyncReport", "keep_syncing", "migrate", "verify"]
