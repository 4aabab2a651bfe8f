"""The keys API on v3: the layout other v3 clients see, TTLs as leases, directories, order."""

from __future__ import annotations

import asyncio

import pytest

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd
from tests.v3._etcdctl import run, run_json


def etcdctl(server: LocalEtcd, *args: str) -> str:
    return run("etcdctl", f"--endpoints={server.client_url}", *args)


def etcdctl_json(server: LocalEtcd, *args: str) -> dict[str, object]:
    found: dict[str, object] = run_json("etcdctl", f"--endpoints={server.client_url}", *args)
    return found


async def test_etcdctl_sees_what_write_wrote(
    client: etcd.Client, etcd3_server: LocalEtcd, prefix: str
) -> None:
    written = await client.write(f"{prefix}/config/level", "debug")
    assert etcdctl(etcd3_server, "get", f"{prefix}/config/level", "--print-value-only") == "debug\n"
    kv = etcdctl_json(etcd3_server, "get", f"{prefix}/config/level")["kvs"]
    assert isinstance(kv, list)
    assert kv[0]["create_revision"] == written.created_index
    assert kv[0]["mod_revision"] == written.modified_index
    assert written.etcd_index == written.modified_index

    await client.write(f"{prefix}/made", None, dir=True)
    # A directory made with dir=True is its marker key: the path and a slash, empty.
    assert etcdctl(etcd3_server, "get", "--prefix", f"{prefix}/made") == f"{prefix}/made/\n\n"


async def test_keys_of_other_v3_clients_read_as_nodes(
    client: etcd.Client, v3: etcd.Etcd3Client, prefix: str
) -> None:
    await v3.put(f"{prefix}/app/a", b"1")
    await v3.put(f"{prefix}/app/sub/b", b"2")
    await v3.put(f"{prefix}/app/bad", b"\xff\xfe ok")
    kv = await v3.get(f"{prefix}/app/a")
    assert kv is not None

    node = await client.read(f"{prefix}/app/a")
    assert (node.value, node.created_index, node.modified_index) == (
        "1",
        kv.create_revision,
        kv.mod_revision,
    )
    # Bytes that are not UTF-8 read as v2 showed them: U+FFFD each.
    assert (await client.read(f"{prefix}/app/bad")).value == "\ufffd\ufffd ok"

    tree = await client.read(f"{prefix}/app", recursive=True)
    assert tree.dir and (tree.created_index, tree.modified_index) == (0, 0)  # no marker
    assert [(n.key, n.value) for n in tree.leaves] == [
        (f"{prefix}/app/a", "1"),
        (f"{prefix}/app/bad", "\ufffd\ufffd ok"),
        (f"{prefix}/app/sub/b", "2"),
    ]

    # A key D with keys below D/ (only v3 clients can make that) reads as a file.
    await v3.put(f"{prefix}/app/sub", b"file")
    assert (await client.read(f"{prefix}/app/sub")).value == "file"
    listing = await client.read(f"{prefix}/app", recursive=True)
    assert [(n.key, n.dir, n.value) for n in listing.children if n.key.endswith("sub")] == [
        (f"{prefix}/app/sub", False, "file")
    ]


@pytest.mark.parametrize(
    "name",
    ["with space", "ünïcödé ✓", "per%25cent", "semi;colon", "plus+sign", "q?u#e&r=y", "a:b@c"],
)
async def test_odd_keys_round_trip(
    client: etcd.Client, etcd3_server: LocalEtcd, prefix: str, name: str
) -> None:
    key = f"{prefix}/{name}"
    await client.write(key, f"value of {name}")
    assert (await client.read(key)).value == f"value of {name}"
    assert etcdctl(etcd3_server, "get", key, "--print-value-only") == f"value of {name}\n"
    listing = await client.read(prefix)
    assert [n.key for n in listing.children] == [key]
    assert (await client.delete(key)).prev_node is not None


async def test_a_trailing_slash_is_dropped_as_v2_does(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/k/", "v")
    assert (await client.read(f"{prefix}/k")).value == "v"
    assert (await client.read(f"{prefix}/k/")).key == f"{prefix}/k"


async def test_ttl_is_a_lease_of_the_key_alone(
    client: etcd.Client, v3: etcd.Etcd3Client, prefix: str
) -> None:
    one = await client.write(f"{prefix}/one", "1", ttl=30)
    two = await client.write(f"{prefix}/two", "2", ttl=30)
    kv_one, kv_two = await v3.get(f"{prefix}/one"), await v3.get(f"{prefix}/two")
    assert kv_one is not None and kv_two is not None
    assert kv_one.lease and kv_two.lease and kv_one.lease != kv_two.lease
    assert one.ttl == two.ttl == 30
    assert one.expiration is not None

    listing = await client.read(prefix, sorted=True)
    assert [n.ttl is not None and 0 < n.ttl <= 30 for n in listing.children] == [True, True]

    # A write without a ttl detaches the key from its lease; the lease lives on alone.
    permanent = await client.write(f"{prefix}/one", "forever")
    assert permanent.ttl is None
    kv_one_now = await v3.get(f"{prefix}/one")
    assert kv_one_now is not None and kv_one_now.lease == 0
    assert (await v3.get_lease_info(kv_one.lease)).ttl > 0


async def test_refresh_with_the_same_ttl_is_a_keep_alive(
    client: etcd.Client, v3: etcd.Etcd3Client, prefix: str
) -> None:
    written = await client.write(f"{prefix}/k", "v", ttl=30)
    before = await v3.get(f"{prefix}/k")
    assert before is not None
    refreshed = await client.refresh(f"{prefix}/k", ttl=30)
    after = await v3.get(f"{prefix}/k")
    assert after is not None
    # Same lease, same revision: nothing was written, so no watcher wakes.
    assert (after.lease, after.mod_revision) == (before.lease, before.mod_revision)
    assert refreshed.modified_index == written.modified_index
    assert (refreshed.action, refreshed.value, refreshed.ttl) == ("update", "v", 30)

    # Another ttl: a new lease, attached by a put that keeps the value.
    longer = await client.refresh(f"{prefix}/k", ttl=90)
    moved = await v3.get(f"{prefix}/k")
    assert moved is not None and moved.lease not in (0, before.lease)
    assert (moved.value, longer.ttl, longer.value) == (b"v", 90, "v")
    assert longer.modified_index == moved.mod_revision > written.modified_index

    with pytest.raises(etcd.EtcdCompareFailed) as caught:
        await client.refresh(f"{prefix}/k", ttl=90, prevValue="other")
    assert caught.value.payload is not None and caught.value.payload.cause == "[other != v]"
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.refresh(f"{prefix}/missing", ttl=30)


async def test_a_key_expires_with_its_lease(
    client: etcd.Client, v3: etcd.Etcd3Client, prefix: str
) -> None:
    written = await client.write(f"{prefix}/short", "v", ttl=1)
    kv = await v3.get(f"{prefix}/short")
    assert kv is not None and written.ttl is not None
    # Revoking the lease stands for its expiry, without waiting for it.
    await v3.revoke_lease(kv.lease)
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.read(f"{prefix}/short")


async def test_directories_are_markers_or_implicit(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/kept", None, dir=True)
    await client.write(f"{prefix}/kept/child", "c")
    await client.delete(f"{prefix}/kept/child")
    kept = await client.read(f"{prefix}/kept")
    assert kept.dir and kept.created_index > 0 and list(kept.children) == []

    # Without a marker a directory exists while something is below it, as etcdctl sees it.
    await client.write(f"{prefix}/implicit/child", "c")
    assert (await client.read(f"{prefix}/implicit")).dir
    await client.delete(f"{prefix}/implicit/child")
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.read(f"{prefix}/implicit")

    # update() of a directory read back writes its marker: it now outlives its children.
    await client.write(f"{prefix}/late/child", "c")
    updated = await client.update(await client.read(f"{prefix}/late"))
    assert (updated.action, updated.dir) == ("update", True)
    await client.delete(f"{prefix}/late/child")
    assert (await client.read(f"{prefix}/late")).dir

    # A file set as a directory becomes one (v2 replaces files, never directories).
    await client.write(f"{prefix}/was_file", "f")
    made = await client.write(f"{prefix}/was_file", None, dir=True)
    assert made.dir and made.prev_node is not None and made.prev_node.value == "f"


async def test_a_directory_cannot_have_a_ttl(client: etcd.Client, prefix: str) -> None:
    with pytest.raises(etcd.EtcdValueError, match="directory cannot have a ttl"):
        await client.write(f"{prefix}/d", None, dir=True, ttl=5)
    await client.write(f"{prefix}/d/x", "v")
    with pytest.raises(etcd.EtcdValueError, match="directory"):
        await client.refresh(f"{prefix}/d", ttl=5)


async def test_hidden_names_are_left_out_of_listings(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/_hidden", "h")
    await client.write(f"{prefix}/_hidden_dir/x", "h")
    await client.write(f"{prefix}/shown/_also_hidden", "h")
    await client.write(f"{prefix}/shown/visible", "v")
    tree = await client.read(prefix, recursive=True)
    assert [n.key for n in tree.get_subtree()] == [
        prefix,
        f"{prefix}/shown",
        f"{prefix}/shown/visible",
    ]
    assert (await client.read(f"{prefix}/_hidden")).value == "h"


async def test_delete_recursive_removes_the_tree_in_one_revision(
    client: etcd.Client, v3: etcd.Etcd3Client, prefix: str
) -> None:
    await client.write(f"{prefix}/tree", None, dir=True)
    await client.write(f"{prefix}/tree/a", "1")
    await client.write(f"{prefix}/tree/b/c", "2")
    await client.write(f"{prefix}/tree.bak", "sibling")  # in [K, K0) but not below K/
    deleted = await client.delete(f"{prefix}/tree", recursive=True)
    assert deleted.dir and deleted.prev_node is not None and deleted.prev_node.dir
    assert deleted.modified_index == deleted.etcd_index
    assert (await v3.get_prefix(f"{prefix}/tree/")).kvs == []
    assert (await client.read(f"{prefix}/tree.bak")).value == "sibling"


async def test_in_order_keys_follow_creation_under_concurrent_appenders(
    client: etcd.Client, etcd3_server: LocalEtcd, prefix: str
) -> None:
    queue = f"{prefix}/queue"
    async with etcd.Client(port=etcd3_server.port, api="v3") as other:

        async def appender(worker: etcd.Client, n: int) -> list[etcd.EtcdResult]:
            return [await worker.write(queue, f"{n}.{i}", append=True) for i in range(4)]

        batches = await asyncio.gather(*(appender(client if n % 2 else other, n) for n in range(8)))
    made = [result for batch in batches for result in batch]
    assert len({r.key for r in made}) == 32
    by_creation = sorted(made, key=lambda r: r.created_index)
    assert [r.key for r in by_creation] == sorted(r.key for r in made)
    listing = await client.read(queue, sorted=True)
    assert [(n.key, n.value) for n in listing.children] == [(r.key, r.value) for r in by_creation]
    # Each worker's own appends are in its order.
    for batch in batches:
        assert [r.key for r in batch] == sorted(r.key for r in batch)


async def test_append_under_a_file_is_not_a_directory(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/file", "f")
    with pytest.raises(etcd.EtcdNotDir) as caught:
        await client.write(f"{prefix}/file", "x", append=True)
    assert caught.value.payload is not None and caught.value.payload.error_code == 104


async def test_quorum_and_local_reads_agree(client: etcd.Client, prefix: str) -> None:
    written = await client.write(f"{prefix}/k", "v")
    local = await client.read(f"{prefix}/k")
    quorum = await client.read(f"{prefix}/k", quorum=True)
    assert local.modified_index == quorum.modified_index == written.modified_index


async def test_the_root_lists_top_level_directories(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/k", "v")
    root = await client.read("/")
    assert root.dir and root.key == "/"
    assert "/t" in [n.key for n in root.children]
    with pytest.raises(etcd.EtcdRootReadOnly):
        await client.write("/", "v")
    with pytest.raises(etcd.EtcdRootReadOnly):
        await client.delete("/", recursive=True)


async def test_a_file_is_not_updated_as_a_directory(
    client: etcd.Client, v3: etcd.Etcd3Client, prefix: str
) -> None:
    await client.write(f"{prefix}/file", "f")
    with pytest.raises(etcd.EtcdNotFile):
        await client.write(f"{prefix}/file", None, dir=True, prevExist=True)
    assert (await v3.get_prefix(f"{prefix}/file/")).kvs == []  # no marker below a file
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.write(f"{prefix}/none", None, dir=True, prevExist=True)


async def test_a_key_with_v3_keys_below_it_can_be_compared_and_swapped(
    client: etcd.Client, v3: etcd.Etcd3Client, prefix: str
) -> None:
    await v3.put(f"{prefix}/both", b"file")
    await v3.put(f"{prefix}/both/child", b"c")
    swapped = await client.write(f"{prefix}/both", "new", prevValue="file")
    assert swapped.action == "compareAndSwap"
    # A plain set refuses it as v2 refuses a directory: something is below it.
    with pytest.raises(etcd.EtcdNotFile):
        await client.write(f"{prefix}/both", "again")
