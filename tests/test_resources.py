"""What a client holds, and that it lets go: event loops, sockets, tasks.

Open connections are counted as this process's open file descriptors (``/proc/self/fd``,
Linux), so a socket that aiohttp forgot shows up even if no Python object refers to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalEtcd, free_port

SLACK = 5
"""Descriptors allowed above the baseline after a release: kept-alive pooled connections."""

HANG_LIMIT = 5.0
"""Seconds after which a call that has not ended counts as hung."""


def open_fds() -> int:
    """Open descriptors, but for ``/dev/null``: uvloop opens one on the first connection
    of a loop and keeps it for the loop's life."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            count += os.readlink(f"/proc/self/fd/{fd}") != "/dev/null"
    return count


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Whether ``condition`` holds within ``within`` seconds, checked every 10 ms."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() >= deadline:
            return condition()
        await asyncio.sleep(0.01)
    return True


async def cancel_all(tasks: Iterable[asyncio.Task[Any]]) -> list[object]:
    """Cancel ``tasks`` and wait for them; what each ended with."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    outcomes: list[object] = await asyncio.gather(*pending, return_exceptions=True)
    return outcomes


def ignore(event: etcd.EtcdResult) -> None:
    """An ``eternal_watch`` callback for watches that are ended before any event."""


def is_closed(client: etcd.Client) -> bool:
    """``client.closed``, read afresh (mypy would keep an earlier assert's narrowing)."""
    return client.closed


def start_watches(client: etcd.Client, keys: Iterable[str]) -> list[asyncio.Task[etcd.EtcdResult]]:
    return [asyncio.create_task(client.watch(key)) for key in keys]


async def all_connected(baseline: int, count: int) -> None:
    """Wait until ``count`` more descriptors than ``baseline`` are open."""
    reached = await eventually(lambda: open_fds() >= baseline + count)
    assert reached, f"{open_fds() - baseline} connections open, expected {count}"


def etcd_watchers(server: LocalEtcd) -> int:
    """How many watchers etcd holds now: ``/v2/stats/store``, or on a server without v2 the
    gauge ``etcd_debugging_mvcc_watcher_total`` of ``/metrics`` (v3 watchers)."""
    connection = http.client.HTTPConnection(LOOPBACK, server.port, timeout=5)
    try:
        connection.request("GET", "/v2/stats/store")
        reply = connection.getresponse()
        body = reply.read()
        if reply.status == 200:
            watchers: int = json.loads(body)["watchers"]
            return watchers
        connection.request("GET", "/metrics")
        for line in connection.getresponse().read().decode().splitlines():
            if line.startswith("etcd_debugging_mvcc_watcher_total "):
                return int(float(line.split()[1]))
        raise AssertionError("etcd's /metrics has no etcd_debugging_mvcc_watcher_total")
    finally:
        connection.close()


async def etcd_holds(server: LocalEtcd, condition: Callable[[int], bool]) -> int:
    """etcd's watcher count once ``condition`` holds for it, or after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        watchers = await asyncio.to_thread(etcd_watchers, server)
        if condition(watchers) or time.monotonic() >= deadline:
            return watchers
        await asyncio.sleep(0.02)


async def all_waiting(server: LocalEtcd, before: int, count: int) -> None:
    """Wait until etcd holds ``count`` more watchers than ``before``, and their replies
    have begun (etcd sends the headers as soon as it registers a watcher)."""
    watchers = await etcd_holds(server, lambda n: n >= before + count)
    assert watchers >= before + count, f"etcd holds {watchers - before} of {count} watchers"
    await asyncio.sleep(0.1)


async def all_released(baseline: int, slack: int = SLACK) -> None:
    released = await eventually(lambda: open_fds() <= baseline + slack)
    assert released, f"{open_fds() - baseline} descriptors still open over the baseline"


async def round_trip(client: etcd.Client, key: str, value: str) -> None:
    """A write and a read through ``client``, within :data:`HANG_LIMIT`."""
    written = await asyncio.wait_for(client.write(key, value), HANG_LIMIT)
    read = await asyncio.wait_for(client.read(key), HANG_LIMIT)
    assert (read.value, read.modified_index) == (value, written.modified_index)


# -- building and closing ------------------------------------------------------------------


def test_a_client_is_built_without_a_loop_and_without_io(
    etcd_server: LocalEtcd, prefix: str
) -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        before = open_fds()

        quiet = etcd.Client(port=listener.getsockname()[1], read_timeout=1)
        nowhere = etcd.Client(port=free_port())

        assert open_fds() == before
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    assert not is_closed(quiet) and not is_closed(nowhere)

    # Built outside any loop, it works inside one.
    client = etcd.Client(port=etcd_server.port)

    async def use() -> str | None:
        async with client:
            await client.write(f"{prefix}/k", "v")
            return (await client.read(f"{prefix}/k")).value

    assert asyncio.run(use()) == "v"
    assert is_closed(client)
    asyncio.run(quiet.close())
    asyncio.run(nowhere.close())
    assert is_closed(quiet) and is_closed(nowhere)


class Boom(Exception):
    pass


async def use_then_fail(client: etcd.Client) -> None:
    async with client:
        assert not client.closed
        await client.version()
        raise Boom


async def test_async_with_closes(etcd_server: LocalEtcd) -> None:
    async with etcd.Client(port=etcd_server.port) as client:
        assert not is_closed(client)
        assert (await client.version()).startswith("3.")
    assert is_closed(client)

    failing = etcd.Client(port=etcd_server.port)
    with pytest.raises(Boom):
        await use_then_fail(failing)
    assert is_closed(failing)


async def test_close_twice_and_the_closed_property(etcd_server: LocalEtcd) -> None:
    unused = etcd.Client(port=etcd_server.port)
    assert not is_closed(unused)
    await unused.close()
    await unused.close()
    assert is_closed(unused)

    used = etcd.Client(port=etcd_server.port)
    await used.version()
    assert not is_closed(used) and "closed" not in repr(used)
    await used.close()
    await used.close()
    assert is_closed(used) and "closed" in repr(used)


CALLS: dict[str, Callable[[etcd.Client, str], Awaitable[object]]] = {
    "read": lambda client, key: client.read(key),
    "get": lambda client, key: client.get(key),
    "write": lambda client, key: client.write(key, "v"),
    "set": lambda client, key: client.set(key, "v"),
    "delete": lambda client, key: client.delete(key),
    "pop": lambda client, key: client.pop(key),
    "contains": lambda client, key: client.contains(key),
    "test_and_set": lambda client, key: client.test_and_set(key, "new", "old"),
    "refresh": lambda client, key: client.refresh(key, 10),
    "watch": lambda client, key: client.watch(key),
    "eternal_watch": lambda client, key: client.eternal_watch(key, ignore),
    "version": lambda client, key: client.version(),
    "cluster_version": lambda client, key: client.cluster_version(),
    "machines": lambda client, key: client.machines(),
    "leader": lambda client, key: client.leader(),
}


@pytest.mark.parametrize("name", list(CALLS))
async def test_calls_after_close_raise_runtime_error(
    etcd_server: LocalEtcd, prefix: str, name: str
) -> None:
    client = etcd.Client(port=etcd_server.port)
    await client.write(f"{prefix}/k", "old")
    await client.close()
    before = open_fds()

    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(CALLS[name](client, f"{prefix}/k"), HANG_LIMIT)

    assert open_fds() <= before  # nothing was opened for it
    async with etcd.Client(port=etcd_server.port) as other:
        assert (await other.read(f"{prefix}/k")).value == "old"  # nothing was sent


async def test_close_releases_every_connection(etcd_server: LocalEtcd, prefix: str) -> None:
    baseline = open_fds()
    client = etcd.Client(port=etcd_server.port)
    try:
        await client.write(f"{prefix}/k", "v")
        # Concurrent calls open several connections, which stay pooled afterwards.
        reads = await asyncio.gather(*(client.read(f"{prefix}/k") for _ in range(20)))
        assert {read.value for read in reads} == {"v"}
        start = await client.write(f"{prefix}/w", "0")
        watch = asyncio.create_task(client.watch(f"{prefix}/w", index=start.modified_index + 1))
        await client.write(f"{prefix}/w", "1")
        assert (await asyncio.wait_for(watch, HANG_LIMIT)).value == "1"
        assert open_fds() > baseline
    finally:
        await client.close()
    await all_released(baseline, slack=0)


async def test_close_ends_the_watches_in_flight(etcd_server: LocalEtcd, prefix: str) -> None:
    """Watches still waiting when the client closes must end, not wait forever.

    Closing aiohttp's sessions alone would not do: its ``ResponseHandler.close`` drops the
    payload before the connection is lost, so nothing would wake a ``response.read()``.
    """
    baseline = open_fds()
    watchers = etcd_watchers(etcd_server)
    client = etcd.Client(port=etcd_server.port)
    watches = start_watches(client, (f"{prefix}/w{i}" for i in range(10)))
    try:
        await all_connected(baseline, 10)
        await all_waiting(etcd_server, watchers, 10)
        await client.close()
        done, pending = await asyncio.wait(watches, timeout=2)
        assert not pending, f"{len(pending)} of {len(watches)} watches still wait after close()"
        for watch in done:
            assert not watch.cancelled(), "close() must not cancel its callers' tasks"
            assert isinstance(watch.exception(), etcd.EtcdConnectionFailed | RuntimeError), watch
    finally:
        await cancel_all(watches)
        await client.close()
    await all_released(baseline, slack=0)


# -- cancellation --------------------------------------------------------------------------


async def test_cancelled_watches_release_their_connections(
    server: LocalEtcd, client: etcd.Client, prefix: str
) -> None:
    baseline = open_fds()
    watchers = etcd_watchers(server)
    watches = start_watches(client, (f"{prefix}/w{i}" for i in range(200)))
    try:
        await all_connected(baseline, 200)
        await all_waiting(server, watchers, 200)
        assert not any(watch.done() for watch in watches)
    finally:
        outcomes = await cancel_all(watches)

    assert all(isinstance(outcome, asyncio.CancelledError) for outcome in outcomes)
    await all_released(baseline)
    # etcd drops a watcher when its connection closes.
    left = await etcd_holds(server, lambda n: n <= watchers)
    assert left <= watchers, f"etcd still holds {left - watchers} of the cancelled watchers"
    await round_trip(client, f"{prefix}/after", "still works")


async def test_watches_given_up_by_wait_for_release_their_connections(
    client: etcd.Client, prefix: str
) -> None:
    baseline = open_fds()
    peak = baseline

    async def watch_peak() -> None:
        nonlocal peak
        while True:
            peak = max(peak, open_fds())
            await asyncio.sleep(0.01)

    sampler = asyncio.create_task(watch_peak())
    started = time.monotonic()
    try:
        # The way the README times a watch out.
        outcomes = await asyncio.gather(
            *(asyncio.wait_for(client.watch(f"{prefix}/w{i}"), 0.2) for i in range(100)),
            return_exceptions=True,
        )
    finally:
        await cancel_all([sampler])
    took = time.monotonic() - started

    assert all(type(outcome) is asyncio.TimeoutError for outcome in outcomes), outcomes[:3]
    assert took < 3.0, took
    assert peak >= baseline + 100, peak - baseline
    await all_released(baseline)
    await round_trip(client, f"{prefix}/after", "still works")


async def test_a_cancelled_watch_delivers_its_event_nowhere(
    server: LocalEtcd, client: etcd.Client, prefix: str
) -> None:
    await client.write(f"{prefix}/other", "o")
    start = await client.write(f"{prefix}/k", "v0")
    baseline = open_fds()
    watchers = etcd_watchers(server)
    watch = asyncio.create_task(client.watch(f"{prefix}/k", index=start.modified_index + 1))
    await all_waiting(server, watchers, 1)
    watch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await watch
    assert watch.cancelled()
    await all_released(baseline)

    # The change the cancelled watch waited for.
    changed = await client.write(f"{prefix}/k", "v1")

    # No later call gets that event instead of its own reply.
    for _ in range(10):
        read = await client.read(f"{prefix}/other")
        assert (read.action, read.key, read.value) == ("get", f"{prefix}/other", "o")
    with pytest.raises(etcd.EtcdWatchTimedOut):
        await client.watch(f"{prefix}/other", timeout=0.3)
    with pytest.raises(etcd.EtcdWatchTimedOut):
        await client.watch(f"{prefix}/k", index=changed.modified_index + 1, timeout=0.3)
    # And it is still there for whoever asks for it.
    event = await client.watch(f"{prefix}/k", index=start.modified_index + 1, timeout=2)
    assert (event.key, event.value, event.modified_index) == (
        f"{prefix}/k",
        "v1",
        changed.modified_index,
    )


async def test_no_task_is_left_behind_after_cancellation(
    server: LocalEtcd, client: etcd.Client, prefix: str
) -> None:
    before = asyncio.all_tasks()
    baseline = open_fds()
    watchers = etcd_watchers(server)
    watches = start_watches(client, (f"{prefix}/w{i}" for i in range(50)))
    eternal = [
        asyncio.create_task(client.eternal_watch(f"{prefix}/e{i}", ignore)) for i in range(5)
    ]
    await all_connected(baseline, 55)
    await all_waiting(server, watchers, 55)

    await cancel_all([*watches, *eternal])

    assert all(task.cancelled() for task in [*watches, *eternal])
    left_over = await eventually(lambda: not asyncio.all_tasks() - before)
    assert left_over, sorted(task.get_name() for task in asyncio.all_tasks() - before)
    await all_released(baseline)
    await round_trip(client, f"{prefix}/after", "still works")


# -- watches next to everything else -------------------------------------------------------


async def test_a_watch_is_not_cut_by_read_timeout(etcd_server: LocalEtcd, prefix: str) -> None:
    async with etcd.Client(port=etcd_server.port, read_timeout=0.5) as client:
        start = await client.write(f"{prefix}/k", "before")
        watch = asyncio.create_task(client.watch(f"{prefix}/k", index=start.modified_index + 1))
        waiting = asyncio.create_task(client.read(f"{prefix}/k", wait=True))
        await asyncio.sleep(1.5)
        assert not watch.done() and not waiting.done()

        changed = await client.write(f"{prefix}/k", "after")

        for task in (watch, waiting):
            event = await asyncio.wait_for(task, HANG_LIMIT)
            assert (event.value, event.modified_index) == ("after", changed.modified_index)


async def test_open_watches_do_not_starve_other_calls(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/k", "v")
    baseline = open_fds()
    watches = start_watches(client, (f"{prefix}/w{i}" for i in range(50)))
    try:
        await all_connected(baseline, 50)

        for _ in range(5):
            started = time.monotonic()
            assert (await asyncio.wait_for(client.read(f"{prefix}/k"), HANG_LIMIT)).value == "v"
            assert time.monotonic() - started < 0.5
        started = time.monotonic()
        reads = await asyncio.wait_for(
            asyncio.gather(*(client.read(f"{prefix}/k") for _ in range(20))), HANG_LIMIT
        )
        assert {read.value for read in reads} == {"v"}
        await asyncio.wait_for(client.write(f"{prefix}/k2", "w"), HANG_LIMIT)
        assert time.monotonic() - started < 1.0

        assert not any(watch.done() for watch in watches)
    finally:
        await cancel_all(watches)
