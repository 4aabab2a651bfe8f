"""watch_iter: every event once, in order, through reconnects, dead members and overflow."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

import aio_etcd as etcd
from aio_etcd import LeanTransport
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd
from aio_etcd._transport import AiohttpTransport


async def forget_history(server: LocalEtcd, before: int) -> None:
    """v3 keeps every revision until compacted: compact it up to ``before``."""
    async with etcd.Etcd3Client(port=server.port) as raw:
        await raw.compact(before)


async def collect(events: etcd.Watch, count: int) -> list[etcd.EtcdResult]:
    seen = []
    async with events:
        async for event in events:
            seen.append(event)
            if len(seen) == count:
                break
    return seen


async def test_live_events_arrive_once_in_order(client: etcd.Client, prefix: str, api: str) -> None:
    watching = asyncio.create_task(collect(client.watch_iter(prefix, recursive=True), 400))
    await asyncio.sleep(0.2)
    written: list[int] = []

    async def writer(name: str) -> None:
        for number in range(40):
            result = await client.write(f"{prefix}/{name}", number)
            written.append(result.modified_index)

    await asyncio.gather(*(writer(f"k{n}") for n in range(10)))
    events = await asyncio.wait_for(watching, 10)
    assert [e.modified_index for e in events] == sorted(written)
    if api == "v3":  # v3 events carry no action: a key's first version reads as a create
        assert [e.action for e in events].count("create") == 10
        assert {e.action for e in events} == {"create", "set"}
    else:
        assert {e.action for e in events} == {"set"}
    assert events[-1].etcd_index is not None


async def test_a_watch_behind_catches_up_then_streams(client: etcd.Client, prefix: str) -> None:
    first = await client.write(f"{prefix}/a", "old 0")
    for number in range(1, 30):
        await client.write(f"{prefix}/a", f"old {number}")
    watching = asyncio.create_task(
        collect(client.watch_iter(prefix, recursive=True, index=first.modified_index), 60)
    )
    later = [(await client.write(f"{prefix}/b", f"new {n}")).modified_index for n in range(30)]
    events = await asyncio.wait_for(watching, 10)
    indexes = [e.modified_index for e in events]
    assert indexes == sorted(indexes) and len(set(indexes)) == 60
    assert indexes[0] == first.modified_index and indexes[-30:] == later
    assert [e.value for e in events[:30]] == [f"old {n}" for n in range(30)]


async def test_a_key_watch_reports_its_directory_going(
    client: etcd.Client, prefix: str, api: str
) -> None:
    await client.write(f"{prefix}/d/k", "v")
    watching = asyncio.create_task(collect(client.watch_iter(f"{prefix}/d/k"), 1))
    await asyncio.sleep(0.2)
    deleted = await client.delete(f"{prefix}/d", recursive=True)
    (event,) = await asyncio.wait_for(watching, 5)
    assert event.modified_index == deleted.modified_index
    if api == "v3":  # a v3 range delete deletes each key: the watched key's own delete
        assert (event.action, event.key, event.dir) == ("delete", f"{prefix}/d/k", False)
    else:
        assert (event.action, event.key, event.dir) == ("delete", f"{prefix}/d", True)


async def write_many(client: etcd.Client, key: str, count: int) -> None:
    async def batch(start: int) -> None:
        for number in range(start, min(start + 50, count)):
            await client.write(key, number)

    await asyncio.gather(*(batch(start) for start in range(0, count, 50)))


async def test_falling_out_of_the_history_is_a_typed_error(
    client: etcd.Client, server: LocalEtcd, prefix: str, api: str
) -> None:
    start = (await client.write(f"{prefix}/k", "start")).modified_index
    if api == "v3":  # no 1000-event window: the history goes when compacted
        await write_many(client, f"{prefix}/other", 50)
        await forget_history(server, start + 50)
    else:
        await write_many(client, f"{prefix}/other", 1100)
    with pytest.raises(etcd.EtcdEventIndexCleared) as caught:
        await collect(client.watch_iter(f"{prefix}/k", index=start + 1), 1)
    current = (await client.read(f"{prefix}/k")).etcd_index
    # v2 refuses the watch with 400; v3 cancels it inside a stream answered with 200.
    assert caught.value.status == (200 if api == "v3" else 400)
    assert caught.value.payload is not None and caught.value.payload.error_code == 401
    written = 50 if api == "v3" else 1100
    assert current is not None and start + written <= (caught.value.payload.index or 0) <= current


async def test_resync_rebuilds_the_state_after_falling_behind(
    client: etcd.Client, server: LocalEtcd, prefix: str, api: str
) -> None:
    await client.write(f"{prefix}/keep", "kept")
    await client.write(f"{prefix}/gone", "soon deleted")
    start = (await client.read(prefix)).etcd_index
    assert start is not None
    await client.delete(f"{prefix}/gone")
    await write_many(client, f"{prefix}/busy", 50 if api == "v3" else 1100)
    late = await client.write(f"{prefix}/late", "after the gap")
    if api == "v3":  # no 1000-event window: the history goes when compacted
        await forget_history(server, late.modified_index)

    state: dict[str, str | None] = {}
    snapshots = 0
    watch = client.watch_iter(prefix, recursive=True, index=start + 1, resync=True)
    writing = asyncio.create_task(client.write(f"{prefix}/live", "streamed"))
    async with watch:
        async for event in watch:
            if event.snapshot:
                snapshots += 1
                state = {leaf.key: leaf.value for leaf in event.leaves}
            elif event.action in ("delete", "expire", "compareAndDelete"):
                state.pop(event.key, None)
            else:
                state[event.key] = event.value
            if state.get(f"{prefix}/live") == "streamed":
                break
    await writing
    stored = await client.read(prefix, recursive=True)
    assert snapshots == 1
    assert state == {leaf.key: leaf.value for leaf in stored.leaves}
    assert f"{prefix}/gone" not in state and state[f"{prefix}/late"] == "after the gap"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_cancelled_watches_give_back_their_connections(
    server: LocalEtcd, api: str, prefix: str
) -> None:
    baseline_fds, baseline_tasks = open_fds(), len(asyncio.all_tasks())
    async with etcd.Client(port=server.port, api=api) as client:
        await client.read("/")
        baseline_fds = open_fds()
        watches = [
            asyncio.create_task(collect(client.watch_iter(f"{prefix}/{n}"), 1)) for n in range(200)
        ]
        for _ in range(100):
            if open_fds() >= baseline_fds + 200:
                break
            await asyncio.sleep(0.02)
        assert open_fds() >= baseline_fds + 200
        for watch in watches:
            watch.cancel()
        await asyncio.gather(*watches, return_exceptions=True)
        for _ in range(100):
            if open_fds() <= baseline_fds + 1:
                break
            await asyncio.sleep(0.02)
        assert open_fds() <= baseline_fds + 1
        assert len(asyncio.all_tasks()) == baseline_tasks
        # The client still works, and a break releases the connection as well.
        await client.write(f"{prefix}/after", "fine")
        watching = asyncio.create_task(collect(client.watch_iter(f"{prefix}/after"), 1))
        await asyncio.sleep(0.1)
        await client.write(f"{prefix}/after", "seen")
        assert [e.value for e in await watching] == ["seen"]


async def test_eternal_watch_streams_and_stops(client: etcd.Client, prefix: str) -> None:
    seen: list[str | None] = []

    async def callback(event: etcd.EtcdResult) -> None:
        seen.append(event.value)
        if len(seen) == 20:
            raise etcd.StopWatching

    start = (await client.write(f"{prefix}/k", "first")).modified_index
    for number in range(25):
        await client.write(f"{prefix}/k", number)
    next_index = await client.eternal_watch(f"{prefix}/k", callback, index=start + 1)
    assert seen == [str(n) for n in range(20)]
    assert next_index == (await client.watch(f"{prefix}/k", index=next_index)).modified_index


async def test_a_watcher_loses_nothing_when_its_member_dies(
    healthy_cluster: LocalCluster, api: str
) -> None:
    # The watched member is a follower, the writer uses the leader: killing a leader would
    # leave the writer's in-flight write with an unknown outcome, which is not under test.
    leader = healthy_cluster.members[healthy_cluster.leader()]
    watched = next(m for m in healthy_cluster.members if m is not leader)
    others = [leader, *(m for m in healthy_cluster.members if m not in (leader, watched))]
    prefix = f"/t/{uuid.uuid4().hex}"
    hosts = ((LOOPBACK, watched.port), *((LOOPBACK, m.port) for m in others))
    async with (
        etcd.Client(host=hosts, read_timeout=5, api=api) as watcher,
        etcd.Client(port=others[0].port, api=api) as writer,
    ):
        events = watcher.watch_iter(prefix, recursive=True, probe_interval=1.0)
        watching = asyncio.create_task(collect(events, 330))
        await asyncio.sleep(0.3)
        assert watcher.base_uri == watched.client_url
        written = []
        for number in range(330):
            written.append((await writer.write(f"{prefix}/{number % 7}", number)).modified_index)
            if number == 110:
                watched.kill()
        received = await asyncio.wait_for(watching, 30)
    assert [e.modified_index for e in received] == written
    assert watcher.base_uri != watched.client_url


async def test_a_watcher_leaves_a_frozen_member_within_the_probe_bound(
    healthy_cluster: LocalCluster, api: str
) -> None:
    leader = healthy_cluster.members[healthy_cluster.leader()]
    frozen = next(m for m in healthy_cluster.members if m is not leader)
    others = [leader, *(m for m in healthy_cluster.members if m not in (leader, frozen))]
    prefix = f"/t/{uuid.uuid4().hex}"
    hosts = ((LOOPBACK, frozen.port), *((LOOPBACK, m.port) for m in others))
    async with (
        etcd.Client(host=hosts, read_timeout=2, api=api) as watcher,
        etcd.Client(port=others[0].port, api=api) as writer,
    ):
        watching = asyncio.create_task(
            collect(watcher.watch_iter(prefix, recursive=True, probe_interval=0.5), 40)
        )
        await asyncio.sleep(0.3)
        written = [(await writer.write(f"{prefix}/a", n)).modified_index for n in range(20)]
        frozen.pause()
        paused_at = time.monotonic()
        written += [(await writer.write(f"{prefix}/b", n)).modified_index for n in range(20)]
        received = await asyncio.wait_for(watching, 10)
        # Probe after 0.5 s quiet, which times out after 0.5 s more; then a new stream.
        assert time.monotonic() - paused_at < 3
    assert [e.modified_index for e in received] == written


@pytest.mark.parametrize("interval", [0, -1.0])
def test_a_bad_probe_interval_is_refused(interval: float, api: str) -> None:
    client = etcd.Client(api=api)
    with pytest.raises(etcd.EtcdValueError, match="probe_interval"):
        client.watch_iter("/k", probe_interval=interval)


# -- outages a cluster routinely goes through ------------------------------------------------

TRANSPORTS: dict[str, type[AiohttpTransport] | type[LeanTransport]] = {
    "aiohttp": AiohttpTransport,
    "lean": LeanTransport,
}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request: pytest.FixtureRequest) -> Callable[[], etcd.Transport]:
    """Makes each transport in turn, explicitly: these faults live in how connections
    break, whichever transport the suite runs on."""
    kind: type[AiohttpTransport] | type[LeanTransport] = TRANSPORTS[request.param]
    return kind


@pytest.fixture(scope="module")
def restartable() -> Iterator[LocalEtcd]:
    """A single etcd of its own, to kill and restart on the same port."""
    with LocalEtcd(name="restarted") as server:
        yield server


async def test_every_watch_rides_out_a_restart_of_the_only_member(
    restartable: LocalEtcd, transport: Callable[[], etcd.Transport], prefix: str, api: str
) -> None:
    async with (
        etcd.Client(port=restartable.port, transport=transport(), api=api) as watcher,
        etcd.Client(port=restartable.port, api=api) as writer,
    ):
        before = [(await writer.write(f"{prefix}/k", n)).modified_index for n in range(3)]
        streamed = asyncio.create_task(
            collect(watcher.watch_iter(prefix, recursive=True, index=before[0]), 6)
        )
        called: list[int] = []

        def callback(event: etcd.EtcdResult) -> None:
            called.append(event.modified_index)
            if len(called) == 6:
                raise etcd.StopWatching

        eternal = asyncio.create_task(
            watcher.eternal_watch(prefix, callback, index=before[0], recursive=True)
        )
        # A one-shot watch waiting for the first change after the restart.
        once = asyncio.create_task(watcher.watch(prefix, before[-1] + 1, recursive=True))
        for _ in range(100):
            if len(called) == 3:
                break
            await asyncio.sleep(0.02)

        restartable.kill()
        await asyncio.sleep(0.3)
        await asyncio.to_thread(restartable.restart)
        after = [(await writer.write(f"{prefix}/k", n)).modified_index for n in range(3, 6)]

        assert [e.modified_index for e in await asyncio.wait_for(streamed, 20)] == before + after
        assert await asyncio.wait_for(eternal, 20) == after[-1] + 1
        assert called == before + after
        assert (await asyncio.wait_for(once, 20)).modified_index == after[0]


async def test_a_watch_that_gives_up_says_where_to_resume(
    restartable: LocalEtcd, prefix: str, api: str
) -> None:
    async with (
        etcd.Client(port=restartable.port, watch_retry_window=0.5, api=api) as watcher,
        etcd.Client(port=restartable.port, api=api) as writer,
    ):
        written = (await writer.write(f"{prefix}/k", "seen")).modified_index
        watch = watcher.watch_iter(f"{prefix}/k", index=written)
        try:
            assert (await watch.__anext__()).modified_index == written
            restartable.kill()
            started = time.monotonic()
            with pytest.raises(etcd.EtcdConnectionFailed) as caught:
                await asyncio.wait_for(watch.__anext__(), 10)
            # Kept trying for the window (not three quick rounds), then gave up.
            assert 0.4 < time.monotonic() - started < 3
        finally:
            await watch.aclose()
            await asyncio.to_thread(restartable.restart)
        assert caught.value.next_index == written + 1
        assert f"index {written + 1}" in str(caught.value)
        # Calls with a deadline still fail fast.
        restartable.kill()
        try:
            for call in (watcher.read(f"{prefix}/k"), watcher.watch(f"{prefix}/k", timeout=5)):
                started = time.monotonic()
                with pytest.raises(etcd.EtcdConnectionFailed):
                    await call
                assert time.monotonic() - started < 1
        finally:
            await asyncio.to_thread(restartable.restart)
        assert (await watcher.watch(f"{prefix}/k", index=written)).value == "seen"


async def test_every_watch_leaves_a_frozen_member_at_once(
    healthy_cluster: LocalCluster, transport: Callable[[], etcd.Transport], api: str
) -> None:
    leader = healthy_cluster.members[healthy_cluster.leader()]
    frozen = next(m for m in healthy_cluster.members if m is not leader)
    prefix = f"/t/{uuid.uuid4().hex}"
    hosts = ((LOOPBACK, frozen.port), *((LOOPBACK, m.port) for m in healthy_cluster.members))
    async with etcd.Client(port=leader.port, api=api) as writer:
        start = (await writer.write(f"{prefix}/k", "before")).modified_index + 1
        frozen.pause()
        # One client each, so that every form meets the frozen member first.
        clients = [
            etcd.Client(host=hosts, read_timeout=5, transport=transport(), api=api)
            for _ in range(4)
        ]
        try:
            once, waited, streamed, eternal = clients
            seen: list[etcd.EtcdResult] = []

            def stop(event: etcd.EtcdResult) -> None:
                seen.append(event)
                raise etcd.StopWatching

            one_shots = [
                asyncio.create_task(once.watch(f"{prefix}/k", start, timeout=4)),
                asyncio.create_task(
                    waited.read(f"{prefix}/k", wait=True, waitIndex=start, timeout=4)
                ),
            ]
            stream = asyncio.create_task(
                collect(streamed.watch_iter(f"{prefix}/k", index=start, probe_interval=1), 1)
            )
            forever = asyncio.create_task(eternal.eternal_watch(f"{prefix}/k", stop, start))
            started = time.monotonic()
            await asyncio.sleep(0.5)
            changed = (await writer.write(f"{prefix}/k", "after")).modified_index
            results = await asyncio.wait_for(asyncio.gather(*one_shots), 10)
            events = await asyncio.wait_for(stream, 10)
            resume_at = await asyncio.wait_for(forever, 10)
            took = time.monotonic() - started
        finally:
            for client in clients:
                await client.close()
    assert [r.modified_index for r in results] == [changed, changed]
    assert [e.modified_index for e in events] == [changed]
    assert resume_at == changed + 1 and [e.value for e in seen] == ["after"]
    assert took < 2.5, took
    assert all(client.base_uri != frozen.client_url for client in clients)


async def test_a_watch_timing_out_on_a_frozen_member_does_not_claim_no_change(
    healthy_cluster: LocalCluster, transport: Callable[[], etcd.Transport], api: str
) -> None:
    leader = healthy_cluster.members[healthy_cluster.leader()]
    frozen = next(m for m in healthy_cluster.members if m is not leader)
    async with etcd.Client(port=frozen.port, transport=transport(), api=api) as client:
        await client.read("/")
        frozen.pause()
        with pytest.raises(etcd.EtcdWatchTimedOut) as caught:
            await asyncio.wait_for(client.watch("/t/frozen", timeout=1.5), 10)
    assert "timed out" in str(caught.value)
    assert "no change" not in str(caught.value), str(caught.value)


async def test_a_watch_timeout_says_timed_out(client: etcd.Client, prefix: str) -> None:
    """Applications look for "timed out" in the message, as python-etcd's said."""
    with pytest.raises(etcd.EtcdWatchTimedOut) as caught:
        await client.watch(f"{prefix}/quiet", timeout=0.2)
    assert "timed out" in str(caught.value)
    assert f"no change of '{prefix}/quiet' within 0.2 s" in str(caught.value)
