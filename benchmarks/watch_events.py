"""Events per second delivered by ``watch_iter`` (one streaming request) and by a
``watch()`` loop (one request per event), live, while writers write as fast as they can.

At most 900 events a run: a loop that falls more than 1000 events behind gets
``EtcdEventIndexCleared`` (a stream keeps up). Runs its own etcd (``pip install
'aio_etcd[server]'``); alternates the contenders and prints medians and ratios, since
shared machines are noisy. The writers alone give the ceiling::

    python benchmarks/watch_events.py [--events 900] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd

WRITERS = 32


async def watch_iter_consumer(client: etcd.Client, prefix: str, count: int) -> list[int]:
    seen = []
    async with client.watch_iter(prefix, recursive=True) as events:
        async for event in events:
            seen.append(event.modified_index)
            if len(seen) == count:
                return seen
    return seen


async def watch_loop_consumer(client: etcd.Client, prefix: str, count: int) -> list[int]:
    seen: list[int] = []
    index = (await client.read("/")).etcd_index
    assert index is not None
    index += 1
    while len(seen) < count:
        event = await client.watch(prefix, index=index, recursive=True)
        seen.append(event.modified_index)
        index = event.modified_index + 1
    return seen


Consumer = Callable[[etcd.Client, str, int], Coroutine[Any, Any, list[int]]]


async def no_consumer(client: etcd.Client, prefix: str, count: int) -> list[int]:
    """The ceiling: how fast the writers write with nobody watching."""
    return []


async def one_run(client: etcd.Client, consumer: Consumer, count: int) -> float:
    """Events per second from the first write until the consumer has every event."""
    prefix = f"/bench/{uuid.uuid4().hex}"
    watching = asyncio.create_task(consumer(client, prefix, count))
    await asyncio.sleep(0.1)
    written: list[int] = []
    queue = list(range(count))

    async def writer() -> None:
        while queue:
            number = queue.pop()
            written.append((await client.write(f"{prefix}/{number % 50}", number)).modified_index)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    seen = await watching
    elapsed = time.perf_counter() - started
    if consumer is not no_consumer:
        assert seen == sorted(written), "the watcher missed or repeated an event"
    await client.delete(prefix, recursive=True)
    return count / elapsed


async def main(endpoint_port: int, count: int, rounds: int) -> None:
    contenders: dict[str, Consumer] = {
        "watch_iter (stream)": watch_iter_consumer,
        "watch() loop": watch_loop_consumer,
        "(writes, no watcher)": no_consumer,
    }
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    async with etcd.Client(port=endpoint_port) as client:
        await one_run(client, watch_iter_consumer, min(count, 200))  # warm up
        for _ in range(rounds):
            for name, consumer in contenders.items():  # A/B, A/B, ...
                rates[name].append(await one_run(client, consumer, count))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    base = medians["watch() loop"]
    print(f"{count} events, {WRITERS} concurrent writers, {rounds} rounds (A/B alternated)")
    print(f"{'contender':<22}{'median events/s':>16}{'ratio':>8}")
    for name, median in medians.items():
        print(f"{name:<22}{median:>16.0f}{median / base:>7.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=900)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with LocalEtcd(name="aio-etcd-bench") as server:
        asyncio.run(main(server.port, args.events, args.rounds))
