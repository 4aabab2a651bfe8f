"""The gateway against a real etcd with the v2 API off: requests, replies, streams, tokens."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalEtcd


async def test_put_then_get_round_trips_bytes(client: etcd.Etcd3Client, prefix: bytes) -> None:
    key = prefix + b"a"
    put = await client.put(key, b"\x00value\xff")
    assert put.header.revision > 0
    kv = await client.get(key)
    assert kv is not None
    assert (kv.key, kv.value, kv.version) == (key, b"\x00value\xff", 1)
    assert kv.create_revision == kv.mod_revision == put.header.revision
    assert await client.get(prefix + b"missing") is None


# -- auth tokens ---------------------------------------------------------------------------


def post(port: int, path: str, document: dict[str, object], token: str | None = None) -> object:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        headers = {"Authorization": token} if token else {}
        connection.request("POST", f"/v3/{path}", json.dumps(document), headers)
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 200, body
        return body
    finally:
        connection.close()


@pytest.fixture(scope="module")
def auth_server() -> Iterator[LocalEtcd]:
    """An etcd of its own with auth on (root/rootpw, and a user 'reader' with no roles)."""
    with LocalEtcd(enable_v2=False, extra_args=("--auth-token=simple",)) as server:
        post(server.port, "auth/user/add", {"name": "root", "password": "rootpw"})
        post(server.port, "auth/user/grant", {"user": "root", "role": "root"})
        post(server.port, "auth/user/add", {"name": "reader", "password": "pw"})
        post(server.port, "auth/enable", {})
        yield server


def token_of(client: etcd.Etcd3Client) -> str | None:
    return client._gateway.tokens.token


async def test_a_token_is_fetched_lazily_and_sent(auth_server: LocalEtcd) -> None:
    client = etcd.Etcd3Client(port=auth_server.port, username="root", password="rootpw")
    assert "rootpw" not in repr(client) and token_of(client) is None
    async with client:
        await client.put(b"/auth/k", b"v")
        token = token_of(client)
        assert token is not None and "rootpw" not in repr(client._gateway.tokens)
        kv = await client.get(b"/auth/k")
        assert kv is not None and kv.value == b"v"
        assert client._gateway.tokens.token == token  # reused


async def test_an_invalid_token_is_renewed_once(auth_server: LocalEtcd) -> None:
    async with etcd.Etcd3Client(
        port=auth_server.port, username="root", password="rootpw"
    ) as client:
        await client.get(b"/auth/k")
        client._gateway.tokens._token = "not-a-token.1"  # as an expired one looks
        await client.get(b"/auth/k")
        assert client._gateway.tokens.token not in (None, "not-a-token.1")


async def test_auth_errors(auth_server: LocalEtcd) -> None:
    async with etcd.Etcd3Client(port=auth_server.port) as anonymous:
        with pytest.raises(etcd.EtcdInsufficientPermissions, match="user name is empty"):
            await anonymous.get(b"/auth/k")
    async with etcd.Etcd3Client(port=auth_server.port, username="root", password="bad") as wrong:
        with pytest.raises(
            etcd.EtcdInsufficientPermissions, match="authentication failed"
        ) as caught:
            await wrong.get(b"/auth/k")
        assert "bad" not in str(caught.value).replace("authentication failed", "")
    async with etcd.Etcd3Client(port=auth_server.port, username="reader", password="pw") as reader:
        with pytest.raises(etcd.EtcdInsufficientPermissions, match="permission denied") as denied:
            await reader.get(b"/auth/k")
        assert denied.value.status == 403


async def test_the_token_is_dropped_when_auth_is_off(etcd3_server: LocalEtcd) -> None:
    async with etcd.Etcd3Client(port=etcd3_server.port, username="root", password="x") as client:
        await client.put(b"/auth-off/k", b"v")  # authenticate says "not enabled": no token
        assert client._gateway.tokens.token is None
        client._gateway.tokens._token = "stale.1"  # as after auth/disable
        await client.put(b"/auth-off/k", b"v")
        assert client._gateway.tokens.token is None
