"""Failover of the v3 client on the plugin's 3-member cluster (v3 is served with v2 on)."""

from __future__ import annotations

import asyncio

import aio_etcd as etcd
from aio_etcd._server import LocalCluster


async def test_killing_the_member_in_use_under_16_writers_loses_no_acknowledged_write(
    etcd_cluster: LocalCluster, prefix: bytes
) -> None:
    async with etcd.Etcd3Client(host=etcd_cluster.hosts, read_timeout=20) as client:
        await client.put(prefix + b"warm", b"")
        acked: list[bytes] = []
        unknown: list[bytes] = []
        after_kill: list[bytes] = []
        killed = asyncio.Event()
        stop = asyncio.Event()

        async def writer(number: int) -> None:
            sequence = 0
            while not stop.is_set():
                key = prefix + b"%02d/%06d" % (number, sequence)
                sequence += 1
                try:
                    await client.put(key, b"v")
                except etcd.EtcdOutcomeUnknown:
                    unknown.append(key)
                    continue
                acked.append(key)
                if killed.is_set():
                    after_kill.append(key)

        writers = [asyncio.create_task(writer(n)) for n in range(16)]
        await asyncio.sleep(0.5)
        in_use = client._gateway.failover.pool.current
        victim = next(m for m in etcd_cluster.members if m.client_url == in_use)
        victim.kill()
        killed.set()
        await asyncio.sleep(3)
        stop.set()
        await asyncio.gather(*writers)  # any other error fails the test

        stored = await client.get_prefix(prefix, keys_only=True)
        keys = {kv.key for kv in stored.kvs}
        assert set(acked) <= keys, sorted(set(acked) - keys)[:5]
        assert len(after_kill) > 16, "the writers went on on the other members"
        assert client._gateway.failover.pool.current != in_use
        # An ambiguous write may or may not be there; it was reported, never repeated.
        assert len(unknown) <= 16
