"""Fixtures of the ``Client(api="v3")`` tests: a documented-API client and an Etcd3Client on
the same v2-off server, so that each can check what the other wrote."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd


@pytest_asyncio.fixture
async def client(etcd3_server: LocalEtcd) -> AsyncIterator[etcd.Client]:
    """``Client(api="v3")`` of ``etcd3_server``."""
    async with etcd.Client(port=etcd3_server.port, api="v3") as built:
        yield built


@pytest_asyncio.fixture
async def v3(etcd3_client: etcd.Etcd3Client) -> etcd.Etcd3Client:
    """The typed v3 client of the same server."""
    return etcd3_client
