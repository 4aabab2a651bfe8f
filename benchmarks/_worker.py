"""One benchmark run of one client, in a process of its own, printing its figures as JSON.

``python _worker.py CONTENDER SCENARIO CONCURRENCY OPERATIONS PORT``

Contenders: ``aio_etcd`` (this package on its aiohttp transport), ``aio_etcd-lean`` (on
its default, the lean transport), ``aiohttp`` (the same requests by hand: the floor
of any aiohttp-based client), ``aio-etcd-0.4`` and ``python-etcd`` (the old clients; run
with an interpreter that has them, since the old aio_etcd has this package's import name).
Scenarios: ``put``, ``get``, ``cas`` and ``watch``.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

Op = Callable[[int], Awaitable[object]]


def main() -> None:
    contender, scenario, concurrency, operations, port = sys.argv[1:6]
    runner = RUNNERS[contender]
    figures = runner(scenario, int(concurrency), int(operations), int(port))
    print(json.dumps(figures))


def figures(latencies: list[float], elapsed: float, cpu: float) -> dict[str, float]:
    latencies.sort()
    count = len(latencies)
    return {
        "ops_per_s": count / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))],
        "cpu_us_per_op": 1e6 * cpu / count,
    }


async def drive(op: Op, concurrency: int, operations: int) -> dict[str, float]:
    """Run ``op(i)`` for i in 0..operations-1, ``concurrency`` at a time."""
    latencies: list[float] = []
    next_index = iter(range(operations))

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return figures(latencies, time.perf_counter() - wall, time.process_time() - cpu)


def keys(prefix: str, i: int) -> str:
    return f"{prefix}/k{i % 64}"


def documented_ops(client: Any, prefix: str) -> dict[str, Op]:
    """put, get and compare-and-swap through the documented calls, which both versions of
    aio_etcd share."""

    async def put(i: int) -> object:
        return await client.write(keys(prefix, i), i)

    async def get(i: int) -> object:
        return await client.read(keys(prefix, i))

    async def cas(i: int) -> object:
        key = f"{prefix}/cas{i}"
        await client.write(key, "a")
        return await client.write(key, "b", prevValue="a")

    return {"put": put, "get": get, "cas": cas}


# -- this package ----------------------------------------------------------------------


def run_aio_etcd(
    scenario: str, concurrency: int, operations: int, port: int, *, lean: bool = False
) -> dict[str, float]:
    import aio_etcd

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        transport = aio_etcd.LeanTransport() if lean else aio_etcd.AiohttpTransport()
        async with aio_etcd.Client(port=port, transport=transport) as client:
            for i in range(64):
                await client.write(keys(prefix, i), "0")
            if scenario == "watch":
                return await watch_events(
                    lambda start: collect_aio_etcd(client, prefix, start, operations),
                    port,
                    prefix,
                    operations,
                )

            op = documented_ops(client, prefix)[scenario]
            return await drive(op, concurrency, operations)

    return asyncio.run(run())


async def collect_aio_etcd(client: Any, prefix: str, start: int, count: int) -> int:
    seen = 0
    async with client.watch_iter(prefix, recursive=True, index=start) as events:
        async for _event in events:
            seen += 1
            if seen == count:
                break
    return seen


# -- bare aiohttp -----------------------------------------------------------------------


def run_aiohttp(scenario: str, concurrency: int, operations: int, port: int) -> dict[str, float]:
    import aiohttp

    base = f"http://127.0.0.1:{port}/v2/keys"
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def put(i: int) -> object:
                async with session.put(
                    base + keys(prefix, i), data=f"value={i}", headers=form
                ) as r:
                    return json.loads(await r.read())

            for i in range(64):
                await put(i)
            if scenario == "watch":

                async def collect(start: int) -> int:
                    url = f"{base}{prefix}?wait=true&stream=true&recursive=true&waitIndex={start}"
                    seen = 0
                    async with session.get(url) as response:
                        while seen < operations:
                            json.loads(await response.content.readline())
                            seen += 1
                    return seen

                return await watch_events(collect, port, prefix, operations)

            async def get(i: int) -> object:
                async with session.get(base + keys(prefix, i)) as r:
                    return json.loads(await r.read())

            async def cas(i: int) -> object:
                url = f"{base}{prefix}/cas{i}"
                async with session.put(url, data="value=a", headers=form) as r:
                    json.loads(await r.read())
                async with session.put(url, data="value=b&prevValue=a", headers=form) as r:
                    return json.loads(await r.read())

            return await drive(
                {"put": put, "get": get, "cas": cas}[scenario], concurrency, operations
            )

    return asyncio.run(run())


# -- the old clients --------------------------------------------------------------------


def run_old_aio_etcd(
    scenario: str, concurrency: int, operations: int, port: int
) -> dict[str, float]:
    # aio-etcd 0.4.6.1, in an interpreter of its own; untyped.
    old: Any = importlib.import_module("aio_etcd")

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        client = old.Client(port=port)
        try:
            for i in range(64):
                await client.write(keys(prefix, i), "0")
            if scenario == "watch":

                async def collect(start: int) -> int:
                    index = start
                    seen = 0
                    while seen < operations:
                        event = await client.watch(prefix, index=index, recursive=True)
                        index = event.modifiedIndex + 1
                        seen += 1
                    return seen

                return await watch_events(collect, port, prefix, operations)

            op = documented_ops(client, prefix)[scenario]
            return await drive(op, concurrency, operations)
        finally:
            client.close()
            await asyncio.sleep(0)

    return asyncio.run(run())


def run_python_etcd(
    scenario: str, concurrency: int, operations: int, port: int
) -> dict[str, float]:
    # python-etcd 0.4.5: untyped and blocking, so one thread per concurrent caller.
    etcd: Any = importlib.import_module("etcd")

    local = threading.local()

    def client() -> Any:
        if not hasattr(local, "client"):
            local.client = etcd.Client(port=port, per_host_pool_size=concurrency)
        return local.client

    prefix = f"/bench/{uuid.uuid4().hex}"
    for i in range(64):
        client().write(keys(prefix, i), "0")
    if scenario == "watch":

        def collect_sync(start: int) -> int:
            c = etcd.Client(port=port)
            index = start
            seen = 0
            while seen < operations:
                event = c.watch(prefix, index=index, recursive=True)
                index = event.modifiedIndex + 1
                seen += 1
            return seen

        async def collect(start: int) -> int:
            return await asyncio.to_thread(collect_sync, start)

        return asyncio.run(watch_events(collect, port, prefix, operations))

    def put(i: int) -> object:
        return client().write(keys(prefix, i), i)

    def get(i: int) -> object:
        return client().read(keys(prefix, i))

    def cas(i: int) -> object:
        key = f"{prefix}/cas{i}"
        client().write(key, "a")
        return client().write(key, "b", prevValue="a")

    op = {"put": put, "get": get, "cas": cas}[scenario]
    latencies: list[float] = []

    def timed(i: int) -> None:
        started = time.perf_counter()
        op(i)
        latencies.append(time.perf_counter() - started)

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(timed, range(operations)))
    return figures(latencies, time.perf_counter() - wall, time.process_time() - cpu)


# -- watching ---------------------------------------------------------------------------


async def watch_events(
    collect: Callable[[int], Awaitable[int]], port: int, prefix: str, count: int
) -> dict[str, float]:
    """Events per second delivered while 32 writers (bare aiohttp, the same for every
    contender) write ``count`` changes; CPU time includes the writers'.

    The watcher starts at the next index, so a slow start on a busy machine misses nothing.
    """
    import aiohttp

    base = f"http://127.0.0.1:{port}/v2/keys"
    async with aiohttp.ClientSession() as session, session.get(base + "/") as reply:
        start = int(reply.headers["X-Etcd-Index"]) + 1
    watching = asyncio.ensure_future(collect(start))
    await asyncio.sleep(0.3)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    todo = iter(range(count))
    cpu, wall = time.process_time(), time.perf_counter()
    async with aiohttp.ClientSession() as session:

        async def writer() -> None:
            for i in todo:
                async with session.put(
                    base + keys(prefix, i), data=f"value={i}", headers=form
                ) as r:
                    await r.read()

        await asyncio.gather(*(writer() for _ in range(32)))
    seen = await asyncio.wait_for(watching, 60)
    elapsed = time.perf_counter() - wall
    return {
        "events_per_s": seen / elapsed,
        "cpu_us_per_op": 1e6 * (time.process_time() - cpu) / seen,
    }


RUNNERS: dict[str, Callable[[str, int, int, int], dict[str, float]]] = {
    "aio_etcd": run_aio_etcd,
    "aio_etcd-lean": lambda *args: run_aio_etcd(*args, lean=True),
    "aiohttp": run_aiohttp,
    "aio-etcd-0.4": run_old_aio_etcd,
    "python-etcd": run_python_etcd,
}

if __name__ == "__main__":
    main()
