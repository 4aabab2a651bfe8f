"""Locks against a real etcd: exclusion under load, cancellation, expiry and member failure."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator

import pytest

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd
from aio_etcd.lock import Lock


@pytest.fixture
async def locking(server: LocalEtcd, api: str, prefix: str) -> AsyncIterator[etcd.Client]:
    """A client whose locks live under the test's own prefix."""
    async with etcd.Client(port=server.port, lock_prefix=f"{prefix}/_locks", api=api) as client:
        yield client


async def keys_under(client: etcd.Client, path: str) -> list[str]:
    try:
        return [node.key for node in (await client.read(path)).node.nodes or ()]
    except etcd.EtcdKeyNotFound:
        return []


def held(lock: etcd.Lock) -> bool:
    """``lock.is_acquired``, read afresh (mypy would keep what an earlier assert said)."""
    return lock.is_acquired


def whole_seconds(ttl: int | None, api: str) -> set[int | None]:
    """What ``ttl`` may be as v2 reads it: v3's lease/timetolive counts whole seconds down
    (59.9 s left reads 59), v2 rounds them up."""
    if ttl is None or api == "v2":
        return {ttl}
    return {ttl, ttl + 1}


async def test_the_documented_calls(locking: etcd.Client, api: str) -> None:
    lock = etcd.Lock(locking, "my_lock_name")
    assert held(lock) is False and lock.path.endswith("/_locks/my_lock_name")
    assert await lock.acquire(blocking=True, lock_ttl=None) is True
    assert held(lock)
    assert await keys_under(locking, lock.path) == [lock.lock_key]
    assert (await locking.read(lock.lock_key or "")).value == lock.uuid

    assert await lock.acquire(lock_ttl=60) is True  # renews
    assert 60 in whole_seconds((await locking.read(lock.lock_key or "")).ttl, api)
    await lock.release()
    assert lock.is_acquired is False
    assert await keys_under(locking, lock.path) == []

    async with Lock(locking, "customer1") as my_lock:
        assert my_lock.is_acquired
        await my_lock.acquire(lock_ttl=60)
    assert my_lock.is_acquired is False


async def test_holders_never_overlap(server: LocalEtcd, api: str, prefix: str) -> None:
    counter = f"{prefix}/counter"
    sections: list[tuple[float, float]] = []
    loop = asyncio.get_running_loop()
    clients = [
        etcd.Client(port=server.port, lock_prefix=f"{prefix}/_locks", api=api) for _ in range(4)
    ]
    try:
        await clients[0].write(counter, 0)

        async def worker(client: etcd.Client) -> None:
            for _ in range(4):
                async with etcd.Lock(client, "counter"):
                    entered = loop.time()
                    value = int((await client.read(counter)).value or "0")
                    await asyncio.sleep(0.005)
                    await client.write(counter, value + 1)
                    sections.append((entered, loop.time()))

        await asyncio.gather(*(worker(c) for c in clients for _ in range(3)))
        assert (await clients[0].read(counter)).value == str(4 * 3 * 4)
        sections.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(sections))
        assert await keys_under(clients[0], f"{prefix}/_locks/counter") == []
    finally:
        for client in clients:
            await client.close()


async def test_giving_up_leaves_no_key(locking: etcd.Client) -> None:
    holder = etcd.Lock(locking, "busy")
    await holder.acquire()
    other = etcd.Lock(locking, "busy")
    assert await other.acquire(blocking=False) is False
    assert await other.acquire(timeout=0.3) is False
    waiting = asyncio.create_task(other.acquire())
    await asyncio.sleep(0.2)
    assert len(await keys_under(locking, holder.path)) == 2
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await keys_under(locking, holder.path) == [holder.lock_key]
    assert other.is_acquired is False
    first_token = holder.fencing_token
    await holder.release()
    assert await other.acquire(blocking=False) is True
    assert first_token is not None and other.fencing_token is not None
    assert other.fencing_token > first_token
    await other.release()


async def test_fencing_tokens_grow(locking: etcd.Client) -> None:
    tokens = []
    for _ in range(3):
        async with etcd.Lock(locking, "fenced") as lock:
            tokens.append(lock.fencing_token)
    known = [t for t in tokens if t is not None]
    assert known == sorted(known) and len(set(known)) == 3


async def test_a_vanished_holder_is_followed_after_its_ttl(locking: etcd.Client) -> None:
    loop = asyncio.get_running_loop()
    held = asyncio.Event()

    async def careless_holder() -> None:
        lock = etcd.Lock(locking, "ttl")
        await lock.acquire(lock_ttl=2)
        held.set()
        await asyncio.sleep(60)  # cancelled here, without release

    holder = asyncio.create_task(careless_holder())
    await held.wait()
    await asyncio.sleep(2.5)  # still held: the holder refreshes while its task runs
    contender = etcd.Lock(locking, "ttl")
    assert await contender.acquire(blocking=False) is False
    holder.cancel()
    cancelled_at = loop.time()
    assert await contender.acquire(timeout=10) is True
    waited = loop.time() - cancelled_at
    assert 0.5 < waited < 4, waited  # the last refresh set 2 s; not before it ran out
    await contender.release()


async def test_a_lost_lock_is_noticed(locking: etcd.Client) -> None:
    lock = etcd.Lock(locking, "lost")
    called: list[str] = []
    lock.on_lost(lambda: called.append("lost"))
    await lock.acquire(lock_ttl=30)
    await locking.delete(lock.lock_key or "")
    await asyncio.wait_for(lock.wait_lost(), 5)
    assert lock.is_acquired is False
    assert called == ["lost"]
    await lock.release()


@pytest.mark.parametrize("ttl", [0, -1])
async def test_a_bad_ttl_is_refused_before_anything_is_written(
    locking: etcd.Client, ttl: int
) -> None:
    lock = etcd.Lock(locking, "bad")
    with pytest.raises(etcd.EtcdValueError, match="lock_ttl"):
        await lock.acquire(lock_ttl=ttl)
    assert await keys_under(locking, lock.path) == []


@pytest.mark.parametrize("name", ["", "/a", "a/", "a//b", "./a", "a/..", "."])
def test_a_name_that_cannot_be_a_key_is_refused(name: str) -> None:
    client = etcd.Client()
    with pytest.raises(etcd.EtcdValueError, match="lock_name"):
        etcd.Lock(client, name)


async def test_a_name_may_be_a_path_and_nested_locks_do_not_meet(locking: etcd.Client) -> None:
    """A lock's contenders are the in-order keys of its directory; the directories in it
    are locks named below it, and no contenders of its own. ``jobs/0`` sorts before every
    in-order key of ``jobs``."""
    nested = etcd.Lock(locking, "jobs/0")
    assert nested.path == f"{locking.lock_prefix}/jobs/0"
    nightly = etcd.Lock(locking, "jobs/nightly")
    jobs, other = etcd.Lock(locking, "jobs"), etcd.Lock(locking, "jobs")
    assert await nested.acquire(blocking=False)
    assert await jobs.acquire(blocking=False)  # not queued behind the directory "0"
    assert await nightly.acquire(blocking=False)
    assert not await other.acquire(blocking=False)  # but behind a contender of "jobs"
    await jobs.release()
    assert await other.acquire(timeout=5)
    assert held(nested) and held(nightly) and held(other)
    for lock in (nested, nightly, other):
        await lock.release()
    assert sorted(await keys_under(locking, jobs.path)) == [nested.path, nightly.path]


async def test_exclusion_holds_when_the_holders_member_dies(
    healthy_cluster: LocalCluster, api: str
) -> None:
    prefix = f"/t/{uuid.uuid4().hex}/_locks"
    leader = healthy_cluster.members[healthy_cluster.leader()]
    follower = next(m for m in healthy_cluster.members if m is not leader)
    hosts = [(LOOPBACK, follower.port), *((LOOPBACK, m.port) for m in healthy_cluster.members)]
    async with (
        etcd.Client(host=hosts, read_timeout=5, lock_prefix=prefix, api=api) as one,
        etcd.Client(host=hosts[::-1], read_timeout=5, lock_prefix=prefix, api=api) as two,
    ):
        holder = etcd.Lock(one, "shared")
        await holder.acquire(lock_ttl=3)
        assert one.base_uri == follower.client_url
        contender = etcd.Lock(two, "shared")
        waiting = asyncio.create_task(contender.acquire())
        await asyncio.sleep(0.3)
        follower.kill()
        await asyncio.sleep(4)  # longer than the TTL: the holder refreshed elsewhere
        assert holder.is_acquired and not waiting.done()
        await holder.release()
        assert await asyncio.wait_for(waiting, 5) is True
        assert contender.is_acquired
        await contender.release()


async def test_a_holder_whose_member_hangs_reports_the_loss_within_its_ttl(
    healthy_cluster: LocalCluster, api: str
) -> None:
    prefix = f"/t/{uuid.uuid4().hex}/_locks"
    leader = healthy_cluster.members[healthy_cluster.leader()]
    follower = next(m for m in healthy_cluster.members if m is not leader)
    loop = asyncio.get_running_loop()
    # The holder knows only the follower, and the client's read_timeout (60 s) is far
    # above the TTL: each renewal must be bounded by the TTL, not by read_timeout.
    async with (
        etcd.Client(port=follower.port, lock_prefix=prefix, api=api) as cut_off,
        etcd.Client(port=leader.port, lock_prefix=prefix, api=api) as other,
    ):
        holder = etcd.Lock(cut_off, "hung")
        called: list[str] = []
        holder.on_lost(lambda: called.append("lost"))
        await holder.acquire(lock_ttl=2)
        await asyncio.sleep(0.5)
        follower.pause()
        paused_at = loop.time()
        try:
            await asyncio.wait_for(holder.wait_lost(), 5)
            noticed = loop.time() - paused_at
        finally:
            follower.resume()
        # The last renewal was sent before the pause: the key lives 2 s from then at least.
        assert noticed < 2.3, noticed
        assert not held(holder) and called == ["lost"]
        contender = etcd.Lock(other, "hung")
        assert await contender.acquire(timeout=5) is True
        await contender.release()
        await holder.release()


async def test_wait_lost_returns_on_release_without_calling_on_lost(locking: etcd.Client) -> None:
    lock = etcd.Lock(locking, "released")
    called: list[str] = []
    lock.on_lost(lambda: called.append("lost"))
    await lock.acquire(lock_ttl=30)
    waiting = asyncio.create_task(lock.wait_lost())
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await lock.release()
    await asyncio.wait_for(waiting, 2)
    await asyncio.wait_for(lock.wait_lost(), 1)  # not held: at once
    assert called == []


async def test_acquiring_again_after_a_loss_waits_its_turn(locking: etcd.Client) -> None:
    lock = etcd.Lock(locking, "again")
    await lock.acquire()
    await locking.delete(lock.lock_key or "")
    await asyncio.wait_for(lock.wait_lost(), 5)
    other = etcd.Lock(locking, "again")
    assert await other.acquire(blocking=False) is True
    waiting = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0.3)
    assert not waiting.done() and not held(lock)  # queued behind `other`, not holding
    await other.release()
    assert await asyncio.wait_for(waiting, 5) is True
    assert held(lock)
    await lock.release()
    assert await keys_under(locking, lock.path) == []


async def test_a_ttl_given_to_the_lock_is_the_default_of_acquire_and_async_with(
    locking: etcd.Client, api: str
) -> None:
    async with etcd.Lock(locking, "with-ttl", lock_ttl=30) as lock:
        assert 30 in whole_seconds((await locking.read(lock.lock_key or "")).ttl, api)
    assert await keys_under(locking, lock.path) == []
    assert await lock.acquire() is True
    assert 30 in whole_seconds((await locking.read(lock.lock_key or "")).ttl, api)
    await lock.release()
    assert await lock.acquire(lock_ttl=None) is True  # None still means: until released
    assert (await locking.read(lock.lock_key or "")).ttl is None
    await lock.release()
    with pytest.raises(etcd.EtcdValueError, match="lock_ttl"):
        etcd.Lock(locking, "with-ttl", lock_ttl=0)


class DeafRelay:
    """A TCP relay to a real etcd. While ``deaf``, requests still reach etcd but its replies
    are dropped: a write is applied, and the client never hears of it."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.deaf = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(LOOPBACK, self.upstream)
        await asyncio.gather(
            self._pipe(reader, up_writer, replies=False),
            self._pipe(up_reader, writer, replies=True),
        )

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, *, replies: bool
    ) -> None:
        try:
            while data := await source.read(65536):
                if not (replies and self.deaf):
                    sink.write(data)
                    await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()


@pytest.fixture
async def deaf_relay(server: LocalEtcd) -> AsyncIterator[tuple[DeafRelay, int]]:
    relay = DeafRelay(server.port)
    listening = await asyncio.start_server(relay.handle, LOOPBACK, 0)
    try:
        yield relay, listening.sockets[0].getsockname()[1]
    finally:
        listening.close()
        await listening.wait_closed()


async def test_a_key_an_acquire_may_have_left_is_deleted_by_the_next_release_or_acquire(
    deaf_relay: tuple[DeafRelay, int], server: LocalEtcd, api: str, prefix: str
) -> None:
    relay, port = deaf_relay
    locks = f"{prefix}/_locks"
    async with (
        etcd.Client(port=port, read_timeout=0.5, lock_prefix=locks, api=api) as client,
        etcd.Client(port=server.port, api=api) as direct,
    ):
        lock = etcd.Lock(client, "deaf")  # no TTL: a key left behind would block it for good
        for clean_up in ("release", "acquire"):
            relay.deaf = True  # the append is applied; its reply, and the lookup's, are lost
            with pytest.raises(etcd.EtcdOutcomeUnknown, match="may remain") as caught:
                await lock.acquire()
            assert lock.uuid in str(caught.value) and lock.path in str(caught.value)
            left = await keys_under(direct, lock.path)
            assert len(left) == 1 and (await direct.read(left[0])).value == lock.uuid
            assert not held(lock)
            relay.deaf = False
            if clean_up == "release":
                await lock.release()
            else:  # deletes the key first, rather than queue behind it
                assert await lock.acquire(blocking=False) is True
                await lock.release()
            assert await keys_under(direct, lock.path) == []
