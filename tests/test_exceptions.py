"""Every v2 error code etcd really sends, as a typed exception that keeps what etcd said."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import pytest

import aio_etcd as etcd
from aio_etcd._exceptions import error_for
from aio_etcd._server import LocalEtcd
from aio_etcd._v2 import _error
from aio_etcd.models import ErrorPayload


def check(error: etcd.EtcdException, code: int, status: int, message: str) -> None:
    assert error.payload is not None
    assert error.payload.error_code == code and error.payload["errorCode"] == code
    assert error.status == status
    assert error.payload.message == message
    text = str(error)
    assert f"errorCode {code}" in text and message in text and f"HTTP {status}" in text
    if error.payload.cause:
        assert error.payload.cause in text


E = TypeVar("E", bound=etcd.EtcdException)


async def fails(call: Awaitable[object], expected: type[E]) -> E:
    with pytest.raises(expected) as caught:
        await call
    return caught.value


async def test_key_errors(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/file", "v")
    await client.write(f"{prefix}/dir/child", "v")

    missing = await fails(client.read(f"{prefix}/missing/deeper"), etcd.EtcdKeyNotFound)
    check(missing, 100, 404, "Key not found")
    assert isinstance(missing, etcd.EtcdKeyError)
    assert missing.payload is not None and missing.payload.cause == f"{prefix}/missing"

    not_file = await fails(client.write(f"{prefix}/dir", "v"), etcd.EtcdNotFile)
    check(not_file, 102, 403, "Not a file")

    not_dir = await fails(client.write(f"{prefix}/file/below", "v"), etcd.EtcdNotDir)
    check(not_dir, 104, 400, "Not a directory")

    exists = await fails(
        client.write(f"{prefix}/file", "v", prevExist=False), etcd.EtcdAlreadyExist
    )
    check(exists, 105, 412, "Key already exists")

    root = await fails(client.write("/", None, dir=True), etcd.EtcdRootReadOnly)
    check(root, 107, 400, "Root is read only")


async def test_value_errors_are_value_errors(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/k", "current")
    compare = await fails(
        client.write(f"{prefix}/k", "new", prevValue="other"), etcd.EtcdCompareFailed
    )
    check(compare, 101, 412, "Compare failed")
    # Code written for python-etcd catches ValueError.
    assert issubclass(etcd.EtcdCompareFailed, ValueError)
    assert issubclass(etcd.EtcdDirNotEmpty, etcd.EtcdValueError)
    assert compare.payload is not None and "other != current" in (compare.payload.cause or "")

    await client.write(f"{prefix}/d/child", "v")
    not_empty = await fails(client.delete(f"{prefix}/d", dir=True), etcd.EtcdDirNotEmpty)
    check(not_empty, 108, 403, "Directory not empty")


async def test_a_cleared_index_is_reported_with_the_current_one(
    client: etcd.Client, prefix: str
) -> None:
    start = (await client.write(f"{prefix}/k", "0")).modified_index

    async def batch(first: int) -> None:
        for number in range(first, first + 50):
            await client.write(f"{prefix}/busy", number)

    await asyncio.gather(*(batch(n) for n in range(0, 1100, 50)))
    cleared = await fails(client.watch(f"{prefix}/k", index=start), etcd.EtcdEventIndexCleared)
    check(cleared, 401, 400, "The event in requested index is outdated and cleared")
    assert cleared.payload is not None and (cleared.payload.index or 0) >= start + 1100


async def test_a_directory_ttl_update(
    client: etcd.Client, prefix: str, etcd_version: tuple[int, ...]
) -> None:
    await client.write(f"{prefix}/d", None, dir=True, ttl=30)
    update = client.write(f"{prefix}/d", None, dir=True, ttl=60, prevExist=True)
    if etcd_version[:2] == (3, 5):
        # etcd-io/etcd#13589: 3.5 answers with errorCode 300 and changes nothing.
        error = await fails(update, etcd.EtcdRaftInternalError)
        check(error, 300, 500, "Raft Internal Error")
        assert error.payload is not None and "Not a file" in (error.payload.cause or "")
    else:
        assert (await update).ttl == 60


Raw = Callable[[str, str], Awaitable[etcd.EtcdException]]


@pytest.fixture
async def raw(etcd_server: LocalEtcd) -> Raw:
    """Sends what the client refuses to send, and turns etcd's answer into an exception."""

    async def send(method: str, path_and_query: str) -> etcd.EtcdException:
        url = f"{etcd_server.client_url}{path_and_query}"
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, url) as response,
        ):
            body = await response.read()
            return _error(etcd.HttpResponse(response.status, response.headers, body), url)

    return send


@pytest.mark.parametrize(
    ("method", "path", "code", "message"),
    [
        ("PUT", "/v2/keys/t/raw?value=v&prevValue=", 201, "PrevValue is Required in POST form"),
        (
            "PUT",
            "/v2/keys/t/raw?value=v&ttl=abc",
            202,
            "The given TTL in POST form is not a number",
        ),
        (
            "PUT",
            "/v2/keys/t/raw?value=v&prevIndex=x",
            203,
            "The given index in POST form is not a number",
        ),
        ("PUT", "/v2/keys/t/raw?value=v&wait=true", 209, "Invalid field"),
        ("PUT", "/v2/keys/t/raw?value=v&refresh=true&ttl=5", 211, "Value provided on refresh"),
        ("PUT", "/v2/keys/t/raw?refresh=true", 212, "A TTL must be provided on refresh"),
    ],
)
async def test_codes_only_a_raw_request_gets(
    raw: Raw, method: str, path: str, code: int, message: str
) -> None:
    error = await raw(method, path)
    assert type(error) is etcd.EtcdValueError
    check(error, code, 400, message)


def shaped(status: int, body: bytes) -> etcd.EtcdException:
    return _error(etcd.HttpResponse(status, {}, body), "http://127.0.0.1:2379/v2/keys/k")


def test_the_three_error_shapes() -> None:
    keys = shaped(404, b'{"errorCode":100,"message":"Key not found","cause":"/k","index":3}\n')
    assert type(keys) is etcd.EtcdKeyNotFound
    assert keys.payload is not None and keys.payload.index == 3

    herr = shaped(503, b'{"message":"During election"}')
    assert type(herr) is etcd.EtcdException and herr.status == 503
    assert herr.payload is not None and herr.payload.message == "During election"
    assert "During election" in str(herr)

    text = shaped(405, b"Method Not Allowed")
    assert isinstance(text, etcd.EtcdUnexpectedResponse) and text.status == 405
    assert "Method Not Allowed" in str(text)


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (110, etcd.EtcdInsufficientPermissions),
        (210, etcd.EtcdValueError),
        (300, etcd.EtcdRaftInternalError),
        (301, etcd.EtcdLeaderElectionInProgress),
        (400, etcd.EtcdWatcherCleared),
        (999, etcd.EtcdException),
    ],
)
def test_codes_a_single_server_does_not_produce(code: int, cls: type[etcd.EtcdException]) -> None:
    payload = ErrorPayload(error_code=code, message="said by etcd", cause="why", index=7)
    error = error_for(payload, 500)
    assert type(error) is cls
    assert error.payload is payload and error.status == 500
    assert str(error) == f"said by etcd: why (errorCode {code}, HTTP 500, index 7)"
