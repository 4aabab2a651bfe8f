"""Choosing the API: the argument is checked before any I/O, and a v2 client on a server
without v2 is told to pass api="v3"."""

from __future__ import annotations

import pytest

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd


@pytest.mark.parametrize("api", ["v4", "V3", "", None, 3])
def test_api_is_checked_before_any_io(api: object) -> None:
    with pytest.raises(etcd.EtcdValueError, match=r"^api must be 'v2' or 'v3'"):
        etcd.Client(port=1, api=api)  # type: ignore[arg-type]


async def test_a_v2_client_on_a_server_without_v2_is_told_to_pass_api_v3(
    etcd3_server: LocalEtcd, prefix: str
) -> None:
    async with etcd.Client(port=etcd3_server.port) as client:
        assert client.api == "v2"
        with pytest.raises(etcd.EtcdAPIUnavailable) as caught:
            await client.write(f"{prefix}/k", "v")
    message = str(caught.value)
    assert "serves no etcd v2 API" in message
    assert "--enable-v2=true, etcd 3.6 not at all" in message
    assert "pass api='v3'" in message and "separate store" in message


async def test_the_two_stores_are_separate(etcd_server: LocalEtcd, prefix: str) -> None:
    """On a server with both APIs, what api="v3" writes is not in the v2 store, and the
    other way round: nothing switches or mixes silently."""
    async with (
        etcd.Client(port=etcd_server.port, api="v3") as v3,
        etcd.Client(port=etcd_server.port) as v2,
    ):
        await v3.write(f"{prefix}/k", "v3 store")
        await v2.write(f"{prefix}/other", "v2 store")
        with pytest.raises(etcd.EtcdKeyNotFound):
            await v2.read(f"{prefix}/k")
        with pytest.raises(etcd.EtcdKeyNotFound):
            await v3.read(f"{prefix}/other")
        assert (await v3.read(f"{prefix}/k")).value == "v3 store"


async def test_member_ids_beyond_64_bits_are_refused(client: etcd.Client) -> None:
    with pytest.raises(etcd.EtcdValueError, match="64-bit"):
        await client.remove_member("1" + "0" * 16)
    with pytest.raises(etcd.EtcdKeyNotFound):
        await client.remove_member("123abc")
