"""Errors: recorded replies of every shape, served by a fake gateway on 127.0.0.1, and the
retry verdicts they get. Real etcd cannot produce these on demand (3.6 shapes, proxies'
HTML, cut streams, a leaderless cluster)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import aio_etcd as etcd
from aio_etcd.models.v3 import GatewayError, RangeRequest, RangeResponse
from aio_etcd.v3 import Etcd3Client

RECORDED = Path(__file__).parent / "recorded"


class FakeGateway:
    """Answers each request with the recorded reply of its path, sent in small pieces."""

    def __init__(self) -> None:
        self.port = 0
        self.routes: dict[str, str] = {}
        self.requests: list[tuple[str, bytes, dict[str, str]]] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {
                name.lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append((path, body, headers))
            reply = (RECORDED / self.routes[path]).read_bytes()
            for start in range(0, len(reply), 16):  # many small reads on the other side
                writer.write(reply[start : start + 16])
                await writer.drain()
                await asyncio.sleep(0)
        except (ConnectionError, asyncio.IncompleteReadError, KeyError):
            pass
        finally:
            writer.close()

    def client(self, read_timeout: float = 2) -> Etcd3Client:
        return Etcd3Client(port=self.port, read_timeout=read_timeout)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGateway]:
    fake = FakeGateway()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake


@pytest.mark.parametrize(
    ("recorded", "kind", "code", "status"),
    [
        ("unary-3.5-compacted.http", etcd.EtcdCompacted, 11, 400),
        ("unary-3.4-lease-not-found.http", etcd.EtcdLeaseNotFound, 5, 404),
        ("unary-3.6-user-not-found.http", etcd.EtcdUserNotFound, 9, 400),
        ("unary-3.6-no-space.http", etcd.EtcdNoSpace, 8, 429),
    ],
)
async def test_unary_error_shapes(
    fake: FakeGateway, recorded: str, kind: type[etcd.EtcdException], code: int, status: int
) -> None:
    fake.routes["/v3/kv/range"] = recorded
    async with fake.client() as client:
        with pytest.raises(kind) as caught:
            await client.get(b"k")
    payload = caught.value.payload
    assert isinstance(payload, GatewayError)
    assert (payload.code, payload.http_status, caught.value.status) == (code, status, status)
    assert payload.message.startswith("etcdserver: ")
    assert payload.message in str(caught.value)


async def test_plain_text_404_means_no_gateway(fake: FakeGateway) -> None:
    fake.routes["/v3/kv/range"] = "plain-404.http"
    async with fake.client() as client:
        with pytest.raises(etcd.EtcdAPIUnavailable, match="gateway is disabled") as caught:
            await client.get(b"k")
    assert caught.value.status == 404 and "etcd is older than 3.4" in str(caught.value)


@pytest.mark.parametrize("recorded", ["html-502.http", "truncated-200.http", "garbage-200.http"])
async def test_garbage_is_an_unexpected_response(fake: FakeGateway, recorded: str) -> None:
    fake.routes["/v3/kv/range"] = recorded
    fake.routes["/v3/kv/put"] = recorded
    async with fake.client() as client:
        with pytest.raises(etcd.EtcdException) as caught:
            await client.get(b"k")
        error = caught.value
        if recorded == "html-502.http":
            # A proxy's 5xx: a read is retried until its deadline, then says so.
            assert isinstance(error, etcd.EtcdUnexpectedResponse) and error.status == 502
            with pytest.raises(etcd.EtcdOutcomeUnknown):
                await client.put(b"k", b"v")  # a write behind a proxy's 502 may have passed
        else:
            assert isinstance(error, etcd.EtcdUnexpectedResponse) and error.status == 200
        assert error.__cause__ is None or not type(error.__cause__).__module__.startswith("json")


@pytest.mark.parametrize(
    ("recorded", "read", "write"),
    [
        (
            "unary-3.6-no-leader.http",
            etcd.EtcdLeaderElectionInProgress,
            etcd.EtcdLeaderElectionInProgress,
        ),
        ("unary-too-many-requests.http", etcd.EtcdTooManyRequests, etcd.EtcdTooManyRequests),
        ("unary-request-timed-out.http", etcd.EtcdRaftInternalError, etcd.EtcdOutcomeUnknown),
        ("unary-context-deadline.http", etcd.EtcdRaftInternalError, etcd.EtcdOutcomeUnknown),
    ],
)
async def test_retry_verdicts(
    fake: FakeGateway,
    recorded: str,
    read: type[etcd.EtcdException],
    write: type[etcd.EtcdException],
) -> None:
    fake.routes["/v3/kv/range"] = recorded
    fake.routes["/v3/kv/put"] = recorded
    async with fake.client(read_timeout=0.5) as client:
        with pytest.raises(read):
            await client.get(b"k")
        reads = len(fake.requests)
        assert reads > 1  # retried until the deadline
        with pytest.raises(write):
            await client.put(b"k", b"v")
        writes = len(fake.requests) - reads
        retried = write is not etcd.EtcdOutcomeUnknown  # never proposed: safe to repeat
        assert (writes > 1) is retried, writes


async def _stream_of(fake: FakeGateway, recorded: str) -> list[object]:
    """Every message of a recorded stream, then what ended it."""
    fake.routes["/v3/watch"] = recorded
    seen: list[object] = []
    async with fake.client() as client:
        gateway = client._gateway
        endpoint = f"http://127.0.0.1:{fake.port}"
        try:
            async with gateway.stream(
                endpoint, "watch", RangeRequest(key=b"k"), RangeResponse, timeout=2
            ) as stream:
                while (message := await stream.next()) is not None:
                    seen.append(message.header.revision)
                seen.append(None)
        except etcd.EtcdException as error:
            seen.append(error)
    return seen


async def test_stream_framing_and_the_35_stream_error(fake: FakeGateway) -> None:
    *revisions, error = await _stream_of(fake, "stream-3.5-no-leader.http")
    assert revisions == [7, 8, 9]  # split across lines, two on one line, an empty line
    assert isinstance(error, etcd.EtcdLeaderElectionInProgress)
    assert isinstance(error.payload, GatewayError)
    assert (error.payload.code, error.payload.http_status) == (14, 503)


async def test_the_36_stream_error(fake: FakeGateway) -> None:
    revision, error = await _stream_of(fake, "stream-3.6-compacted.http")
    assert revision == 7
    assert isinstance(error, etcd.EtcdCompacted) and isinstance(error.payload, GatewayError)
    assert error.payload.http_status == 400  # from the gRPC code: 3.6 sends no http_code


async def test_a_final_object_without_newline(fake: FakeGateway) -> None:
    assert await _stream_of(fake, "stream-final-object-without-newline.http") == [5, None]


async def test_a_stream_cut_mid_object(fake: FakeGateway) -> None:
    revision, error = await _stream_of(fake, "stream-cut-mid-object.http")
    assert revision == 5
    assert isinstance(error, etcd.EtcdConnectionFailed) and "inside a message" in str(error)


async def test_html_in_a_stream(fake: FakeGateway) -> None:
    (error,) = await _stream_of(fake, "stream-html.http")
    assert isinstance(error, etcd.EtcdUnexpectedResponse)


async def test_a_stream_refused_before_any_message(fake: FakeGateway) -> None:
    (error,) = await _stream_of(fake, "stream-503-before-any-message.http")
    assert isinstance(error, etcd.EtcdLeaderElectionInProgress) and error.status == 503


async def test_a_real_etcd_without_the_gateway() -> None:
    from aio_etcd._server import LocalEtcd

    with LocalEtcd(enable_v2=False, extra_args=("--enable-grpc-gateway=false",)) as server:
        async with Etcd3Client(port=server.port) as client:
            with pytest.raises(etcd.EtcdAPIUnavailable, match="gateway"):
                await client.get(b"k")


@pytest.mark.parametrize(
    ("status", "body", "kind", "code", "message"),
    [
        # 1: 3.4/3.5 unary; the string error when there is no message
        (
            400,
            b'{"error":"etcdserver: key is not provided","code":3}',
            etcd.EtcdValueError,
            3,
            "etcdserver: key is not provided",
        ),
        # 2: 3.6 unary, no "error" key
        (
            404,
            b'{"code":5,"message":"etcdserver: member not found","details":[]}',
            etcd.EtcdMemberNotFound,
            5,
            "etcdserver: member not found",
        ),
        # 3 and 4, when they come before any message (as the whole reply)
        (
            503,
            b'{"error":{"grpc_code":14,"message":"etcdserver: not leader"}}',
            etcd.EtcdLeaderElectionInProgress,
            14,
            "etcdserver: not leader",
        ),
        (
            401,
            b'{"error":{"code":16,"message":"etcdserver: invalid auth token","details":[]}}',
            etcd.EtcdInsufficientPermissions,
            16,
            "etcdserver: invalid auth token",
        ),
        # status is the truth; the code refines it; unknown messages fall back to the code
        (
            500,
            b'{"code":2,"message":"election: no leader"}',
            etcd.EtcdException,
            2,
            "election: no leader",
        ),
        (
            403,
            b'{"code":7,"message":"etcdserver: permission denied"}',
            etcd.EtcdInsufficientPermissions,
            7,
            "etcdserver: permission denied",
        ),
        (
            400,
            b'{"code":11,"message":"etcdserver: too large lease TTL"}',
            etcd.EtcdValueError,
            11,
            "etcdserver: too large lease TTL",
        ),
    ],
)
def test_every_error_shape_is_read(
    status: int, body: bytes, kind: type[etcd.EtcdException], code: int, message: str
) -> None:
    from aio_etcd._v3._errors import error_for_reply

    error = error_for_reply(status, body, "http://127.0.0.1:1/v3/kv/range")
    assert type(error) is kind
    assert isinstance(error.payload, GatewayError)
    assert (error.payload.code, error.payload.message, error.status) == (code, message, status)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (404, b"404 page not found\n", etcd.EtcdAPIUnavailable),
        (401, b"Unauthorized", etcd.EtcdInsufficientPermissions),
        (405, b"Method Not Allowed\n", etcd.EtcdUnexpectedResponse),
        (400, b'{"error":', etcd.EtcdUnexpectedResponse),
        (400, b"{}", etcd.EtcdUnexpectedResponse),
        (400, b'["a"]', etcd.EtcdUnexpectedResponse),
        (502, b"<html>bad gateway</html>", etcd.EtcdUnexpectedResponse),
    ],
)
def test_replies_that_are_not_gateway_errors(
    status: int, body: bytes, kind: type[etcd.EtcdException]
) -> None:
    from aio_etcd._v3._errors import error_for_reply

    error = error_for_reply(status, body, "http://127.0.0.1:1/v3/kv/range")
    assert type(error) is kind and error.status == status
