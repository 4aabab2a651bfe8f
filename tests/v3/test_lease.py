"""Leases on a real etcd with the v2 API off: the calls, and a lease kept alive."""

from __future__ import annotations

import asyncio

import pytest

import aio_etcd as etcd


async def test_grant_info_keys_list_refresh_revoke(client: etcd.Etcd3Client, prefix: bytes) -> None:
    granted = await client.grant_lease(20)
    assert granted.id > 0 and granted.ttl == 20
    await client.put(prefix + b"a", b"1", lease=granted)
    await client.put(prefix + b"b", b"2", lease=granted.id)
    info = await client.get_lease_info(granted, keys=True)
    assert info.id == granted.id and info.granted_ttl == 20 and 0 < info.ttl <= 20
    assert sorted(info.keys) == [prefix + b"a", prefix + b"b"]
    assert (await client.get_lease_info(granted)).keys == []
    assert granted.id in await client.leases()
    refreshed = await client.refresh_lease(granted)
    assert refreshed.ttl == 20 and refreshed.id == granted.id
    await client.revoke_lease(granted)
    assert (await client.get_prefix(prefix)).count == 0  # its keys went with it
    gone = await client.get_lease_info(granted)
    assert gone.ttl == -1
    with pytest.raises(etcd.EtcdLeaseNotFound):
        await client.refresh_lease(granted)  # a keep-alive reply without a TTL
    with pytest.raises(etcd.EtcdLeaseNotFound) as caught:
        await client.revoke_lease(granted)
    assert caught.value.status == 404 and isinstance(caught.value, etcd.EtcdKeyNotFound)


async def test_grant_with_an_id(client: etcd.Etcd3Client) -> None:
    wanted = 0x7E57_0000 + (id(client) & 0xFFFF)
    granted = await client.grant_lease(10, id=wanted)
    assert granted.id == wanted
    with pytest.raises(etcd.EtcdAlreadyExist, match="lease already exists"):
        await client.grant_lease(10, id=wanted)
    await client.revoke_lease(wanted)


async def test_the_server_minimum_ttl(client: etcd.Etcd3Client) -> None:
    granted = await client.grant_lease(1)
    assert granted.ttl >= 1  # raised to the server's minimum when below it
    await client.revoke_lease(granted)


async def test_a_managed_lease_outlives_its_ttl_and_is_revoked_on_exit(
    client: etcd.Etcd3Client, prefix: bytes
) -> None:
    async with client.lease(2) as lease:
        assert lease.alive and lease.ttl >= 2
        await client.put(prefix + b"k", b"v", lease=lease)
        await asyncio.sleep(4.5)  # more than twice the TTL: only renewals keep it
        assert await client.get(prefix + b"k") is not None
        assert not lease.lost
        info = await client.get_lease_info(lease)
        assert info.ttl > 0
    assert (lease.alive, lease.lost) == (False, False)
    assert await client.get(prefix + b"k") is None  # revoked on exit
    await asyncio.wait_for(lease.wait_lost(), 1)  # revoked: held no more


async def test_a_lease_revoked_elsewhere_is_reported_lost(client: etcd.Etcd3Client) -> None:
    called: list[bool] = []
    async with client.lease(3) as lease:
        lease.on_lost(lambda: called.append(True))
        await client.revoke_lease(lease.id)
        await asyncio.wait_for(lease.wait_lost(), 5)  # found at the next renewal (~1 s)
        assert lease.lost and not lease.alive
        assert called == [True]
    assert called == [True]  # exiting a lost lease is no second loss


async def test_a_lease_that_cannot_be_renewed_is_lost_within_its_ttl(
    etcd3_server: object,
) -> None:
    from aio_etcd._server import LocalEtcd

    assert isinstance(etcd3_server, LocalEtcd)
    async with etcd.Etcd3Client(port=etcd3_server.port) as client:
        lease = await client.lease(2).grant()
        loop = asyncio.get_running_loop()
        started = loop.time()
        etcd3_server.pause()
        try:
            await asyncio.wait_for(lease.wait_lost(), 6)
        finally:
            etcd3_server.resume()
        assert lease.lost
        assert loop.time() - started <= 2.5  # the TTL after the last renewal sent
        await lease.revoke()  # safe after a loss


async def test_lease_arguments_fail_before_io(client: etcd.Etcd3Client) -> None:
    with pytest.raises(etcd.EtcdValueError, match="ttl"):
        client.lease(-1)
    with pytest.raises(TypeError, match="ttl"):
        client.lease(2.5)  # type: ignore[arg-type]
    with pytest.raises(etcd.EtcdValueError, match="id"):
        client.lease(5, id=0)
    lease = client.lease(5)
    with pytest.raises(RuntimeError, match="not granted"):
        _ = lease.id
    with pytest.raises(etcd.EtcdValueError, match="ttl"):
        await client.grant_lease(10_000_000_000)
    with pytest.raises(TypeError, match="lease"):
        await client.revoke_lease("12")  # type: ignore[arg-type]
    await lease.revoke()  # never granted: nothing to do
    await lease.wait_lost()
