"""The lean transport prototype speaks to a real etcd as the default one does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

import aio_etcd as etcd
from aio_etcd._lean import LeanTransport
from aio_etcd._server import LocalEtcd, free_port


@pytest.fixture
async def lean(etcd_server: LocalEtcd) -> AsyncIterator[etcd.Client]:
    async with etcd.Client(port=etcd_server.port, transport=LeanTransport()) as client:
        yield client


async def test_keys_errors_and_odd_keys(lean: etcd.Client, prefix: str) -> None:
    key = f"{prefix}/a b?c#d%e+f;g&h=ü"
    written = await lean.write(key, "v&x=1", ttl=30)
    assert written.new_key and written.etcd_index is not None
    assert (await lean.read(key)).value == "v&x=1"
    with pytest.raises(etcd.EtcdCompareFailed):
        await lean.write(key, "w", prevValue="other")
    with pytest.raises(etcd.EtcdKeyNotFound):
        await lean.read(f"{prefix}/missing")
    await lean.delete(key, prevValue="v&x=1")
    results = await asyncio.gather(*(lean.write(f"{prefix}/k{n}", n) for n in range(64)))
    assert len({r.modified_index for r in results}) == 64


async def test_watches_stream_and_time_out(lean: etcd.Client, prefix: str) -> None:
    start = (await lean.write(f"{prefix}/w", "0")).modified_index
    watching = asyncio.create_task(lean.watch(f"{prefix}/w", index=start + 1))
    await asyncio.sleep(0.1)
    await lean.write(f"{prefix}/w", "1")
    assert (await asyncio.wait_for(watching, 5)).value == "1"
    with pytest.raises(etcd.EtcdWatchTimedOut):
        await lean.watch(f"{prefix}/w", timeout=0.2)

    seen = []
    async with lean.watch_iter(prefix, recursive=True, index=start) as events:
        async for event in events:
            seen.append(event.value)
            if len(seen) == 2:
                break
    assert seen == ["0", "1"]


async def test_nothing_listening_and_close() -> None:
    async with etcd.Client(port=free_port(), transport=LeanTransport()) as client:
        with pytest.raises(etcd.EtcdConnectionFailed):
            await client.read("/")
    with pytest.raises(RuntimeError):
        await client.read("/")
