"""The gateway against a real etcd with the v2 API off: requests, replies, streams, tokens."""

from __future__ import annotations

import aio_etcd as etcd


async def test_put_then_get_round_trips_bytes(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"a"
    put = await client.put(key, b"\x00value\xff")
    assert put.header.revision > 0
    kv = await client.get(key)
    assert kv is not None
    assert (kv.key, kv.value, kv.version) == (key, b"\x00value\xff", 1)
    assert kv.create_revision == kv.mod_revision == put.header.revision
    assert await client.get(prefix + b"missing") is None
