"""Keys and ranges on a real etcd with the v2 API off."""

from __future__ import annotations

import asyncio
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aio_etcd as etcd
from aio_etcd._v3._args import prefix_end
from aio_etcd.v3 import SortOrder, SortTarget

from .._recording import RecordingTransport


async def fill(client: etcd.Etcd3Client, prefix: bytes, names: bytes) -> list[int]:
    revisions = []
    for name in names:
        reply = await client.put(prefix + bytes([name]), b"v" + bytes([name]))
        revisions.append(reply.header.revision)
    return revisions


async def test_prefix_and_range_end(client: etcd.Etcd3Client, prefix: bytes) -> None:
    await fill(client, prefix, b"abcd")
    await client.put(prefix[:-1] + b"0", b"outside")  # the byte after "/" in the prefix end
    found = await client.get_prefix(prefix)
    assert [kv.key for kv in found.kvs] == [prefix + bytes([n]) for n in b"abcd"]
    assert found.count == 4 and not found.more
    ranged = await client.get_range(prefix + b"b", prefix + b"d")
    assert [kv.value for kv in ranged.kvs] == [b"vb", b"vc"]
    open_ended = await client.get_range(prefix + b"c", b"\x00")
    assert [kv.key for kv in open_ended.kvs][:2] == [prefix + b"c", prefix + b"d"]


async def test_limit_sort_and_projection(client: etcd.Etcd3Client, prefix: bytes) -> None:
    await fill(client, prefix, b"abcd")
    page = await client.get_prefix(prefix, limit=2)
    assert len(page.kvs) == 2 and page.more and page.count == 4
    down = await client.get_prefix(prefix, sort_order="descend")
    assert [kv.key[-1:] for kv in down.kvs] == [b"d", b"c", b"b", b"a"]
    await client.put(prefix + b"a", b"z-last")
    by_mod = await client.get_prefix(prefix, sort_order=SortOrder.ASCEND, sort_target="mod")
    assert by_mod.kvs[-1].key == prefix + b"a"
    by_value = await client.get_prefix(prefix, sort_order="descend", sort_target=SortTarget.VALUE)
    assert by_value.kvs[0].value == b"z-last"
    keys = await client.get_prefix(prefix, keys_only=True)
    assert all(kv.value == b"" for kv in keys.kvs) and len(keys.kvs) == 4
    counted = await client.get_prefix(prefix, count_only=True)
    assert counted.count == 4 and counted.kvs == []
    local = await client.get_prefix(prefix, serializable=True)
    assert len(local.kvs) == 4


async def test_revision_filters(client: etcd.Etcd3Client, prefix: bytes) -> None:
    revs = await fill(client, prefix, b"abcd")
    await client.put(prefix + b"a", b"again")  # mod revision moves, create revision stays
    newest = await client.get(prefix + b"a")
    assert newest is not None
    mod = await client.get_prefix(prefix, min_mod_revision=revs[2])
    assert sorted(kv.key[-1:] for kv in mod.kvs) == [b"a", b"c", b"d"]
    assert mod.count == 4  # count ignores the filters (as etcd 3.4.23 and 3.5.1 behave)
    mod_max = await client.get_prefix(prefix, max_mod_revision=revs[1])
    assert [kv.key[-1:] for kv in mod_max.kvs] == [b"b"]
    created = await client.get_prefix(
        prefix, min_create_revision=revs[1], max_create_revision=revs[2]
    )
    assert [kv.key[-1:] for kv in created.kvs] == [b"b", b"c"]
    old = await client.get(prefix + b"a", revision=revs[0])
    assert old is not None and old.value == b"va"
    assert newest.mod_revision > revs[3]


async def test_future_revision(client: etcd.Etcd3Client, prefix: bytes) -> None:
    reply = await client.put(prefix + b"k", b"v")
    with pytest.raises(etcd.EtcdFutureRevision) as caught:
        await client.get(prefix + b"k", revision=reply.header.revision + 1000)
    assert caught.value.payload is not None and caught.value.status == 400


async def test_put_options(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"k"
    first = await client.put(key, b"one", prev_kv=True)
    assert first.prev_kv is None
    second = await client.put(key, b"two", prev_kv=True)
    assert second.prev_kv is not None and second.prev_kv.value == b"one"
    lease = await client.grant_lease(30)
    await client.put(key, b"three", lease=lease.id)
    kept = await client.put(key, b"four", ignore_lease=True)
    kv = await client.get(key)
    assert kv is not None and kv.lease == lease.id and kv.value == b"four"
    assert kept.header.revision == kv.mod_revision
    await client.put(key, b"", ignore_value=True, lease=lease)  # a new lease, same value
    kv = await client.get(key)
    assert kv is not None and kv.value == b"four" and kv.lease == lease.id
    await client.put(key, b"", ignore_value=True)  # without ignore_lease: detaches (§3.2)
    kv = await client.get(key)
    assert kv is not None and kv.lease == 0 and kv.value == b"four"
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.put(prefix + b"missing", b"", ignore_value=True)
    await client.revoke_lease(lease)
    with pytest.raises(etcd.EtcdLeaseNotFound) as caught:
        await client.put(key, b"x", lease=lease.id)
    assert caught.value.status == 404


async def test_empty_value_is_a_value(client: etcd.Etcd3Client, prefix: bytes) -> None:
    await client.put(prefix + b"empty", b"")
    kv = await client.get(prefix + b"empty")
    assert kv is not None and kv.value == b"" and kv.version == 1


async def test_delete_and_delete_range(client: etcd.Etcd3Client, prefix: bytes) -> None:
    await fill(client, prefix, b"abcd")
    one = await client.delete(prefix + b"a", prev_kv=True)
    assert one.deleted == 1 and [kv.value for kv in one.prev_kvs] == [b"va"]
    none = await client.delete(prefix + b"a")
    assert none.deleted == 0 and none.prev_kvs == []
    ranged = await client.delete_range(prefix + b"b", prefix + b"d", prev_kv=True)
    assert ranged.deleted == 2 and [kv.key[-1:] for kv in ranged.prev_kvs] == [b"b", b"c"]
    rest = await client.delete_prefix(prefix)
    assert rest.deleted == 1
    assert (await client.get_prefix(prefix)).count == 0


async def test_compaction(client: etcd.Etcd3Client, prefix: bytes) -> None:
    first = await client.put(prefix + b"k", b"1")
    second = await client.put(prefix + b"k", b"2")
    await client.compact(second.header.revision, physical=True)
    with pytest.raises(etcd.EtcdCompacted) as caught:
        await client.get(prefix + b"k", revision=first.header.revision)
    assert isinstance(caught.value, etcd.EtcdEventIndexCleared)
    with pytest.raises(etcd.EtcdCompacted):
        await client.compact(first.header.revision)
    kv = await client.get(prefix + b"k", revision=second.header.revision)
    assert kv is not None and kv.value == b"2"


def test_prefix_end() -> None:
    assert prefix_end(b"/a/") == b"/a0"
    assert prefix_end(b"a\xff") == b"b"
    assert prefix_end(b"a\xfe\xff\xff") == b"a\xff"
    assert prefix_end(b"\xff\xff") == b"\x00"


async def test_prefix_ending_in_0xff(client: etcd.Etcd3Client, prefix: bytes) -> None:
    inside = [prefix + b"\xff", prefix + b"\xff\x00", prefix + b"\xff\xff\xff"]
    for key in inside:
        await client.put(key, b"in")
    await client.put(prefix[:-1] + b"0", b"out")
    found = await client.get_prefix(prefix + b"\xff")
    assert [kv.key for kv in found.kvs] == inside


async def test_str_keys_are_utf8(client: etcd.Etcd3Client, prefix: bytes) -> None:
    text = prefix.decode() + "é"
    await client.put(text, "ü")
    kv = await client.get(text.encode())
    assert kv is not None and kv.key_text == text and kv.value_text == "ü"
    await client.put(prefix + b"raw", b"\xff")
    raw = await client.get(prefix + b"raw")
    assert raw is not None
    with pytest.raises(UnicodeDecodeError):
        _ = raw.value_text  # never replaced silently


async def test_nfc_and_nfd_are_two_keys(client: etcd.Etcd3Client, prefix: bytes) -> None:
    nfc = prefix.decode() + unicodedata.normalize("NFC", "é")
    nfd = prefix.decode() + unicodedata.normalize("NFD", "é")
    await client.put(nfc, b"nfc")
    await client.put(nfd, b"nfd")
    found = await client.get_prefix(prefix)
    assert {kv.key: kv.value for kv in found.kvs} == {nfc.encode(): b"nfc", nfd.encode(): b"nfd"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.binary(min_size=1, max_size=40), value=st.binary(max_size=200))
def test_odd_bytes_round_trip(etcd3_server: object, key: bytes, value: bytes) -> None:
    from aio_etcd._server import LocalEtcd

    assert isinstance(etcd3_server, LocalEtcd)

    async def run() -> None:
        async with etcd.Etcd3Client(port=etcd3_server.port) as client:
            full = b"/t3/odd/" + key
            await client.put(full, value)
            kv = await client.get(full)
            assert kv is not None and (kv.key, kv.value) == (full, value)
            found = await client.get_prefix(full)
            assert found.kvs[0].key == full
            await client.delete(full)

    asyncio.run(run())


async def test_invalid_arguments_fail_before_any_io() -> None:
    transport = RecordingTransport()
    client = etcd.Etcd3Client(transport=transport)
    cases: list[tuple[object, type[Exception], str]] = [
        (client.get(b""), etcd.EtcdValueError, "key"),
        (client.put(b"", b"v"), etcd.EtcdValueError, "key"),
        (client.put(1, b"v"), TypeError, "key"),  # type: ignore[arg-type]
        (client.put(b"k", 1), TypeError, "value"),  # type: ignore[arg-type]
        (client.get_range(b"b", b"a"), etcd.EtcdValueError, "range_end"),
        (client.get_range(b"b", b"b"), etcd.EtcdValueError, "range_end"),
        (client.get_prefix(b"p", limit=0), etcd.EtcdValueError, "limit"),
        (client.get_prefix(b"p", limit=True), TypeError, "limit"),
        (client.get_prefix(b"p", sort_order="up"), etcd.EtcdValueError, "sort_order"),  # type: ignore[arg-type]
        (client.get_prefix(b"p", sort_target=3), TypeError, "sort_target"),  # type: ignore[arg-type]
        (client.get_prefix(b"p", revision=-1), etcd.EtcdValueError, "revision"),
        (client.get_prefix(b"p", bogus=1), TypeError, "bogus"),  # type: ignore[call-arg]
        (client.put(b"k", b"v", lease=0), etcd.EtcdValueError, "lease"),
        (client.put(b"k", b"v", lease="1"), TypeError, "lease"),  # type: ignore[arg-type]
        (client.put(b"k", b"v", ignore_value=True), etcd.EtcdValueError, "ignore_value"),
        (client.put(b"k", b"v", prev_kv=1), TypeError, "prev_kv"),  # type: ignore[arg-type]
        (client.delete_prefix(b""), etcd.EtcdValueError, "prefix"),
        (client.compact(0), etcd.EtcdValueError, "revision"),
        (client.grant_lease(-5), etcd.EtcdValueError, "ttl"),
        (client.grant_lease(0), etcd.EtcdValueError, "ttl"),
        (client.get(b"k", timeout=-1), etcd.EtcdValueError, "timeout"),
        (client.get("\ud800"), etcd.EtcdValueError, "key"),
    ]
    for call, kind, name in cases:
        with pytest.raises(kind, match=name):
            await call  # type: ignore[misc]
    assert transport.sent == []
    await client.close()
    with pytest.raises(RuntimeError, match="closed"):
        await client.get(b"k")
    assert transport.closed
