"""Watches of the documented calls on etcd's v3 watch stream (``api="v3"``), against real
etcd servers without v2: what only v3 does (revisions of several events, compaction,
progress notifications, leases) and how events read as v2 events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd
from aio_etcd.v3 import Op


async def take(watch: etcd.Watch, count: int) -> list[etcd.EtcdResult]:
    seen: list[etcd.EtcdResult] = []
    async for event in watch:
        seen.append(event)
        if len(seen) == count:
            break
    return seen


@pytest_asyncio.fixture
async def client(etcd3_server: LocalEtcd) -> AsyncIterator[etcd.Client]:
    async with etcd.Client(port=etcd3_server.port, api="v3") as client:
        yield client


@pytest_asyncio.fixture
async def raw(etcd3_server: LocalEtcd) -> AsyncIterator[etcd.Etcd3Client]:
    """The typed v3 client, for writes the documented calls cannot make (transactions)."""
    async with etcd.Etcd3Client(port=etcd3_server.port) as client:
        yield client


@pytest.fixture(scope="module")
def own() -> Iterator[LocalEtcd]:
    """An etcd without v2 of this module's own, to kill and restart; it sends progress
    notifications every 200 ms (etcd's default is 10 minutes)."""
    with LocalEtcd(
        name="events",
        enable_v2=False,
        extra_args=("--experimental-watch-progress-notify-interval=200ms",),
    ) as server:
        yield server


async def test_every_key_of_one_transaction_is_delivered(
    client: etcd.Client, raw: etcd.Etcd3Client, prefix: str
) -> None:
    async with client.watch_iter(prefix, recursive=True) as watch:
        watching = asyncio.create_task(take(watch, 4))
        await asyncio.sleep(0.2)
        puts = [Op.put(f"{prefix}/{name}", name) for name in ("a", "b", "_hidden", "c")]
        together = (await raw.transaction([], puts)).header.revision
        alone = (await client.write(f"{prefix}/d", "d")).modified_index
        events = await asyncio.wait_for(watching, 10)
    # _hidden is left out, as v2 hides names starting with "_" from recursive watches.
    assert [(e.action, e.key, e.value) for e in events] == [
        ("create", f"{prefix}/a", "a"),
        ("create", f"{prefix}/b", "b"),
        ("create", f"{prefix}/c", "c"),
        ("create", f"{prefix}/d", "d"),
    ]
    assert [e.modified_index for e in events] == [together] * 3 + [alone]


async def test_a_recursive_delete_gives_one_event_per_key(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/d/x", "1")
    await client.write(f"{prefix}/d/sub", None, dir=True)
    await client.write(f"{prefix}/d/y", "2")
    start = (await client.read(prefix)).etcd_index
    assert start is not None
    deleted = await client.delete(f"{prefix}/d", recursive=True)
    async with client.watch_iter(prefix, recursive=True, index=start + 1) as watch:
        events = await asyncio.wait_for(take(watch, 3), 10)
        assert watch.next_index == deleted.modified_index + 1
    # d itself has no marker key (it was never written with dir=True): no event of its own.
    assert {(e.action, e.key, e.dir) for e in events} == {
        ("delete", f"{prefix}/d/sub", True),
        ("delete", f"{prefix}/d/x", False),
        ("delete", f"{prefix}/d/y", False),
    }
    assert {e.modified_index for e in events} == {deleted.modified_index}
    assert {e.prev_node.value for e in events if e.prev_node and not e.dir} == {"1", "2"}


async def test_a_loop_left_inside_a_revision_resumes_at_it(
    client: etcd.Client, raw: etcd.Etcd3Client, prefix: str
) -> None:
    revision = (
        await raw.transaction([], [Op.put(f"{prefix}/{n}", str(n)) for n in range(3)])
    ).header.revision
    async with client.watch_iter(prefix, recursive=True, index=revision) as watch:
        (first,) = await asyncio.wait_for(take(watch, 1), 10)
        # More of its revision are to come: resuming from next_index repeats, never skips.
        assert (first.modified_index, watch.next_index) == (revision, revision)
        rest = await asyncio.wait_for(take(watch, 2), 10)
        assert watch.next_index == revision + 1
    assert [e.key for e in [first, *rest]] == [f"{prefix}/{n}" for n in range(3)]


async def test_killing_the_only_member_skips_and_repeats_nothing(
    own: LocalEtcd, prefix: str
) -> None:
    async with (
        etcd.Client(port=own.port, api="v3") as watcher,
        etcd.Etcd3Client(port=own.port) as writer,
    ):
        start = (await writer.put(f"{prefix}/k", "0")).header.revision

        async def txn(number: int) -> int:
            puts = [Op.put(f"{prefix}/{name}", f"{number}") for name in ("k", "l", "m")]
            return (await writer.transaction([], puts)).header.revision

        written = [start] + [await txn(n) for n in (1, 2)]
        async with watcher.watch_iter(prefix, recursive=True, index=start) as watch:
            seen = await asyncio.wait_for(take(watch, 2), 10)  # inside the second revision
            own.kill()
            await asyncio.sleep(0.2)
            await asyncio.to_thread(own.restart)
            written += [await txn(n) for n in (3, 4)]
            seen += await asyncio.wait_for(take(watch, 11), 20)
            own.kill()  # again, between revisions and while idle
            await asyncio.sleep(0.2)
            await asyncio.to_thread(own.restart)
            written.append(await txn(5))
            seen += await asyncio.wait_for(take(watch, 3), 20)
    expected = [(written[0], "0")] + [(rev, str(n)) for n, rev in enumerate(written) if n]
    got = [(e.modified_index, e.value) for e in seen]
    assert got[0] == expected[0]
    assert got[1:] == [pair for pair in expected[1:] for _ in range(3)]
    assert [e.key.rsplit("/", 1)[1] for e in seen[1:]] == ["k", "l", "m"] * 5


async def test_compaction_raises_index_cleared_or_resyncs(
    client: etcd.Client, raw: etcd.Etcd3Client, prefix: str
) -> None:
    start = (await client.write(f"{prefix}/k", "first")).modified_index
    await client.write(f"{prefix}/k", "second")
    await client.delete(f"{prefix}/k")
    last = (await client.write(f"{prefix}/other", "kept")).modified_index
    await raw.compact(last)
    with pytest.raises(etcd.EtcdEventIndexCleared) as caught:
        async with client.watch_iter(f"{prefix}/k", index=start + 1) as watch:
            await asyncio.wait_for(take(watch, 1), 10)
    assert isinstance(caught.value, etcd.EtcdCompacted)
    assert caught.value.compact_revision == last
    assert caught.value.payload is not None and caught.value.payload.error_code == 401
    assert (caught.value.payload.index or 0) >= last
    with pytest.raises(etcd.EtcdEventIndexCleared):
        await client.watch(f"{prefix}/k", start + 1, timeout=5)

    async with client.watch_iter(prefix, recursive=True, index=start + 1, resync=True) as watch:
        (snapshot,) = await asyncio.wait_for(take(watch, 1), 10)
        assert snapshot.snapshot and snapshot.action == "get"
        assert {leaf.key: leaf.value for leaf in snapshot.leaves} == {f"{prefix}/other": "kept"}
        assert snapshot.etcd_index is not None and snapshot.etcd_index >= last
        assert watch.next_index == snapshot.etcd_index + 1
        late = await client.write(f"{prefix}/k", "third")
        (event,) = await asyncio.wait_for(take(watch, 1), 10)
    assert (event.action, event.modified_index, event.value) == (
        "create",
        late.modified_index,
        "third",
    )


async def test_an_idle_watch_moves_on_with_progress_notifications(
    own: LocalEtcd, prefix: str
) -> None:
    async with (
        etcd.Client(port=own.port, api="v3") as watcher,
        etcd.Etcd3Client(port=own.port) as writer,
        watcher.watch_iter(f"{prefix}/quiet", probe_interval=None) as watch,
    ):
        waiting = asyncio.create_task(take(watch, 1))
        await asyncio.sleep(0.2)
        began = watch.next_index
        assert began is not None
        for number in range(5):
            busy = (await writer.put(f"{prefix}/busy", str(number))).header.revision
        await asyncio.sleep(0.6)  # a few progress notifications
        await writer.compact(busy)
        # The member goes away: the watch goes on from where progress said it was,
        # past the compaction, instead of from where it began.
        own.kill()
        await asyncio.sleep(0.2)
        await asyncio.to_thread(own.restart)
        changed = (await writer.put(f"{prefix}/quiet", "now")).header.revision
        (event,) = await asyncio.wait_for(waiting, 20)
    assert began <= busy - 4
    assert (event.modified_index, event.value) == (changed, "now")


async def test_a_refresh_with_the_same_ttl_wakes_no_watcher(
    client: etcd.Client, prefix: str
) -> None:
    key = f"{prefix}/lease"
    written = await client.write(key, "v", ttl=30)
    async with client.watch_iter(key, index=written.modified_index + 1) as watch:
        waiting = asyncio.create_task(take(watch, 1))
        refreshed = await client.refresh(key, 30)
        assert refreshed.modified_index == written.modified_index
        await asyncio.sleep(0.3)
        assert not waiting.done()
        changed = await client.write(key, "w", ttl=20)
        (event,) = await asyncio.wait_for(waiting, 10)
    # The event's TTL is its lease's (timetolive counts whole seconds down).
    assert event.ttl in (19, 20) and event.expiration is not None
    assert (event.action, event.modified_index, event.value) == ("set", changed.modified_index, "w")
    assert event.prev_node is not None and event.prev_node.value == "v"


async def test_expiry_and_deletes_of_leased_keys_are_told_apart(
    client: etcd.Client, prefix: str
) -> None:
    await client.write(f"{prefix}/deleted", "d", ttl=30)
    async with client.watch_iter(prefix, recursive=True) as watch:
        watching = asyncio.create_task(take(watch, 3))
        await asyncio.sleep(0.2)
        expiring = await client.write(f"{prefix}/expiring", "e", ttl=1)
        await client.delete(f"{prefix}/deleted")
        events = await asyncio.wait_for(watching, 10)
    assert [(e.action, e.key) for e in events] == [
        ("create", f"{prefix}/expiring"),
        ("delete", f"{prefix}/deleted"),
        ("expire", f"{prefix}/expiring"),
    ]
    assert events[2].prev_node is not None and events[2].prev_node.value == "e"
    assert events[2].created_index == expiring.created_index
    assert events[2].value is None


async def test_directories_and_a_key_watch_of_one(client: etcd.Client, prefix: str) -> None:
    async with client.watch_iter(f"{prefix}/d") as watch:
        watching = asyncio.create_task(take(watch, 2))
        await asyncio.sleep(0.2)
        await client.write(f"{prefix}/d", None, dir=True)
        await client.write(f"{prefix}/d/child", "not watched")
        await client.delete(f"{prefix}/d", recursive=True)
        events = await asyncio.wait_for(watching, 10)
    assert [(e.action, e.key, e.dir, e.value) for e in events] == [
        ("create", f"{prefix}/d", True, None),
        ("delete", f"{prefix}/d", True, None),
    ]


async def test_one_shot_watches_and_events_of_others_keys(
    client: etcd.Client, raw: etcd.Etcd3Client, prefix: str
) -> None:
    waiting = asyncio.create_task(client.read(f"{prefix}/k", wait=True, timeout=10))
    once = asyncio.create_task(client.watch(prefix, recursive=True, timeout=10))
    await asyncio.sleep(0.3)
    await raw.put(f"{prefix}-sibling", "outside the tree")  # inside [K, K0): left out
    await raw.put(f"{prefix}/k", b"\xffbytes")
    first, second = await asyncio.gather(waiting, once)
    assert (first.action, first.key, first.value) == ("create", f"{prefix}/k", "\ufffdbytes")
    assert second.key == f"{prefix}/k" and second.etcd_index is not None
    assert second.modified_index > second.etcd_index


@pytest.fixture(scope="module")
def secured() -> Iterator[LocalEtcd]:
    """An etcd without v2 of this module's own, for auth (turned on by the test)."""
    with LocalEtcd(name="events-auth", enable_v2=False) as server:
        yield server


async def test_watches_follow_the_user_s_permissions(secured: LocalEtcd, prefix: str) -> None:
    async with etcd.Etcd3Client(port=secured.port) as admin:
        await admin.auth.user_add("root", "root-pw")
        await admin.auth.user_grant_role("root", "root")
        await admin.auth.role_add("reader")
        # As the v2 permissions "<prefix>/mine" and "<prefix>/tree/*" would say.
        await admin.auth.role_grant_permission("reader", f"{prefix}/mine", perm_type="READ")
        await admin.auth.role_grant_permission(
            "reader", f"{prefix}/tree/", prefix=True, perm_type="READ"
        )
        await admin.auth.user_add("reader", "reader-pw")
        await admin.auth.user_grant_role("reader", "reader")
        await admin.auth.enable()
    async with (
        etcd.Client(port=secured.port, api="v3", username="reader", password="reader-pw") as client,
        etcd.Etcd3Client(port=secured.port, username="root", password="root-pw") as root,
    ):
        try:
            with pytest.raises(etcd.EtcdInsufficientPermissions) as caught:
                await client.watch(f"{prefix}/other", timeout=5)
            assert "permission denied" in str(caught.value).lower()
            with pytest.raises(etcd.EtcdInsufficientPermissions):
                async with client.watch_iter(f"{prefix}/other", recursive=True) as watch:
                    await asyncio.wait_for(take(watch, 1), 5)
            async with (
                client.watch_iter(f"{prefix}/mine") as mine,
                client.watch_iter(f"{prefix}/tree", recursive=True) as tree,
            ):
                watching = asyncio.gather(take(mine, 1), take(tree, 1))
                await asyncio.sleep(0.3)
                await root.put(f"{prefix}/mine", "m")
                await root.put(f"{prefix}/tree/leaf", "t")
                ((own,), (below,)) = await asyncio.wait_for(watching, 10)
            assert (own.key, own.value, below.key, below.value) == (
                f"{prefix}/mine",
                "m",
                f"{prefix}/tree/leaf",
                "t",
            )
        finally:
            await root.auth.disable()
