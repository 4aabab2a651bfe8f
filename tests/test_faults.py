"""Replies a real etcd never sends, and servers that misbehave on the wire.

Each fault must raise an :class:`aio_etcd.EtcdException` subclass, with ``status`` set to the
HTTP status whenever a status line arrived; never a raw aiohttp, pydantic or json error, and
never hang. After each one the same client must still work for the next call.

Three kinds of server, all on 127.0.0.1:

* :class:`FakeEtcd`, an aiohttp.web app that sends canned replies, chosen by request path;
* :class:`WireServer`, a raw asyncio server for faults below HTTP (a stalled socket, a body
  cut short, bytes that are not HTTP);
* a real etcd started without the v2 API.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

import aio_etcd as etcd
from aio_etcd._retry import RetryPolicy
from aio_etcd._server import LocalEtcd, free_port

E = TypeVar("E", bound=etcd.EtcdException)

HANG_LIMIT = 5.0
"""Seconds after which a call that has not ended counts as hung."""

OK_KEY = "/ok"
OK_BODY = (
    b'{"action":"get","node":{"key":"/ok","value":"fine","modifiedIndex":7,"createdIndex":7}}\n'
)
OK_HEADERS = {
    "Content-Type": "application/json",
    "X-Etcd-Index": "7",
    "X-Raft-Index": "21",
    "X-Raft-Term": "2",
    "X-Etcd-Cluster-Id": "cdf818194e3a8c32",
}

HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n"
    + b"<!-- a padding line that nginx adds so that old browsers show this page -->\r\n" * 40
    + b"<!-- END-OF-PAGE -->\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class Canned:
    """One HTTP reply, sent as is."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class FakeEtcd:
    """An HTTP server that answers every request with the reply registered for its path."""

    def __init__(self) -> None:
        self.routes: dict[str, Canned] = {
            "/v2/keys" + OK_KEY: Canned(200, OK_BODY, OK_HEADERS),
        }
        self.hits: list[tuple[str, str]] = []
        self.port = 0

    def reply(self, path: str, canned: Canned) -> None:
        self.routes[path] = canned

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append((request.method, request.path))
        canned = self.routes.get(request.path)
        if canned is None:
            return web.Response(status=599, text=f"no canned reply for {request.path}")
        return web.Response(status=canned.status, body=canned.body, headers=dict(canned.headers))


@pytest.fixture
async def fake() -> AsyncIterator[FakeEtcd]:
    fake = FakeEtcd()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    assert server.port is not None
    fake.port = server.port
    try:
        yield fake
    finally:
        await server.close()


READ_TIMEOUT = 0.5
"""The fake's clients may retry a read (e.g. after a 5xx) only this long."""


@pytest.fixture
async def client(fake: FakeEtcd) -> AsyncIterator[etcd.Client]:
    """A client of the fake server (this module's own ``client``, not a real etcd's)."""
    async with etcd.Client(port=fake.port, read_timeout=READ_TIMEOUT) as client:
        yield client


async def fails(call: Awaitable[object], kind: type[E]) -> E:
    """The exception ``call`` raises, which must be a ``kind``, within :data:`HANG_LIMIT`."""
    with pytest.raises(kind) as caught:
        # A hang raises asyncio's own TimeoutError here, which is no EtcdException.
        await asyncio.wait_for(call, HANG_LIMIT)
    return caught.value


async def still_works(client: etcd.Client) -> None:
    result = await asyncio.wait_for(client.read(OK_KEY), HANG_LIMIT)
    assert (result.action, result.key, result.value) == ("get", OK_KEY, "fine")
    assert result.etcd_index == 7


# -- replies with the wrong content --------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """A canned reply to a read, and the exception it must raise."""

    reply: Canned
    kind: type[etcd.EtcdException]


def _json(status: int, body: bytes) -> Canned:
    return Canned(status, body, {"Content-Type": "application/json"})


def _text(status: int, body: bytes) -> Canned:
    return Canned(status, body, {"Content-Type": "text/plain; charset=utf-8"})


NESTED = b'{"action":"get","node":' + b'{"nodes":[' * 3000 + b"{}" + b"]}" * 3000 + b"}"

FAULTS: dict[str, Fault] = {
    "html-502-from-a-proxy": Fault(
        Canned(502, HTML_502, {"Content-Type": "text/html"}), etcd.EtcdUnexpectedResponse
    ),
    "truncated-json": Fault(_json(200, OK_BODY[:40]), etcd.EtcdUnexpectedResponse),
    "not-json": Fault(_text(200, b"hello, this is not JSON"), etcd.EtcdUnexpectedResponse),
    "empty-200": Fault(_json(200, b""), etcd.EtcdUnexpectedResponse),
    "json-null": Fault(_json(200, b"null"), etcd.EtcdUnexpectedResponse),
    "json-list": Fault(
        _json(200, b'[{"action":"get","node":{"key":"/ok"}}]'), etcd.EtcdUnexpectedResponse
    ),
    "node-without-key-with-wrong-types": Fault(
        _json(
            200,
            b'{"action":"get","node":{"value":["not","text"],"dir":"sometimes",'
            b'"modifiedIndex":"seven","createdIndex":-1.5}}',
        ),
        etcd.EtcdUnexpectedResponse,
    ),
    "no-node": Fault(_json(200, b'{"action":"get"}'), etcd.EtcdUnexpectedResponse),
    "unknown-action": Fault(
        _json(200, b'{"action":"explode","node":{"key":"/ok","modifiedIndex":7}}'),
        etcd.EtcdUnexpectedResponse,
    ),
    "nested-too-deep": Fault(_json(200, NESTED), etcd.EtcdUnexpectedResponse),
    "not-utf8": Fault(
        _json(200, b'{"action":"get","node":{"key":"/\xff\xfe"}}'), etcd.EtcdUnexpectedResponse
    ),
    "empty-500": Fault(Canned(500), etcd.EtcdUnexpectedResponse),
    "error-json-with-a-text-errorCode": Fault(
        _json(500, b'{"errorCode":"oops","message":"broken"}'), etcd.EtcdUnexpectedResponse
    ),
    "plain-403": Fault(_text(403, b"Forbidden\n"), etcd.EtcdUnexpectedResponse),
    "plain-400-from-go": Fault(_text(400, b"400 Bad Request"), etcd.EtcdUnexpectedResponse),
    "plain-405-from-go": Fault(
        Canned(
            405,
            b"Method Not Allowed\n",
            {"Content-Type": "text/plain", "Allow": "HEAD,GET,PUT,POST,DELETE"},
        ),
        etcd.EtcdUnexpectedResponse,
    ),
    "plain-404-page-not-found": Fault(_text(404, b"404 page not found\n"), etcd.EtcdAPIUnavailable),
    "v2-error-key-not-found": Fault(
        _json(404, b'{"errorCode":100,"message":"Key not found","cause":"/gone","index":13}\n'),
        etcd.EtcdKeyNotFound,
    ),
    "v2-error-index-cleared": Fault(
        _json(
            400,
            b'{"errorCode":401,"message":"The event in requested index is outdated and '
            b'cleared","cause":"the requested history has been cleared [188/87]",'
            b'"index":1187}\n',
        ),
        etcd.EtcdEventIndexCleared,
    ),
    "v2-error-raft": Fault(
        _json(
            500,
            b'{"errorCode":300,"message":"Raft Internal Error",'
            b'"cause":"etcdserver: request timed out","index":0}\n',
        ),
        etcd.EtcdRaftInternalError,
    ),
    "herr-401": Fault(
        _json(401, b'{"message":"Insufficient credentials"}'), etcd.EtcdInsufficientPermissions
    ),
    "herr-403": Fault(_json(403, b'{"message":"not current leader"}'), etcd.EtcdException),
    "unknown-error-code-999": Fault(
        _json(500, b'{"errorCode":999,"message":"Mystery","cause":"/ok","index":42}\n'),
        etcd.EtcdException,
    ),
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_reply_etcd_never_sends_raises_a_typed_error(
    fake: FakeEtcd, client: etcd.Client, name: str
) -> None:
    fault = FAULTS[name]
    fake.reply(f"/v2/keys/{name}", fault.reply)

    error = await fails(client.read(name), etcd.EtcdException)

    assert type(error) is fault.kind, f"{name}: {error!r}"
    assert error.status == fault.reply.status
    assert str(error)
    await still_works(client)


async def test_a_proxy_page_is_quoted_from_its_start(fake: FakeEtcd, client: etcd.Client) -> None:
    fake.reply("/v2/keys/proxied", Canned(502, HTML_502, {"Content-Type": "text/html"}))

    error = await fails(client.read("/proxied"), etcd.EtcdUnexpectedResponse)

    assert error.status == 502
    assert "<html>" in str(error) and "502 Bad Gateway" in str(error)
    # The start of the page, not all of it.
    assert "END-OF-PAGE" not in str(error) and len(str(error)) < len(HTML_502)
    await still_works(client)


async def test_the_three_error_shapes_keep_what_etcd_said(
    fake: FakeEtcd, client: etcd.Client
) -> None:
    fake.reply("/v2/keys/v2", FAULTS["v2-error-key-not-found"].reply)
    fake.reply("/v2/keys/herr", FAULTS["herr-403"].reply)
    fake.reply("/v2/keys/text", FAULTS["plain-405-from-go"].reply)

    v2 = await fails(client.read("/v2"), etcd.EtcdKeyNotFound)
    assert v2.payload is not None
    assert (v2.payload.error_code, v2.payload.message, v2.payload.cause, v2.payload.index) == (
        100,
        "Key not found",
        "/gone",
        13,
    )
    assert v2.payload["errorCode"] == 100

    herr = await fails(client.read("/herr"), etcd.EtcdException)
    assert not isinstance(herr, etcd.EtcdUnexpectedResponse)
    assert herr.status == 403
    assert herr.payload is not None
    assert (herr.payload.error_code, herr.payload.message) == (None, "not current leader")
    assert "not current leader" in str(herr)

    text = await fails(client.read("/text"), etcd.EtcdUnexpectedResponse)
    assert text.status == 405
    assert "Method Not Allowed" in str(text)
    await still_works(client)


async def test_an_unknown_error_code_raises_the_base_class_with_its_payload(
    fake: FakeEtcd, client: etcd.Client
) -> None:
    fake.reply("/v2/keys/mystery", FAULTS["unknown-error-code-999"].reply)

    error = await fails(client.read("/mystery"), etcd.EtcdException)

    assert type(error) is etcd.EtcdException
    assert error.status == 500
    assert error.payload is not None
    assert (error.payload.error_code, error.payload.message) == (999, "Mystery")
    assert (error.payload.cause, error.payload.index) == ("/ok", 42)
    assert "Mystery" in str(error) and "999" in str(error)
    await still_works(client)


async def test_a_plain_text_401_means_insufficient_permissions(
    fake: FakeEtcd, client: etcd.Client
) -> None:
    """A proxy's ``401 Unauthorized``: HTTP 401 means EtcdInsufficientPermissions, whatever
    the body."""
    fake.reply("/v2/keys/locked", _text(401, b"401 Unauthorized\n"))

    error = await fails(client.read("/locked"), etcd.EtcdException)

    assert isinstance(error, etcd.EtcdInsufficientPermissions), repr(error)
    assert error.status == 401
    assert "401 Unauthorized" in str(error)
    await still_works(client)


async def test_a_404_page_not_found_says_to_enable_v2(fake: FakeEtcd, client: etcd.Client) -> None:
    fake.reply("/v2/keys/nov2", FAULTS["plain-404-page-not-found"].reply)

    error = await fails(client.read("/nov2"), etcd.EtcdAPIUnavailable)

    assert error.status == 404
    assert "--enable-v2" in str(error)
    await still_works(client)


@pytest.mark.parametrize("header", ["X-Etcd-Index", "X-Raft-Index", "X-Raft-Term"])
async def test_a_non_numeric_index_header(fake: FakeEtcd, client: etcd.Client, header: str) -> None:
    fake.reply("/v2/keys/headers", Canned(200, OK_BODY, {**OK_HEADERS, header: "twelve"}))

    error = await fails(client.read("/headers"), etcd.EtcdUnexpectedResponse)

    assert error.status == 200
    assert "index" in str(error).lower()
    await still_works(client)


@pytest.mark.parametrize("method", ["read", "write", "delete"])
async def test_a_redirect_is_not_followed(fake: FakeEtcd, client: etcd.Client, method: str) -> None:
    fake.reply(
        "/v2/keys/moved",
        Canned(
            307,
            b'<a href="/v2/keys/elsewhere">Temporary Redirect</a>.\n',
            {"Location": "/v2/keys/elsewhere"},
        ),
    )
    fake.reply("/v2/keys/elsewhere", Canned(200, OK_BODY, OK_HEADERS))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "read": lambda: client.read("/moved"),
        "write": lambda: client.write("/moved", "v"),
        "delete": lambda: client.delete("/moved"),
    }

    error = await fails(calls[method](), etcd.EtcdException)

    assert error.status == 307
    paths = [path for _, path in fake.hits]
    assert paths.count("/v2/keys/moved") == 1 and "/v2/keys/elsewhere" not in paths, paths
    await still_works(client)


@pytest.mark.parametrize("method", ["read", "write", "append", "delete", "watch", "refresh"])
async def test_every_keys_call_survives_a_proxy_page(
    fake: FakeEtcd, client: etcd.Client, method: str
) -> None:
    fake.reply("/v2/keys/proxied", Canned(502, HTML_502, {"Content-Type": "text/html"}))
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "read": lambda: client.read("/proxied"),
        "write": lambda: client.write("/proxied", "v"),
        "append": lambda: client.write("/proxied", "v", append=True),
        "delete": lambda: client.delete("/proxied"),
        "watch": lambda: client.watch("/proxied", timeout=READ_TIMEOUT),
        "refresh": lambda: client.refresh("/proxied", 10),
    }

    error = await fails(calls[method](), etcd.EtcdException)

    assert error.status == 502
    await still_works(client)


# -- the cluster endpoints -------------------------------------------------------------------


async def test_version_with_a_proxy_page_or_the_wrong_json(
    fake: FakeEtcd, client: etcd.Client
) -> None:
    fake.reply("/version", Canned(502, HTML_502, {"Content-Type": "text/html"}))
    error = await fails(client.version(), etcd.EtcdUnexpectedResponse)
    assert error.status == 502

    fake.reply("/version", _json(200, b'{"etcdserver":3.5}'))
    error = await fails(client.version(), etcd.EtcdUnexpectedResponse)
    assert error.status == 200

    fake.reply("/version", _json(200, b'{"etcdserver":"3.5.1","etcdcluster":"3.5.0"}'))
    assert await asyncio.wait_for(client.version(), HANG_LIMIT) == "3.5.1"


async def test_leader_during_an_election(fake: FakeEtcd, client: etcd.Client) -> None:
    fake.reply("/v2/members/leader", _json(503, b'{"message":"During election"}'))

    error = await fails(client.leader(), etcd.EtcdException)

    assert not isinstance(error, etcd.EtcdUnexpectedResponse)
    assert error.status == 503
    assert "During election" in str(error)
    await still_works(client)


async def test_machines_without_the_v2_api(fake: FakeEtcd, client: etcd.Client) -> None:
    fake.reply("/v2/machines", FAULTS["plain-404-page-not-found"].reply)

    error = await fails(client.machines(), etcd.EtcdAPIUnavailable)

    assert error.status == 404 and "--enable-v2" in str(error)
    await still_works(client)


async def test_machines_refuses_a_page_that_lists_no_urls(
    fake: FakeEtcd, client: etcd.Client
) -> None:
    """A proxy's HTML page with status 200 is not a list of client URLs (failover would
    take it for one)."""
    fake.reply(
        "/v2/machines",
        Canned(200, b"<html><body>Welcome to nginx!</body></html>", {"Content-Type": "text/html"}),
    )

    error = await fails(client.machines(), etcd.EtcdException)

    assert isinstance(error, etcd.EtcdUnexpectedResponse), repr(error)
    assert error.status == 200
    fake.reply("/v2/machines", _text(200, b"http://127.0.0.1:2379, http://127.0.0.1:22379"))
    assert await asyncio.wait_for(client.machines(), HANG_LIMIT) == [
        "http://127.0.0.1:2379",
        "http://127.0.0.1:22379",
    ]


# -- faults below HTTP ---------------------------------------------------------------------

STALL = "/v2/keys/stall"
"""Accepted, read, never answered."""
HALF = "/v2/keys/half"
"""Headers promise 1000 bytes; 500 come, then the connection closes."""
CHUNKS_CUT = "/v2/keys/chunks-cut"
"""A chunked body that ends without its last chunk, as etcd's own watches do on shutdown."""
HANG_UP = "/v2/keys/hang-up"
"""Closed without a byte of reply."""
NOT_HTTP = "/v2/keys/not-http"
"""Bytes that are not an HTTP reply."""

_HALF_BODY = b'{"action":"get","node":{"key":"/half","value":"'.ljust(500, b"x")

WIRE_REPLIES: dict[str, bytes] = {
    HALF: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    + _HALF_BODY,
    CHUNKS_CUT: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n20\r\n" + OK_BODY[:32] + b"\r\n",
    HANG_UP: b"",
    NOT_HTTP: b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
}
WIRE_OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Etcd-Index: 7\r\n"
    b"Connection: close\r\nContent-Length: " + str(len(OK_BODY)).encode() + b"\r\n\r\n" + OK_BODY
)


class WireServer:
    """A raw TCP server that answers each request by its path, or not at all."""

    def __init__(self) -> None:
        self.port = 0
        self.paths: list[str] = []
        self._writers: set[asyncio.StreamWriter] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].split(b"?", 1)[0].decode()
            self.paths.append(path)
            if path == STALL:
                await reader.read()  # until the client gives up and closes
            else:
                writer.write(WIRE_REPLIES.get(path, WIRE_OK))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    def abort_all(self) -> None:
        for writer in list(self._writers):
            writer.close()

    @property
    def open_connections(self) -> int:
        return len(self._writers)


@pytest.fixture
async def wire() -> AsyncIterator[WireServer]:
    wire = WireServer()
    server = await asyncio.start_server(wire.handle, "127.0.0.1", 0)
    wire.port = server.sockets[0].getsockname()[1]
    try:
        yield wire
    finally:
        server.close()
        wire.abort_all()
        await server.wait_closed()
        for _ in range(100):
            if not wire.open_connections:
                break
            await asyncio.sleep(0.01)


async def timed_failure(call: Awaitable[object], kind: type[E]) -> tuple[E, float]:
    started = time.monotonic()
    error = await fails(call, kind)
    return error, time.monotonic() - started


async def test_a_stalled_server_times_a_read_out(wire: WireServer) -> None:
    async with etcd.Client(port=wire.port, read_timeout=0.3) as client:
        error, took = await timed_failure(client.read("/stall"), etcd.EtcdTimedOut)

        assert 0.25 <= took < 2.0, took
        assert isinstance(error, asyncio.TimeoutError)
        assert isinstance(error, etcd.EtcdConnectionFailed)
        assert not isinstance(error, etcd.EtcdWatchTimedOut)
        assert f"127.0.0.1:{wire.port}" in str(error)
        await still_works(client)


async def test_a_call_timeout_overrides_read_timeout(wire: WireServer) -> None:
    async with etcd.Client(port=wire.port, read_timeout=60) as client:
        _, took = await timed_failure(client.read("/stall", timeout=0.3), etcd.EtcdTimedOut)
        assert took < 2.0, took
        await still_works(client)


async def test_a_stalled_server_times_a_write_out(wire: WireServer) -> None:
    async with etcd.Client(port=wire.port, read_timeout=0.3) as client:
        # Whether the write was applied is unknown; either way the connection failed.
        _, took = await timed_failure(client.write("/stall", "v"), etcd.EtcdConnectionFailed)
        assert took < 2.0, took
        await still_works(client)


async def test_a_stalled_watch_with_a_timeout(wire: WireServer) -> None:
    async with etcd.Client(port=wire.port, read_timeout=60) as client:
        error, took = await timed_failure(
            client.watch("/stall", timeout=0.3), etcd.EtcdWatchTimedOut
        )

        assert 0.25 <= took < 2.0, took
        assert isinstance(error, asyncio.TimeoutError)
        await still_works(client)


@pytest.mark.parametrize("path", [HALF, CHUNKS_CUT, HANG_UP])
async def test_a_read_cut_short_is_a_broken_connection(wire: WireServer, path: str) -> None:
    key = path.removeprefix("/v2/keys")
    async with etcd.Client(port=wire.port, read_timeout=READ_TIMEOUT) as client:
        error, took = await timed_failure(client.read(key), etcd.EtcdConnectionFailed)

        # The connection broke; the server never went quiet, so this is no time-out.
        assert not isinstance(error, asyncio.TimeoutError)
        assert took < 2.0, took
        assert error.cause is not None
        assert f"127.0.0.1:{wire.port}" in str(error)
        assert path in wire.paths
        await still_works(client)


@pytest.mark.parametrize("path", [HALF, CHUNKS_CUT, HANG_UP])
async def test_a_write_cut_short_is_not_sent_again(wire: WireServer, path: str) -> None:
    """The write may have been applied: repeating it could apply it twice."""
    key = path.removeprefix("/v2/keys")
    async with etcd.Client(port=wire.port, read_timeout=5) as client:
        error, took = await timed_failure(
            client.write(key, "v", prevValue="old"), etcd.EtcdConnectionFailed
        )

        assert not isinstance(error, asyncio.TimeoutError)
        assert took < 2.0, took
        assert wire.paths.count(path) == 1, wire.paths
        await still_works(client)


async def test_bytes_that_are_not_http(wire: WireServer) -> None:
    async with etcd.Client(port=wire.port, read_timeout=READ_TIMEOUT) as client:
        error, took = await timed_failure(client.read("/not-http"), etcd.EtcdException)

        assert not isinstance(error, asyncio.TimeoutError)
        assert took < 2.0, took
        assert NOT_HTTP in wire.paths
        await still_works(client)


async def test_nothing_listening() -> None:
    port = free_port()
    async with etcd.Client(port=port, read_timeout=READ_TIMEOUT) as client:
        error, took = await timed_failure(client.read("/k"), etcd.EtcdConnectionFailed)

        assert f"127.0.0.1:{port}" in str(error)
        assert took < 2.0, took
        error = await fails(client.version(), etcd.EtcdConnectionFailed)
        assert f"127.0.0.1:{port}" in str(error)


# -- a real etcd without the v2 API -----------------------------------------------------------


@pytest.fixture(scope="module")
def etcd_without_v2() -> Iterator[LocalEtcd]:
    with LocalEtcd(enable_v2=False) as server:
        yield server


async def test_a_real_etcd_without_v2(etcd_without_v2: LocalEtcd) -> None:
    async with etcd.Client(port=etcd_without_v2.port, read_timeout=5) as client:
        error = await fails(client.read("/k"), etcd.EtcdAPIUnavailable)
        assert error.status == 404
        assert "--enable-v2" in str(error)

        error = await fails(client.write("/k", "v"), etcd.EtcdAPIUnavailable)
        assert "--enable-v2" in str(error)

        error = await fails(client.watch("/k", timeout=2), etcd.EtcdAPIUnavailable)
        assert "--enable-v2" in str(error)

        # The same client still talks to the server: /version does not need v2.
        version = await asyncio.wait_for(client.version(), HANG_LIMIT)
        assert version.startswith("3.")


# -- a member that answers, but not as etcd -------------------------------------------------

PROXY_PAGES = {
    "nginx-html-502": Canned(502, HTML_502, {"Content-Type": "text/html"}),
    "empty-500": Canned(500),
    "haproxy-503": Canned(
        503,
        b"<html><body><h1>503 Service Unavailable</h1>\n"
        b"No server is available to handle this request.\n</body></html>\n",
        {"Content-Type": "text/html", "Cache-Control": "no-cache"},
    ),
}


@pytest.mark.parametrize("page", list(PROXY_PAGES))
async def test_a_proxy_page_fails_a_read_at_once_not_at_the_deadline(
    fake: FakeEtcd, page: str
) -> None:
    fake.reply("/v2/keys/behind-a-proxy", PROXY_PAGES[page])
    async with etcd.Client(port=fake.port) as client:  # read_timeout: 60 s
        error, took = await timed_failure(client.read("/behind-a-proxy"), etcd.EtcdException)

    assert type(error) is etcd.EtcdUnexpectedResponse, repr(error)
    assert took < 2, took
    assert error.status == PROXY_PAGES[page].status
    assert f"HTTP {error.status}" in str(error)
    assert repr(PROXY_PAGES[page].body[:30])[2:-1] in str(error)


@pytest.mark.parametrize("page", list(PROXY_PAGES))
async def test_a_proxy_page_sends_calls_to_a_member_that_answers(
    fake: FakeEtcd, etcd_server: LocalEtcd, page: str, prefix: str
) -> None:
    for path in ("/v2/keys" + prefix, "/v2/machines"):
        fake.reply(path, PROXY_PAGES[page])
    hosts = (("127.0.0.1", fake.port), ("127.0.0.1", etcd_server.port))
    async with etcd.Client(host=hosts, use_proxies=True) as client:
        started = time.monotonic()
        # A set may be sent again: it ends in the same state whether the proxy passed it on.
        assert (await client.write(prefix, "through etcd")).value == "through etcd"
        assert (await client.read(prefix)).value == "through etcd"
        assert time.monotonic() - started < 2
        assert client.base_uri == etcd_server.client_url


async def test_etcd_s_own_errors_are_still_waited_out(fake: FakeEtcd) -> None:
    """ "No leader" comes from etcd itself: it may soon have one, so reads retry it until
    their deadline."""
    fake.reply("/v2/keys/leaderless", FAULTS["v2-error-raft"].reply)
    async with etcd.Client(port=fake.port, read_timeout=1.5) as client:
        error, took = await timed_failure(client.read("/leaderless"), etcd.EtcdRaftInternalError)
    assert 0.8 < took < 3, took
    assert error.status == 500
    assert len(fake.hits) > RetryPolicy().unreachable_rounds


# -- writes cut off mid-request, with a real etcd behind -------------------------------------


async def test_a_plain_set_cut_off_is_sent_again_and_nothing_else_is(
    wire: WireServer, etcd_server: LocalEtcd
) -> None:
    """The connection breaks after the write was sent. A plain set or a refresh ends in
    the same state applied once or twice, so it goes on to the next member; any other
    write says its outcome is unknown, and is not sent again."""
    hosts = (("127.0.0.1", wire.port), ("127.0.0.1", etcd_server.port))
    key = HANG_UP.removeprefix("/v2/keys")
    async with etcd.Client(host=hosts, use_proxies=True, read_timeout=5) as client:
        written = await client.write(key, "resent", ttl=60)
        assert written.value == "resent" and wire.paths.count(HANG_UP) == 1
    async with etcd.Client(host=hosts, use_proxies=True, read_timeout=5) as client:
        refreshed = await client.refresh(key, 30, prevValue="resent")
        assert (refreshed.value, refreshed.ttl) == ("resent", 30)
        assert wire.paths.count(HANG_UP) == 2
    one_shot_writes: dict[str, Callable[[etcd.Client], Awaitable[object]]] = {
        "compare-and-swap": lambda c: c.write(key, "new", prevValue="resent"),
        "prevIndex": lambda c: c.write(key, "new", prevIndex=written.modified_index),
        "update": lambda c: c.write(key, "new", prevExist=True),
        "create": lambda c: c.write(key, "new", prevExist=False),
        "append": lambda c: c.write(key, "new", append=True),
        "directory": lambda c: c.write(key, None, dir=True),
        "delete": lambda c: c.delete(key),
        "strict": lambda c: c.write(key, "new"),
    }
    for name, call in one_shot_writes.items():
        resend = name != "strict"
        async with etcd.Client(
            host=hosts, use_proxies=True, read_timeout=5, retry_unconditional_writes=resend
        ) as client:
            sent = len(wire.paths)
            error = await fails(call(client), etcd.EtcdOutcomeUnknown)
            assert isinstance(error.cause, etcd.EtcdConnectionFailed), name
            assert wire.paths[sent:] == [HANG_UP], name
            # Only the first member saw it: the value is still the resent one.
            assert (await client.read(key)).value == "resent", name
    async with etcd.Client(port=etcd_server.port) as cleanup:
        await cleanup.delete(key)
