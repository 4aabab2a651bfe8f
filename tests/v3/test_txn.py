"""Transactions with typed compares and operations, on a real etcd with the v2 API off."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd
from aio_etcd.v3 import (
    Compare,
    CompareTarget,
    CreateRevision,
    LeaseId,
    ModRevision,
    Op,
    Value,
    Version,
)


async def test_success_branch_gives_typed_responses(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    key = prefix + b"k"
    put = await client.put(key, b"old")
    reply = await client.transaction(
        [Value(key) == b"old", Version(key) == 1, ModRevision(key) == put.header.revision],
        [
            Op.put(key, b"new", prev_kv=True),
            Op.get(key),
            Op.delete(prefix + b"none"),
            Op.txn([Version(key) > 0], [Op.get_prefix(prefix, keys_only=True)]),
        ],
        [Op.get(key)],
    )
    assert reply.succeeded
    put_reply, read, deleted, nested = (r for r in reply.responses)
    assert put_reply.response_put is not None and put_reply.response_put.prev_kv is not None
    assert put_reply.response_put.prev_kv.value == b"old"
    assert read.response_range is not None and read.response_range.kvs[0].value == b"new"
    assert deleted.response_delete_range is not None
    assert deleted.response_delete_range.deleted == 0
    assert nested.response_txn is not None and nested.response_txn.succeeded
    inner = nested.response_txn.responses[0].response_range
    assert inner is not None and [kv.key for kv in inner.kvs] == [key]
    assert inner.kvs[0].value == b""


async def test_failure_branch(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"k"
    await client.put(key, b"current")
    reply = await client.transaction([Value(key) == b"other"], [Op.put(key, b"x")], [Op.get(key)])
    assert not reply.succeeded
    got = reply.responses[0].response_range
    assert got is not None and got.kvs[0].value == b"current"


@pytest.mark.parametrize(
    ("compare", "holds"),
    [
        (Value(b"K") == b"b", True),
        (Value(b"K") != b"b", False),
        (Value(b"K") < b"c", True),
        (Value(b"K") > b"c", False),
        (Version(b"K") == 2, True),
        (Version(b"K") > 1, True),
        (Version(b"K") < 2, False),
        (Version(b"K") != 2, False),
    ],
)
async def test_operators(
    client: etcd.Etcd3Client, prefix: bytes, compare: Compare, holds: bool
) -> None:
    key = prefix + b"K"
    await client.put(key, b"a")
    await client.put(key, b"b")
    aimed = compare.model_copy(update={"key": key})
    reply = await client.transaction([aimed])
    assert reply.succeeded is holds


async def test_revision_and_lease_targets(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"k"
    lease = await client.grant_lease(30)
    put = await client.put(key, b"v", lease=lease)
    rev = put.header.revision
    for compare in (
        CreateRevision(key) == rev,
        ModRevision(key) == rev,
        ModRevision(key) < rev + 1,
        CreateRevision(key) > rev - 1,
        LeaseId(key) == lease.id,
        LeaseId(key) == lease,
        LeaseId(key) != lease.id + 1,
    ):
        assert (await client.transaction([compare])).succeeded, compare
    assert not (await client.transaction([LeaseId(key) == lease.id + 1])).succeeded
    await client.revoke_lease(lease)


async def test_missing_key_semantics(client: etcd.Etcd3Client, prefix: bytes) -> None:
    """Reference §8: on a missing key every VALUE compare is false; the others compare as 0."""
    missing = prefix + b"missing"
    for compare in (
        Value(missing) == b"",
        Value(missing) != b"x",
        Value(missing) < b"\xff",
        Value(missing) > b"",
    ):
        assert not (await client.transaction([compare])).succeeded, compare
    for compare in (
        Version(missing) == 0,
        CreateRevision(missing) == 0,
        ModRevision(missing) == 0,
        LeaseId(missing) == 0,
        Version(missing) < 1,
    ):
        assert (await client.transaction([compare])).succeeded, compare


async def test_range_compare(client: etcd.Etcd3Client, prefix: bytes) -> None:
    await client.put(prefix + b"a", b"1")
    await client.put(prefix + b"b", b"1")
    every = Value(prefix + b"a", range_end=prefix + b"c") == b"1"
    assert (await client.transaction([every])).succeeded
    await client.put(prefix + b"b", b"2")
    assert not (await client.transaction([every])).succeeded


async def test_replace(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"k"
    assert not await client.replace(key, b"a", b"b")
    await client.put(key, b"a")
    assert await client.replace(key, b"a", b"b")
    assert not await client.replace(key, b"a", b"c")
    kv = await client.get(key)
    assert kv is not None and kv.value == b"b"


async def test_server_refusals(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"k"
    with pytest.raises(etcd.EtcdValueError, match="duplicate key"):
        await client.transaction([], [Op.put(key, b"1"), Op.put(key, b"2")])
    with pytest.raises(etcd.EtcdValueError, match="too many operations"):
        await client.transaction([], [Op.put(prefix + b"%d" % n, b"") for n in range(129)])


def test_compares_are_built_only_from_typed_operands() -> None:
    with pytest.raises(TypeError, match="Value"):
        _ = Value(b"k") == 5
    with pytest.raises(TypeError, match="ModRevision"):
        _ = ModRevision(b"k") == b"5"
    with pytest.raises(TypeError, match="Version"):
        _ = Version(b"k") > True
    with pytest.raises(etcd.EtcdValueError, match="key"):
        Version(b"")
    with pytest.raises(etcd.EtcdValueError, match="range_end"):
        Value(b"b", range_end=b"a")
    with pytest.raises(ValueError, match="mod_revision"):
        Compare(target=CompareTarget.MOD, key=b"k", version=3)  # the operand in another field
    with pytest.raises(ValueError, match="Extra inputs"):
        Compare(target=CompareTarget.MOD, key=b"k", mod=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="compare"):
        Op.txn([Op.get(b"k")])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="success"):
        Op.txn([], [Value(b"k") == b"v"])  # type: ignore[list-item]
    with pytest.raises(etcd.EtcdValueError, match="key"):
        Op.put(b"", b"v")


async def test_a_read_only_txn_is_repeatable_and_a_write_is_not(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    from aio_etcd._v3._kv import txn_request

    assert txn_request([], [Op.get(b"k")], [Op.txn([], [Op.get(b"j")])]).read_only
    assert not txn_request([], [Op.get(b"k")], [Op.txn([], [Op.delete(b"j")])]).read_only


async def test_a_read_only_txn_given_up_on_does_not_crash_etcd() -> None:
    """etcd 3.5.0 to 3.5.4 crash when a read-only txn is cut off while it runs
    (etcd-io/etcd#14110); 3.5.1 did so within ten such txns before they were let finish."""
    rounds = random.Random(14110)
    with LocalEtcd(enable_v2=False) as server:
        async with etcd.Etcd3Client(port=server.port) as client:
            await asyncio.gather(*(client.put(b"/big/%05d" % i, b"x" * 1000) for i in range(2000)))
            for round in range(60):
                if round % 2:
                    with pytest.raises(etcd.EtcdTimedOut):
                        await client.transaction([], [Op.get_prefix(b"/big/")], [], timeout=0.001)
                    continue
                reading = asyncio.ensure_future(
                    client.transaction([], [Op.get_prefix(b"/big/")], [])
                )
                await asyncio.sleep(rounds.uniform(0.0005, 0.01))
                reading.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reading
            await asyncio.sleep(0.2)
            assert server.running, server.log_path
            reply = await client.transaction([], [Op.get_prefix(b"/big/", count_only=True)], [])
            assert reply.responses[0].response_range is not None
            assert reply.responses[0].response_range.count == 2000
