"""Scale: one client holding 1,000 ``watch_iter`` streams on one etcd, on each transport.

    python benchmarks/many_watches.py [--watches 1000] [--rounds 3] [--transport lean|aiohttp]

Runs its own etcd 3.5.1 (``pip install 'aio_etcd[server]'``) unless given ``--port``, and
each transport in a fresh process. Measures the time until every stream is open (its reply
headers in, so that no later change can be missed), the resident memory and the file
descriptors each stream adds (from ``/proc/self``), and the events per second delivered
while a writer process (:mod:`_writer`) changes every watched key ``--rounds`` times, 32
writes at a time. Then it closes the streams and the client and fails, exit status 1, if
a descriptor or a task is left over. Also ``./scripts/bench --scale``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from _writer import Writer

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd

HERE = Path(__file__).parent
TRANSPORTS = ("lean", "aiohttp")


class Leak(Exception):
    """Descriptors or tasks outlived the watches or the client."""


def raise_fd_limit(wanted: int) -> None:
    """Lift this process's descriptor limit to ``wanted`` (or the hard limit): each
    stream holds a socket, and the common default soft limit is 1024. Child processes
    (etcd) inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def transport_maker(name: str) -> Callable[[], etcd.Transport]:
    """Always explicit, so the figures do not depend on the default."""
    return etcd.AiohttpTransport if name == "aiohttp" else etcd.LeanTransport


async def settle(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Whether ``check()`` comes true within ``seconds``: closing sockets and ending tasks
    take a few turns of the loop."""
    deadline = time.perf_counter() + seconds
    while not check():
        if time.perf_counter() > deadline:
            return False
        gc.collect()
        await asyncio.sleep(0.02)
    return True


async def measure(transport: str, watches: int, rounds: int, port: int) -> dict[str, float]:
    await asyncio.sleep(0)
    gc.collect()
    base_fds, base_tasks = open_fds(), len(asyncio.all_tasks())
    prefix = f"/scale/{uuid.uuid4().hex}"
    client = etcd.Client(port=port, transport=transport_maker(transport)())
    await client.write(f"{prefix}/k0", "0")  # the client's first connection and timers
    client_fds, client_tasks = open_fds(), len(asyncio.all_tasks())
    gc.collect()
    rss_before = rss_kib()

    streams = [client.watch_iter(f"{prefix}/k{i}") for i in range(watches)]
    wanted = watches * rounds
    seen = 0
    all_seen = asyncio.Event()

    async def consume(stream: etcd.Watch) -> None:
        nonlocal seen
        mine = 0
        async with stream:
            async for _event in stream:
                mine += 1
                seen += 1
                if seen == wanted:
                    all_seen.set()
                if mine == rounds:
                    return

    started = time.perf_counter()
    consumers = [asyncio.ensure_future(consume(stream)) for stream in streams]
    # A stream started without an index takes its first from the reply's headers.
    if not await settle(lambda: all(s.next_index is not None for s in streams), 120):
        raise RuntimeError(f"{watches} streams did not open within 120 s")
    opened = time.perf_counter() - started
    gc.collect()
    rss_open, fds_open = rss_kib(), open_fds()

    writer = await Writer.start(sys.executable, "v2", prefix, wanted, port, keys=watches)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        writer.go()
        await asyncio.wait_for(all_seen.wait(), 120)
        elapsed = time.perf_counter() - wall
        cpu = time.process_time() - cpu
    except BaseException:
        await writer.kill()
        raise
    written = await writer.finish()
    del writer  # its pipes are closed

    await asyncio.gather(*consumers)  # each closed its stream after its last event
    fds_closed = await settle(lambda: open_fds() <= client_fds)
    tasks_closed = await settle(lambda: len(asyncio.all_tasks()) <= client_tasks)
    fds_left, tasks_left = open_fds() - client_fds, len(asyncio.all_tasks()) - client_tasks
    await client.close()
    client_gone = await settle(
        lambda: open_fds() <= base_fds and len(asyncio.all_tasks()) <= base_tasks
    )
    if not (fds_closed and tasks_closed and client_gone):
        raise Leak(
            f"{transport}: after closing {watches} streams, {fds_left} descriptors and "
            f"{tasks_left} tasks more than before them; after closing the client, "
            f"{open_fds() - base_fds} descriptors and "
            f"{len(asyncio.all_tasks()) - base_tasks} tasks more than before it"
        )
    return {
        "watches": watches,
        "open_s": opened,
        "rss_kib_per_watch": (rss_open - rss_before) / watches,
        "fds_per_watch": (fds_open - client_fds) / watches,
        "events_per_s": wanted / elapsed,
        "cpu_us_per_event": 1e6 * cpu / wanted,
        "writer_per_s": written,
        "fds_left": fds_left,
        "tasks_left": tasks_left,
    }


def in_subprocesses(watches: int, rounds: int, port: int) -> dict[str, dict[str, float]]:
    """:func:`measure` on each transport, each in a fresh process."""
    found: dict[str, dict[str, float]] = {}
    for transport in TRANSPORTS:
        print(f"{watches} watch_iter streams on the {transport} transport ...", flush=True)
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                f"--transport={transport}",
                f"--watches={watches}",
                f"--rounds={rounds}",
                f"--port={port}",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"many_watches on {transport} failed:\n{done.stderr.strip()[-3000:]}")
        found[transport] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def report(scaled: dict[str, dict[str, float]]) -> None:
    watches = int(next(iter(scaled.values()))["watches"])
    print(f"\none client, {watches} watch_iter streams on one etcd (a fresh process each)")
    rows = [
        ("open them all, s", "open_s", "{:.2f}"),
        ("RSS per stream, KiB", "rss_kib_per_watch", "{:.1f}"),
        ("descriptors per stream", "fds_per_watch", "{:.2f}"),
        ("events/s, every key written", "events_per_s", "{:.0f}"),
        ("client CPU per event, us", "cpu_us_per_event", "{:.0f}"),
        ("the writer alone, writes/s", "writer_per_s", "{:.0f}"),
        ("descriptors left after", "fds_left", "{:.0f}"),
        ("tasks left after", "tasks_left", "{:.0f}"),
    ]
    print(f"{'':<30}" + "".join(f"{t:>10}" for t in scaled))
    for label, key, form in rows:
        print(f"{label:<30}" + "".join(f"{form.format(f[key]):>10}" for f in scaled.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--watches", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3, help="writes to each key")
    parser.add_argument("--transport", choices=TRANSPORTS, help="default: each in turn")
    parser.add_argument("--port", type=int, help="an etcd with the v2 API on 127.0.0.1")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    raise_fd_limit(4 * args.watches + 256)  # before etcd starts: it inherits the limit
    with contextlib.ExitStack() as stack:
        port = args.port or stack.enter_context(LocalEtcd(name="aio-etcd-bench")).port
        if not args.transport:
            report(in_subprocesses(args.watches, args.rounds, port))
            return
        try:
            figures = asyncio.run(measure(args.transport, args.watches, args.rounds, port))
        except Leak as leak:
            raise SystemExit(f"LEAK: {leak}") from None
        if args.json:
            print(json.dumps(figures))
        else:
            report({args.transport: figures})


if __name__ == "__main__":
    main()
