"""Any event etcd sends reaches the user, whatever its size, on both transports and every kind
of watch: the one-shot ``watch``, ``watch_iter``, ``eternal_watch`` and ``aio-etcd watch``.

A v2 event is one JSON line carrying the new value and the one it replaced; etcd escapes
``<``, ``>`` and ``&`` as six bytes each, so a line grows well past its value. Events are
taken both live (the watch waits, then the write comes) and replayed from etcd's history
(the watch starts at an older index).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

import aio_etcd as etcd
from aio_etcd import _transport
from aio_etcd._server import LocalEtcd

from .test_cli import Running, cli

SIZES = {
    "270k": 270_000,  # past aiohttp's 128 KiB stream buffer, twice in one line
    "1.4MiB": 1_400_000,  # about the largest write etcd's default --max-request-bytes takes
}
TRANSPORTS: dict[str, Callable[[], etcd.Transport]] = {
    "lean": etcd.LeanTransport,
    "aiohttp": etcd.AiohttpTransport,
}


def value_of(size: int, letter: str) -> str:
    """``size`` characters, most of which etcd's JSON escapes."""
    unit = f'{letter}<"\\\n&é>'
    return (unit * (size // len(unit) + 1))[:size]


async def _watch(client: etcd.Client, key: str, index: int) -> etcd.EtcdResult:
    return await client.watch(key, index=index)


async def _watch_iter(client: etcd.Client, key: str, index: int) -> etcd.EtcdResult:
    async with client.watch_iter(key, index=index) as events:
        async for event in events:
            return event
    raise AssertionError("the watch ended")


async def _eternal_watch(client: etcd.Client, key: str, index: int) -> etcd.EtcdResult:
    seen: list[etcd.EtcdResult] = []

    def first(event: etcd.EtcdResult) -> None:
        seen.append(event)
        raise etcd.StopWatching

    assert await client.eternal_watch(key, first, index=index) == seen[0].modified_index + 1
    return seen[0]


WATCHES: dict[str, Callable[[etcd.Client, str, int], Awaitable[etcd.EtcdResult]]] = {
    "watch": _watch,
    "watch_iter": _watch_iter,
    "eternal_watch": _eternal_watch,
}


@pytest.fixture(params=list(TRANSPORTS))
async def client(
    request: pytest.FixtureRequest, server: LocalEtcd, api: str
) -> AsyncIterator[etcd.Client]:
    transport = TRANSPORTS[request.param]()
    async with etcd.Client(port=server.port, transport=transport, api=api) as client:
        yield client


@pytest.mark.parametrize("how", list(WATCHES))
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("live", [True, False], ids=["live", "replayed"])
async def test_a_large_value_replacing_another(
    client: etcd.Client, api: str, prefix: str, how: str, size: str, live: bool
) -> None:
    key = f"{prefix}/big"
    length = SIZES[size]
    if api == "v3":  # v3 refuses a request over --max-request-bytes (1.5 MiB of UTF-8)
        length = min(length, 1_300_000)
    old, new = value_of(length, "a"), value_of(length, "b")
    first = await client.write(key, old)
    watching = asyncio.ensure_future(WATCHES[how](client, key, first.modified_index + 1))
    if live:
        await asyncio.sleep(0.3)  # the watch waits at etcd before the write comes
        assert not watching.done()
    second = await client.write(key, new)
    if not live:
        await asyncio.sleep(0.1)  # the watch starts after the write: from history
    event = await asyncio.wait_for(watching, 30)
    assert event.modified_index == second.modified_index
    assert event.value == new
    assert event.prev_node is not None and event.prev_node.value == old


async def test_a_line_over_the_cap_ends_the_watch_with_an_etcd_error(
    client: etcd.Client, api: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_transport, "MAX_LINE", 2**20)
    key = f"{prefix}/big"
    # v3 refuses a request over --max-request-bytes (1.5 MiB of UTF-8); base64 in the
    # event still takes the line past the cap.
    length = SIZES["1.4MiB"] if api == "v2" else 1_300_000
    first = await client.write(key, value_of(length, "a"))
    with pytest.raises(etcd.EtcdUnexpectedResponse, match="longer than 1048576 bytes"):
        await asyncio.wait_for(_watch_iter(client, key, first.modified_index), 30)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("live", [True, False], ids=["live", "replayed"])
async def test_the_command_line_prints_a_large_event(
    etcd_server: LocalEtcd, prefix: str, size: str, live: bool
) -> None:
    key = f"{prefix}/big"
    old, new = value_of(SIZES[size], "a"), value_of(SIZES[size], "b")
    async with etcd.Client(port=etcd_server.port) as client:
        first = await client.write(key, old)
        args = ("-o", "json", "watch", key, "--after-index", str(first.modified_index))
        url = etcd_server.client_url
        if live:
            watching = Running(*args, endpoint=url)
            try:
                await asyncio.sleep(1)  # the process starts and its watch waits at etcd
                assert watching.process.poll() is None
                second = await client.write(key, new)
                ran = await asyncio.to_thread(watching.wait, 30)
            finally:
                watching.kill()
        else:
            second = await client.write(key, new)
            ran = await asyncio.to_thread(cli, *args, endpoint=url)
    assert (ran.code, ran.err) == (0, "")
    event = json.loads(ran.out)
    assert event["node"]["modifiedIndex"] == second.modified_index
    assert (event["node"]["value"], event["prevNode"]["value"]) == (new, old)
