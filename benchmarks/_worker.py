"""One benchmark run of one client, in a process of its own, printing its figures as JSON.

``python _worker.py CONTENDER SCENARIO CONCURRENCY OPERATIONS PORT``

Contenders: ``aio_etcd`` (this package on its lean HTTP/1.1 transport, the default) and
``aio_etcd-aiohttp`` (on its aiohttp transport), each given explicitly; ``aio_etcd-on-v3``
(the same documented calls as ``Client(api="v3")``, on etcd's v3 API); ``aio_etcd-v3``
(its :class:`~aio_etcd.Etcd3Client`, the v3 API over etcd's JSON gateway, on the default
transport); ``gateway`` (the v3 requests by hand on the lean transport: the floor of any
client of the JSON gateway); ``aiohttp`` (the
same requests by hand: the floor of any aiohttp-based client); ``aio-etcd-0.4`` and
``python-etcd`` (the old clients); ``aetcd`` and ``etcd-client-py`` (the v3 API over gRPC)
and ``k3etcd`` (v2, blocking, concurrency 1 only). The others' clients run with an
interpreter that has them (the old aio_etcd has this package's import name), so this file
imports nothing outside the standard library at the top.
Scenarios: ``put``, ``get``, ``cas`` (a set, then a compare-and-swap: ``prevValue`` on v2,
a transaction on v3) and ``watch``.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
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
    scenario: str, concurrency: int, operations: int, port: int, *, lean: bool, api: str = "v2"
) -> dict[str, float]:
    import aio_etcd

    # Always an explicit transport, so that the figures do not depend on the default.
    make = aio_etcd.LeanTransport if lean else aio_etcd.AiohttpTransport

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        async with aio_etcd.Client(port=port, transport=make(), api=api) as client:
            for i in range(64):
                await client.write(keys(prefix, i), "0")
            if scenario == "watch":

                async def prepare() -> Callable[[], Awaitable[int]]:
                    # v2: the store's next index; v3: the next revision (the same numbers
                    # on Client(api="v3")).
                    start = v2_index(port) if api == "v2" else await v3_next(port)
                    return lambda: collect_aio_etcd(client, prefix, start, operations)

                return await watch_events(prepare, api, port, prefix, operations)

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


def run_aio_etcd_v3(
    scenario: str, concurrency: int, operations: int, port: int
) -> dict[str, float]:
    import aio_etcd
    from aio_etcd.v3 import Op, Value

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        async with aio_etcd.Etcd3Client(port=port) as client:
            for i in range(64):
                await client.put(keys(prefix, i), b"0")
            if scenario == "watch":

                async def prepare() -> Callable[[], Awaitable[int]]:
                    # From the next revision, as the v2 watchers start: a slow start
                    # misses nothing.
                    now = await client.get_prefix(f"{prefix}/", count_only=True)
                    start = now.header.revision + 1

                    async def collect() -> int:
                        seen = 0
                        watch = client.watch_prefix(f"{prefix}/", start_revision=start)
                        async with watch as events:
                            async for _event in events:
                                seen += 1
                                if seen == operations:
                                    break
                        return seen

                    return collect

                return await watch_events(prepare, "v3", port, prefix, operations)

            async def put(i: int) -> object:
                return await client.put(keys(prefix, i), str(i).encode())

            async def get(i: int) -> object:
                return await client.get(keys(prefix, i))

            async def cas(i: int) -> object:
                # The shape of aetcd's replace(): a transaction comparing the value.
                key = f"{prefix}/cas{i}"
                await client.put(key, b"a")
                return await client.transaction(
                    compare=[Value(key) == b"a"], success=[Op.put(key, b"b")], failure=[]
                )

            return await drive(
                {"put": put, "get": get, "cas": cas}[scenario], concurrency, operations
            )

    return asyncio.run(run())


def run_gateway_floor(
    scenario: str, concurrency: int, operations: int, port: int
) -> dict[str, float]:
    """The v3 requests by hand on the lean transport (prebuilt JSON, ``json.loads``): the
    floor of any client of etcd's JSON gateway over HTTP/1.1."""
    import aio_etcd

    if scenario == "watch":
        raise SystemExit("the gateway floor has no watch")
    base = f"http://127.0.0.1:{port}/v3/kv"
    headers = {"Content-Type": "application/json"}

    def b64(data: str) -> str:
        return base64.b64encode(data.encode()).decode()

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        transport = aio_etcd.LeanTransport()

        async def post(path: str, request: dict[str, object]) -> object:
            body = json.dumps(request).encode()
            reply = await transport.request(
                "POST", f"{base}/{path}", body=body, headers=headers, timeout=30
            )
            if reply.status != 200:
                raise RuntimeError(f"the gateway answered {reply.status}: {reply.body[:200]!r}")
            return json.loads(reply.body)

        async def put(i: int) -> object:
            return await post("put", {"key": b64(keys(prefix, i)), "value": b64(str(i))})

        async def get(i: int) -> object:
            return await post("range", {"key": b64(keys(prefix, i))})

        async def cas(i: int) -> object:
            key = b64(f"{prefix}/cas{i}")
            await post("put", {"key": key, "value": b64("a")})
            swap = {
                "compare": [{"key": key, "target": "VALUE", "result": "EQUAL", "value": b64("a")}],
                "success": [{"request_put": {"key": key, "value": b64("b")}}],
            }
            return await post("txn", swap)

        try:
            for i in range(64):
                await put(i)
            return await drive(
                {"put": put, "get": get, "cas": cas}[scenario], concurrency, operations
            )
        finally:
            await transport.aclose()

    return asyncio.run(run())


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

                return await watch_events(v2_start(collect, port), "v2", port, prefix, operations)

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

                return await watch_events(v2_start(collect, port), "v2", port, prefix, operations)

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

        return asyncio.run(watch_events(v2_start(collect, port), "v2", port, prefix, operations))

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


# -- the v3 clients ----------------------------------------------------------------------


def run_aetcd(scenario: str, concurrency: int, operations: int, port: int) -> dict[str, float]:
    # aetcd 1.0.0 (asyncio over gRPC, the v3 API), in a virtualenv of its own; untyped.
    aetcd: Any = importlib.import_module("aetcd")

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        async with aetcd.Client(port=port) as client:
            for i in range(64):
                await client.put(keys(prefix, i).encode(), b"0")
            if scenario == "watch":

                async def prepare() -> Callable[[], Awaitable[int]]:
                    # Returns once etcd has created the watch.
                    watch = await client.watch_prefix(f"{prefix}/".encode())

                    async def collect() -> int:
                        seen = 0
                        async for _event in watch:
                            seen += 1
                            if seen == operations:
                                break
                        await watch.cancel()
                        return seen

                    return collect

                return await watch_events(prepare, "v3", port, prefix, operations)

            async def put(i: int) -> object:
                return await client.put(keys(prefix, i).encode(), str(i).encode())

            async def get(i: int) -> object:
                return await client.get(keys(prefix, i).encode())

            async def cas(i: int) -> object:
                key = f"{prefix}/cas{i}".encode()
                await client.put(key, b"a")
                return await client.replace(key, b"a", b"b")

            return await drive(
                {"put": put, "get": get, "cas": cas}[scenario], concurrency, operations
            )

    return asyncio.run(run())


def run_etcd_client(
    scenario: str, concurrency: int, operations: int, port: int
) -> dict[str, float]:
    # etcd-client-py 0.5.1 (Rust's etcd-client through PyO3, the v3 API); untyped here.
    ec: Any = importlib.import_module("etcd_client")

    async def run() -> dict[str, float]:
        prefix = f"/bench/{uuid.uuid4().hex}"
        async with ec.Client([f"http://127.0.0.1:{port}"]).connect() as client:
            for i in range(64):
                await client.put(keys(prefix, i).encode(), b"0")
            if scenario == "watch":

                async def prepare() -> Callable[[], Awaitable[int]]:
                    ready = ec.CondVar()
                    events = client.watch_prefix(f"{prefix}/".encode(), ready_event=ready)

                    async def collect() -> int:
                        seen = 0
                        async for _event in events:
                            seen += 1
                            if seen == operations:
                                break
                        return seen

                    collecting = asyncio.ensure_future(collect())
                    await ready.wait()  # the watch is created: nothing written after is missed

                    async def wait() -> int:
                        seen: int = await collecting
                        return seen

                    return wait

                return await watch_events(prepare, "v3", port, prefix, operations)

            async def put(i: int) -> object:
                return await client.put(keys(prefix, i).encode(), str(i).encode())

            async def get(i: int) -> object:
                return await client.get(keys(prefix, i).encode())

            async def cas(i: int) -> object:
                key = f"{prefix}/cas{i}".encode()
                await client.put(key, b"a")
                swap = ec.Txn().when([ec.Compare.value(key, ec.CompareOp.EQUAL, b"a")])
                return await client.txn(swap.and_then([ec.TxnOp.put(key, b"b")]))

            return await drive(
                {"put": put, "get": get, "cas": cas}[scenario], concurrency, operations
            )

    return asyncio.run(run())


def run_k3etcd(scenario: str, concurrency: int, operations: int, port: int) -> dict[str, float]:
    # k3etcd 0.2.3: blocking, the v2 API, one caller (concurrency 1 only); untyped.
    k3etcd: Any = importlib.import_module("k3etcd")
    if concurrency != 1:
        raise SystemExit("k3etcd runs at concurrency 1 only")
    client = k3etcd.Client(port=port)
    prefix = f"/bench/{uuid.uuid4().hex}"
    for i in range(64):
        client.write(keys(prefix, i), "0")
    if scenario == "watch":

        def collect_sync(start: int) -> int:
            index = start
            seen = 0
            while seen < operations:
                # Its watch() reads the key first and, for a directory, moves a given index
                # up to the newest, skipping its children's changes in between; _watch is
                # the same wait request without that read.
                event = client._watch(prefix, waitindex=index, recursive=True)
                index = event.modifiedIndex + 1
                seen += 1
            return seen

        async def collect(start: int) -> int:
            return await asyncio.to_thread(collect_sync, start)

        return asyncio.run(watch_events(v2_start(collect, port), "v2", port, prefix, operations))

    def put(i: int) -> object:
        return client.write(keys(prefix, i), str(i))

    def get(i: int) -> object:
        return client.read(keys(prefix, i))

    def cas(i: int) -> object:
        key = f"{prefix}/cas{i}"
        client.write(key, "a")
        return client.write(key, "b", prevValue="a")

    op = {"put": put, "get": get, "cas": cas}[scenario]
    latencies: list[float] = []
    cpu, wall = time.process_time(), time.perf_counter()
    for i in range(operations):
        started = time.perf_counter()
        op(i)
        latencies.append(time.perf_counter() - started)
    return figures(latencies, time.perf_counter() - wall, time.process_time() - cpu)


# -- watching ---------------------------------------------------------------------------

Prepare = Callable[[], Awaitable[Callable[[], Awaitable[int]]]]


def v2_index(port: int) -> int:
    """The v2 store's next index (stdlib only: every virtualenv has it)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/keys/", timeout=10) as reply:
        return int(reply.headers["X-Etcd-Index"]) + 1


async def v3_next(port: int) -> int:
    """The v3 store's next revision."""
    import aio_etcd

    async with aio_etcd.Etcd3Client(port=port) as client3:
        return (await client3.status()).header.revision + 1


def v2_start(collect: Callable[[int], Awaitable[int]], port: int) -> Prepare:
    """A v2 watcher from the next index: a slow start misses nothing."""

    async def prepare() -> Callable[[], Awaitable[int]]:
        start = v2_index(port)
        return lambda: collect(start)

    return prepare


async def watch_events(
    prepare: Prepare, api: str, port: int, prefix: str, count: int
) -> dict[str, float]:
    """Events per second delivered to one watcher of ``prefix`` while a writer process
    (:mod:`_writer`, the same for every watcher of an API) writes ``count`` changes, from
    the first write to the last event; CPU time is the watcher's alone."""
    from _writer import Writer  # beside this file

    python = os.environ.get(f"BENCH_{api.upper()}_WRITER_PYTHON", sys.executable)
    writer = await Writer.start(python, api, prefix, count, port)
    try:
        consume = await prepare()
        watching = asyncio.ensure_future(consume())
        await asyncio.sleep(0.3)  # the watcher's request is on its way or answered
        cpu, wall = time.process_time(), time.perf_counter()
        writer.go()
        seen = await asyncio.wait_for(watching, 120)
        elapsed = time.perf_counter() - wall
        cpu = time.process_time() - cpu
    except BaseException:
        await writer.kill()
        raise
    written = await writer.finish()
    return {
        "events_per_s": seen / elapsed,
        "cpu_us_per_op": 1e6 * cpu / seen,
        "writer_per_s": written,
    }


RUNNERS: dict[str, Callable[[str, int, int, int], dict[str, float]]] = {
    "aio_etcd": lambda *args: run_aio_etcd(*args, lean=True),
    "aio_etcd-aiohttp": lambda *args: run_aio_etcd(*args, lean=False),
    "aio_etcd-v3": run_aio_etcd_v3,
    "aio_etcd-on-v3": lambda *args: run_aio_etcd(*args, lean=True, api="v3"),
    "gateway": run_gateway_floor,
    "aiohttp": run_aiohttp,
    "aio-etcd-0.4": run_old_aio_etcd,
    "python-etcd": run_python_etcd,
    "aetcd": run_aetcd,
    "etcd-client-py": run_etcd_client,
    "k3etcd": run_k3etcd,
}

if __name__ == "__main__":
    main()
