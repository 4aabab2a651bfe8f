"""Every documented call of the client, as the README shows it, against a real etcd."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd


async def test_write_then_read_a_number(client: etcd.Client, prefix: str, api: str) -> None:
    written = await client.write(f"{prefix}/nodes/n1", 1)
    assert (written.action, written.key, written.value) == ("set", f"{prefix}/nodes/n1", "1")
    assert written.new_key is True and written.newKey is True
    assert written.modifiedIndex == written.createdIndex == written.etcd_index
    # v3 replies carry no raft index (only maintenance/status has one).
    assert (written.raft_index is None) is (api == "v3") and written.raft_term is not None
    assert written.cluster_id

    read = await client.read(f"{prefix}/nodes/n1")
    assert (read.action, read.value, read.modifiedIndex) == ("get", "1", written.modifiedIndex)
    assert read.etcd_index is not None and read.etcd_index >= written.modifiedIndex


async def test_set_and_get_are_write_and_read(client: etcd.Client, prefix: str) -> None:
    await client.set(f"{prefix}/k", "first")
    replaced = await client.set(f"{prefix}/k", "second")
    assert replaced.new_key is False
    assert replaced.prev_node is not None and replaced.prev_node.value == "first"
    assert (await client.get(f"{prefix}/k")).value == "second"


async def test_ttl_counts_down_and_a_write_without_ttl_clears_it(
    client: etcd.Client, prefix: str
) -> None:
    result = await client.write(f"{prefix}/nodes/n2", 2, ttl=4)
    assert result.ttl is not None and 0 < result.ttl <= 4
    assert result.expiration is not None and result.expiration > datetime.now(timezone.utc)

    permanent = await client.write(f"{prefix}/nodes/n2", 3)
    assert permanent.ttl is None and permanent.expiration is None


async def test_a_key_with_a_ttl_expires(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/short", "lived", ttl=1)
    assert await client.contains(f"{prefix}/short")
    for _ in range(50):
        if not await client.contains(f"{prefix}/short"):
            break
        await asyncio.sleep(0.1)
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.read(f"{prefix}/short")


async def test_missing_key_raises_key_not_found(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/present", "v")
    with pytest.raises(etcd.EtcdKeyNotFound) as caught:
        await client.read(f"{prefix}/missing/deeper")
    assert caught.value.payload is not None
    assert caught.value.payload.error_code == 100
    # etcd names the first path component that is missing.
    assert caught.value.payload.cause == f"{prefix}/missing"
    assert caught.value.status == 404


async def test_read_recursive_walks_the_tree(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/a/x", "1")
    await client.write(f"{prefix}/a/y/z", "2")
    await client.write(f"{prefix}/b", "3")

    tree = await client.read(prefix, recursive=True, sorted=True)
    assert tree.dir
    assert [(n.key, n.value) for n in tree.leaves] == [
        (f"{prefix}/a/x", "1"),
        (f"{prefix}/a/y/z", "2"),
        (f"{prefix}/b", "3"),
    ]
    assert [n.key for n in tree.get_subtree()] == [
        prefix,
        f"{prefix}/a",
        f"{prefix}/a/x",
        f"{prefix}/a/y",
        f"{prefix}/a/y/z",
        f"{prefix}/b",
    ]

    shallow = await client.read(prefix, sorted=True)
    # Without recursive, child directories come without their contents.
    assert [(n.key, n.dir) for n in shallow.children] == [
        (f"{prefix}/a", True),
        (f"{prefix}/b", False),
    ]


async def test_leaves_are_the_nodes_without_children_as_python_etcd_has_them(
    client: etcd.Client, prefix: str
) -> None:
    await client.write(f"{prefix}/a/x", "1")
    await client.write(f"{prefix}/a/empty", None, dir=True)
    tree = await client.read(prefix, recursive=True, sorted=True)
    # An empty directory below the one read is a leaf, as in python-etcd ...
    assert [(n.key, n.dir) for n in tree.leaves] == [
        (f"{prefix}/a/empty", True),
        (f"{prefix}/a/x", False),
    ]
    # ... but the directory read yields nothing when it is empty (python-etcd: itself).
    assert list((await client.read(f"{prefix}/a/empty")).leaves) == []
    assert [n.key for n in (await client.read(f"{prefix}/a/x")).leaves] == [f"{prefix}/a/x"]


async def test_sorted_orders_children_by_key(client: etcd.Client, prefix: str) -> None:
    names = ["m", "c", "x", "a", "k", "b"]
    for name in names:
        await client.write(f"{prefix}/{name}", name)
    listing = await client.read(prefix, sorted=True)
    assert [n.key.rsplit("/", 1)[1] for n in listing.children] == sorted(names)


async def test_quorum_read(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/q", "v")
    assert (await client.read(f"{prefix}/q", quorum=True)).value == "v"


async def test_delete_a_key(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/nodes/n1", 1)
    deleted = await client.delete(f"{prefix}/nodes/n1")
    assert deleted.action == "delete"
    assert deleted.value is None
    assert deleted.prev_node is not None and deleted.prev_node.value == "1"
    assert not await client.contains(f"{prefix}/nodes/n1")


async def test_delete_directories(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/empty", None, dir=True)
    assert (await client.delete(f"{prefix}/empty", dir=True)).dir

    await client.write(f"{prefix}/full/a/b", "v")
    with pytest.raises(etcd.EtcdDirNotEmpty):
        await client.delete(f"{prefix}/full", dir=True)
    assert (await client.delete(f"{prefix}/full", recursive=True)).dir
    assert not await client.contains(f"{prefix}/full")


async def test_compare_and_delete(client: etcd.Client, prefix: str) -> None:
    written = await client.write(f"{prefix}/k", "v1")
    with pytest.raises(etcd.EtcdCompareFailed):
        await client.delete(f"{prefix}/k", prevValue="other")
    with pytest.raises(etcd.EtcdCompareFailed):
        await client.delete(f"{prefix}/k", prevIndex=written.modifiedIndex + 100)
    assert (await client.delete(f"{prefix}/k", prevValue="v1")).action == "compareAndDelete"

    written = await client.write(f"{prefix}/k", "v2")
    deleted = await client.delete(f"{prefix}/k", prevIndex=written.modifiedIndex)
    assert deleted.action == "compareAndDelete"


async def test_pop_returns_the_deleted_node(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/k", "popped")
    node = await client.pop(f"{prefix}/k")
    assert (node.key, node.value) == (f"{prefix}/k", "popped")
    assert not await client.contains(f"{prefix}/k")


async def test_compare_and_swap_on_value(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/nodes/n2", 4)
    swapped = await client.write(f"{prefix}/nodes/n2", 2, prevValue=4)
    assert (swapped.action, swapped.value) == ("compareAndSwap", "2")
    with pytest.raises(etcd.EtcdCompareFailed) as caught:
        await client.write(f"{prefix}/nodes/n2", 3, prevValue=4)
    assert isinstance(caught.value, ValueError)
    assert (await client.read(f"{prefix}/nodes/n2")).value == "2"


async def test_compare_and_swap_on_existence(client: etcd.Client, prefix: str) -> None:
    created = await client.write(f"{prefix}/nodes/n2", 2, prevExist=False)
    assert created.action == "create"
    with pytest.raises(etcd.EtcdAlreadyExist):
        await client.write(f"{prefix}/nodes/n2", 3, prevExist=False)
    updated = await client.write(f"{prefix}/nodes/n2", 4, prevExist=True)
    assert updated.action == "update"
    assert updated.createdIndex == created.createdIndex
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.write(f"{prefix}/nodes/none", 1, prevExist=True)


async def test_compare_and_swap_on_index(client: etcd.Client, prefix: str) -> None:
    first = await client.write(f"{prefix}/nodes/n2", 1)
    swapped = await client.write(f"{prefix}/nodes/n2", 2, prevIndex=first.modifiedIndex)
    assert swapped.action == "compareAndSwap"
    with pytest.raises(etcd.EtcdCompareFailed):
        await client.write(f"{prefix}/nodes/n2", 3, prevIndex=first.modifiedIndex)


async def test_test_and_set(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/nodes/n2", 4)
    assert (await client.test_and_set(f"{prefix}/nodes/n2", 2, 4)).value == "2"
    with pytest.raises(etcd.EtcdCompareFailed):
        await client.test_and_set(f"{prefix}/nodes/n2", 5, 4)


async def test_update_a_result_atomically(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/foo", "bar")
    result = await client.read(f"{prefix}/foo")
    assert result.value is not None
    result.value += "bar"
    updated = await client.update(result)
    assert updated.value == "barbar"
    assert updated.action == "compareAndSwap"


async def test_update_fails_when_someone_wrote_meanwhile(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/foo", "bar")
    result = await client.read(f"{prefix}/foo")
    await client.write(f"{prefix}/foo", "theirs")
    result.value = "mine"
    with pytest.raises(etcd.EtcdCompareFailed):
        await client.update(result)
    assert (await client.read(f"{prefix}/foo")).value == "theirs"


async def test_update_accepts_numbers_and_a_new_ttl(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/n", 1)
    result = await client.read(f"{prefix}/n")
    result.value = 5
    result.ttl = 100
    updated = await client.update(result)
    assert updated.value == "5"
    assert updated.ttl is not None and 0 < updated.ttl <= 100


async def test_refresh_keeps_value_and_created_index(client: etcd.Client, prefix: str) -> None:
    written = await client.write(f"{prefix}/nodes/n1", "value", ttl=30)
    refreshed = await client.refresh(f"{prefix}/nodes/n1", ttl=600)
    assert refreshed.value == "value"
    assert refreshed.createdIndex == written.createdIndex
    assert refreshed.ttl is not None and 30 < refreshed.ttl <= 600
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.refresh(f"{prefix}/nodes/none", ttl=5)


async def test_refresh_of_a_key_whose_ttl_ran_out_is_key_not_found(
    client: etcd.Client, prefix: str
) -> None:
    key = f"{prefix}/expiring"
    # A sibling keeps the directory: on v3 directories are implicit, and v2 names the first
    # missing segment as the cause.
    await client.write(f"{prefix}/stays", "here")
    await client.write(key, "short-lived", ttl=1)
    deadline = time.monotonic() + 10
    while await client.contains(key):  # v3: the lease's minimum TTL is about 2 s
        assert time.monotonic() < deadline
        await asyncio.sleep(0.2)
    with pytest.raises(etcd.EtcdKeyNotFound) as caught:
        await client.refresh(key, ttl=30)
    payload = caught.value.payload
    assert payload is not None
    assert (payload["errorCode"], payload["cause"]) == (100, key)
    assert caught.value.status == 404
    assert not await client.contains(key)


async def test_refresh_does_not_wake_watchers(client: etcd.Client, prefix: str) -> None:
    written = await client.write(f"{prefix}/k", "v", ttl=30)
    watch = asyncio.create_task(client.watch(f"{prefix}/k", index=written.modifiedIndex + 1))
    # v3: only a refresh with the same ttl is a lease keep-alive; another ttl needs a new
    # lease, which is a write of the key.
    await client.refresh(f"{prefix}/k", ttl=60 if client.api == "v2" else 30)
    await asyncio.sleep(0.2)
    assert not watch.done()
    changed = await client.write(f"{prefix}/k", "changed")
    event = await asyncio.wait_for(watch, 5)
    assert (event.action, event.value, event.modifiedIndex) == (
        "set",
        "changed",
        changed.modifiedIndex,
    )


async def test_a_watch_from_a_future_index_skips_the_changes_before_it(
    client: etcd.Client, prefix: str
) -> None:
    key = f"{prefix}/k"
    written = await client.write(key, "now")
    start = written.modifiedIndex + 3
    watching = client.watch_iter(key, index=start)
    waiting = asyncio.create_task(client.watch(key, index=start))
    for value in ("too early 1", "too early 2", "first", "second"):
        await client.write(key, value)
    async with watching as changes:
        seen = [(event.modifiedIndex, event.value) async for event in _take(changes, 2)]
    assert seen == [(start, "first"), (start + 1, "second")]
    event = await asyncio.wait_for(waiting, 5)
    assert (event.modifiedIndex, event.value) == (start, "first")


async def _take(
    changes: AsyncIterator[etcd.EtcdResult], count: int
) -> AsyncIterator[etcd.EtcdResult]:
    for _ in range(count):
        yield await asyncio.wait_for(anext(changes), 5)


async def test_contains(client: etcd.Client, prefix: str) -> None:
    assert not await client.contains(f"{prefix}/k")
    await client.write(f"{prefix}/k", "v")
    assert await client.contains(f"{prefix}/k")


async def test_watch_waits_for_the_next_change(client: etcd.Client, prefix: str) -> None:
    result = await client.write(f"{prefix}/nodes/n1", "start")
    waiting = asyncio.create_task(
        client.read(f"{prefix}/nodes/n1", wait=True, waitIndex=result.modifiedIndex + 1)
    )
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await client.write(f"{prefix}/nodes/n1", "next")
    event = await asyncio.wait_for(waiting, 5)
    assert (event.action, event.value) == ("set", "next")
    assert event.prev_node is not None and event.prev_node.value == "start"


async def test_watch_from_a_past_index_replays_history(client: etcd.Client, prefix: str) -> None:
    first = await client.write(f"{prefix}/nodes/n1", "a")
    await client.write(f"{prefix}/nodes/n1", "b")
    await client.write(f"{prefix}/nodes/n1", "c")
    replay = await client.read(f"{prefix}/nodes/n1", wait=True, waitIndex=first.modifiedIndex)
    assert replay.value == "a"
    replay = await client.watch(f"{prefix}/nodes/n1", index=first.modifiedIndex + 1)
    assert replay.value == "b"


async def test_watch_recursive_sees_children(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/dir/a", "1")
    waiting = asyncio.create_task(client.watch(f"{prefix}/dir", recursive=True))
    await asyncio.sleep(0.1)
    await client.write(f"{prefix}/dir/deep/b", "2")
    event = await asyncio.wait_for(waiting, 5)
    assert (event.key, event.value) == (f"{prefix}/dir/deep/b", "2")


async def test_watch_of_a_key_reports_its_directory_deletion(
    client: etcd.Client, prefix: str
) -> None:
    written = await client.write(f"{prefix}/dir/leaf", "v")
    waiting = asyncio.create_task(
        client.watch(f"{prefix}/dir/leaf", index=written.modifiedIndex + 1)
    )
    await asyncio.sleep(0.1)
    await client.delete(f"{prefix}/dir", recursive=True)
    event = await asyncio.wait_for(waiting, 5)
    if client.api == "v3":
        # v3 deletes a tree key by key: the watcher sees its own key's deletion.
        assert (event.action, event.key, event.dir) == ("delete", f"{prefix}/dir/leaf", False)
        return
    assert (event.action, event.key, event.dir) == ("delete", f"{prefix}/dir", True)


async def test_watch_under_wait_for_times_out(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/nodes/n1", "v")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.read(f"{prefix}/nodes/n1", wait=True), timeout=0.3)
    # The message gives the timeout as given, not what was left of it.
    with pytest.raises(etcd.EtcdWatchTimedOut, match=r"within 0\.3 s$"):
        await client.watch(f"{prefix}/nodes/n1", timeout=0.3)
    # The client is still usable afterwards.
    assert (await client.read(f"{prefix}/nodes/n1")).value == "v"


async def test_eternal_watch_with_a_plain_callback(client: etcd.Client, prefix: str) -> None:
    start = await client.write(f"{prefix}/k", "0")
    seen: list[str | None] = []

    def callback(event: etcd.EtcdResult) -> None:
        seen.append(event.value)
        if len(seen) == 3:
            raise etcd.StopWatching

    for value in ("1", "2", "3", "4"):
        await client.write(f"{prefix}/k", value)
    next_index = await asyncio.wait_for(
        client.eternal_watch(f"{prefix}/k", callback, index=start.modifiedIndex + 1), 5
    )
    assert seen == ["1", "2", "3"]
    assert (await client.watch(f"{prefix}/k", index=next_index)).value == "4"


async def test_eternal_watch_with_an_async_callback(client: etcd.Client, prefix: str) -> None:
    seen: list[str] = []

    async def callback(event: etcd.EtcdResult) -> None:
        await asyncio.sleep(0)
        seen.append(event.key)
        if len(seen) == 2:
            raise etcd.StopWatching

    async def writes() -> None:
        for name in ("a", "b"):
            await asyncio.sleep(0.1)
            await client.write(f"{prefix}/d/{name}", name)

    writer = asyncio.create_task(writes())
    await asyncio.wait_for(client.eternal_watch(f"{prefix}/d", callback, recursive=True), 5)
    await writer
    assert seen == [f"{prefix}/d/a", f"{prefix}/d/b"]


async def test_in_order_keys(client: etcd.Client, prefix: str) -> None:
    first = await client.write(f"{prefix}/dir/name", "value1", append=True)
    second = await client.write(f"{prefix}/dir/name", "value2", append=True)
    assert first.key.startswith(f"{prefix}/dir/name/") and first.value == "value1"
    assert first.action == "create" and first.new_key
    assert first.key < second.key

    directory = await client.get(f"{prefix}/dir/name", sorted=True)
    assert [(r.key, r.value) for r in directory.children] == [
        (first.key, "value1"),
        (second.key, "value2"),
    ]


async def test_directories(client: etcd.Client, prefix: str) -> None:
    made = await client.write(f"{prefix}/d", None, dir=True)
    assert made.dir and made.value is None
    empty = await client.read(f"{prefix}/d")
    assert empty.dir and list(empty.children) == []
    with pytest.raises(etcd.EtcdNotFile):
        await client.write(f"{prefix}/d", "value")


async def test_cluster_calls(client: etcd.Client, server: LocalEtcd) -> None:
    assert await client.machines() == [server.client_url]
    leader = await client.leader()
    assert leader.client_urls == [server.client_url]
    assert leader["clientURLs"] == [server.client_url]
    assert leader.name == server.name
    version = await client.version()
    assert version.count(".") == 2 and version.startswith("3.")
    cluster = await client.cluster_version()
    assert version.startswith(cluster.rsplit(".", 1)[0])


async def test_host_given_as_a_sequence_of_pairs(
    server: LocalEtcd, api: str, prefix: str
) -> None:
    async with etcd.Client(host=(("127.0.0.1", server.port),), api=api) as client:
        await client.write(f"{prefix}/k", "v")
        assert (await client.read(f"{prefix}/k")).value == "v"
        assert (client.host, client.port) == ("127.0.0.1", server.port)


async def test_client_properties(server: LocalEtcd, api: str) -> None:
    async with etcd.Client(port=server.port, read_timeout=5, api=api) as client:
        assert client.base_uri == server.client_url
        assert client.protocol == "http"
        assert client.api == api
        assert client.version_prefix == "/v2"
        assert client.key_endpoint == "/v2/keys"
        assert client.read_timeout == 5.0
        assert client.lock_prefix == "/_locks"
        assert repr(client) == f"<aio_etcd.Client {server.client_url}>"
    assert client.closed


async def test_the_module_paths_of_aio_etcd_0_4_still_import(
    server: LocalEtcd, api: str, prefix: str
) -> None:
    """aio_etcd 0.4 had aio_etcd.client, .lock and .auth (python-etcd: etcd.client, ...)."""
    import aio_etcd
    from aio_etcd.auth import Auth, EtcdRole, EtcdUser
    from aio_etcd.client import Client
    from aio_etcd.lock import Lock

    assert Client is aio_etcd.client.Client is etcd.Client
    assert Lock is aio_etcd.lock.Lock is etcd.Lock
    assert {Auth.__name__, EtcdRole.__name__, EtcdUser.__name__} == {
        "Auth",
        "EtcdRole",
        "EtcdUser",
    }
    async with Client(port=server.port, api=api) as client:
        assert (await client.write(f"{prefix}/old", "import")).value == "import"
        lock = Lock(client, "old-import")
        assert await lock.acquire(blocking=False)
        await lock.release()
