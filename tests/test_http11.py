"""The default transport (``LeanTransport``, aio_etcd/_http11.py) speaks to a real etcd, keeps
the transport contract on a raw server that misbehaves on purpose, and does on both transports
what only a raw server can show (long lines, streamed bodies, IPv6 Host headers).

``AIO_ETCD_TRANSPORT=aiohttp ./scripts/test`` runs the rest of the suite on ``AiohttpTransport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest

import aio_etcd as etcd
from aio_etcd import AiohttpTransport, LeanTransport, _http11, _transport
from aio_etcd._server import LocalEtcd, free_port

from .test_cli import Ran, cli


@pytest.fixture
async def lean(etcd_server: LocalEtcd) -> AsyncIterator[etcd.Client]:
    async with etcd.Client(port=etcd_server.port, transport=LeanTransport()) as client:
        yield client


async def test_keys_errors_and_odd_keys(lean: etcd.Client, prefix: str) -> None:
    key = f"{prefix}/a b?c#d%e+f;g&h=ü"
    written = await lean.write(key, "v&x=1", ttl=30)
    assert written.new_key and written.etcd_index is not None
    assert (await lean.read(key)).value == "v&x=1"
    with pytest.raises(etcd.EtcdCompareFailed):
        await lean.write(key, "w", prevValue="other")
    with pytest.raises(etcd.EtcdKeyNotFound):
        await lean.read(f"{prefix}/missing")
    await lean.delete(key, prevValue="v&x=1")
    results = await asyncio.gather(*(lean.write(f"{prefix}/k{n}", n) for n in range(64)))
    assert len({r.modified_index for r in results}) == 64


async def test_values_of_several_mebibytes(lean: etcd.Client, prefix: str) -> None:
    value = "v" * 3 * 2**20  # sent in one write, read back in many reads
    await lean.write(f"{prefix}/big", value)
    assert (await lean.read(f"{prefix}/big")).value == value


async def test_watches_stream_and_time_out(lean: etcd.Client, prefix: str) -> None:
    start = (await lean.write(f"{prefix}/w", "0")).modified_index
    watching = asyncio.create_task(lean.watch(f"{prefix}/w", index=start + 1))
    await asyncio.sleep(0.1)
    await lean.write(f"{prefix}/w", "1")
    assert (await asyncio.wait_for(watching, 5)).value == "1"
    with pytest.raises(etcd.EtcdWatchTimedOut):
        await lean.watch(f"{prefix}/w", timeout=0.2)

    seen = []
    async with lean.watch_iter(prefix, recursive=True, index=start) as events:
        async for event in events:
            seen.append(event.value)
            if len(seen) == 2:
                break
    assert seen == ["0", "1"]


async def test_the_suite_runs_on_the_transport_it_was_asked_for(
    transport_under_test: str,
) -> None:
    async with etcd.Client(port=free_port(), per_host_pool_size=3) as client:
        backend: Any = client._backend
    expected = AiohttpTransport if transport_under_test == "aiohttp" else LeanTransport
    assert type(backend._transport) is expected
    assert backend._transport._per_host == 3


async def test_nothing_listening_and_close() -> None:
    async with etcd.Client(port=free_port(), transport=LeanTransport()) as client:
        with pytest.raises(etcd.EtcdConnectionFailed):
            await client.read("/")
    with pytest.raises(RuntimeError):
        await client.read("/")


# -- the contract, on a raw server ---------------------------------------------------------

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
REPLIES = {
    "/ok": OK,
    "/twice": OK + OK,  # the second reply answers no request
    "/cut": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nline1\n\r\n",
    "/bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    "/garbage": b"HTTP/1.1 2OO OK\r\n\r\n",
}
"""What the server sends for each path; ``/cut`` then closes, ``/flood`` streams
:data:`FLOOD_LINES` lines as fast as the client takes them, ``/echo`` streams the request's
body back as a line, ``/long/N`` streams a line of N bytes and a short one, any other path
stalls."""
FLOOD_LINES = 40_000
FLOOD_LINE = b"x" * 99 + b"\n"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class Raw:
    """A keep-alive HTTP server for bodiless requests; counts its connections."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.accepted = 0
        self.open = 0
        self.heads: list[bytes] = []
        """Every request's head, as received."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                path = head.split(b" ", 2)[1].decode()
                if path.startswith("http://"):  # asked as a proxy: the absolute form
                    path = "/" + path.split("/", 3)[3]
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.lower().split(b"\r\n")
                        if line.startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                await asyncio.sleep(0.05)  # concurrent requests overlap
                if path == "/flood":
                    writer.write(CHUNKED)
                    for _ in range(FLOOD_LINES // 100):
                        writer.write(chunk(FLOOD_LINE * 100))
                        await writer.drain()  # blocks while the client has stopped reading
                    writer.write(b"0\r\n\r\n")
                    continue
                if path == "/echo":
                    writer.write(CHUNKED + chunk(body + b"\n") + b"0\r\n\r\n")
                    continue
                if path.startswith("/long/"):
                    writer.write(CHUNKED)
                    left = int(path.removeprefix("/long/"))
                    while left:
                        part = min(left, 65536)
                        left -= part
                        writer.write(chunk(b"y" * part + (b"" if left else b"\n")))
                        await writer.drain()
                    writer.write(chunk(b"end\n") + b"0\r\n\r\n")
                    continue
                if path not in REPLIES:
                    await reader.read()  # until the client gives up
                    return
                writer.write(REPLIES[path])
                if path == "/cut":
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.open -= 1
            writer.close()

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    async def all_closed(self) -> bool:
        for _ in range(200):
            if not self.open:
                return True
            await asyncio.sleep(0.01)
        return False


@pytest.fixture
async def raw() -> AsyncIterator[Raw]:
    raw = Raw()
    async with await asyncio.start_server(raw.handle, raw.host, 0) as server:
        raw.port = server.sockets[0].getsockname()[1]
        yield raw


async def test_connections_are_kept_and_pooled_apart_from_long_polls(raw: Raw) -> None:
    transport = LeanTransport(per_host_pool_size=2)
    try:
        replies = await asyncio.gather(
            *(transport.request("GET", raw.url("/ok"), timeout=5) for _ in range(10))
        )
        assert {(r.status, r.body) for r in replies} == {(200, b"ok")}
        assert raw.accepted == 2  # the others waited for a free connection
        await asyncio.gather(
            *(transport.request("GET", raw.url("/ok"), timeout=5, long_poll=True) for _ in range(3))
        )
        assert raw.accepted == 5  # watches neither wait for nor take the pool's connections
        for _ in range(5):
            await transport.request("GET", raw.url("/ok"), timeout=5)
        assert raw.accepted == 5
    finally:
        await transport.aclose()
    assert await raw.all_closed()


async def test_a_reply_to_no_request_drops_the_connection(raw: Raw) -> None:
    transport = LeanTransport()
    try:
        assert (await transport.request("GET", raw.url("/twice"), timeout=5)).body == b"ok"
        assert (await transport.request("GET", raw.url("/ok"), timeout=5)).body == b"ok"
        assert raw.accepted == 2
    finally:
        await transport.aclose()


async def test_time_outs_and_cancellation_drop_the_connection(raw: Raw) -> None:
    transport = LeanTransport()
    try:
        with pytest.raises(etcd.EtcdTimedOut):
            await transport.request("PUT", raw.url("/stall"), body=b"v", timeout=0.2)
        with pytest.raises(etcd.EtcdTimedOut):
            async with transport.stream("GET", raw.url("/stall"), timeout=0.2):
                pass
        assert await raw.all_closed()
        stalled = asyncio.create_task(transport.request("GET", raw.url("/stall"), timeout=None))
        await asyncio.sleep(0.2)
        stalled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await stalled
        assert await raw.all_closed()
    finally:
        await transport.aclose()


async def test_a_stream_cut_short_raises(raw: Raw) -> None:
    transport = LeanTransport()
    try:
        async with transport.stream("GET", raw.url("/cut"), timeout=5) as stream:
            assert await stream.readline() == b"line1\n"
            with pytest.raises(etcd.EtcdConnectionFailed) as caught:
                await stream.readline()
            assert caught.value.sent
    finally:
        await transport.aclose()


async def test_close_ends_what_is_in_flight(raw: Raw) -> None:
    transport = LeanTransport()

    async def read_stream() -> bytes:
        async with transport.stream("GET", raw.url("/ok"), timeout=5) as stream:
            await stream.readline()
            return await stream.readline()  # the reply ended: b""

    assert await read_stream() == b""
    stalled = [
        asyncio.create_task(transport.request("GET", raw.url("/stall"), timeout=None)),
        asyncio.create_task(
            transport.request("GET", raw.url("/stall"), timeout=None, long_poll=True)
        ),
    ]
    await asyncio.sleep(0.2)
    await transport.aclose()
    for task in stalled:
        with pytest.raises(etcd.EtcdConnectionFailed):
            await asyncio.wait_for(task, 2)
    assert await raw.all_closed()
    with pytest.raises(RuntimeError):
        await transport.request("GET", raw.url("/ok"), timeout=5)


async def test_a_request_that_never_left_says_so() -> None:
    transport = LeanTransport()
    try:
        with pytest.raises(etcd.EtcdConnectionFailed) as caught:
            await transport.request("PUT", f"http://127.0.0.1:{free_port()}/k", timeout=5)
        assert not caught.value.sent
    finally:
        await transport.aclose()


async def test_idle_connections_expire(raw: Raw, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http11, "KEEP_IDLE", 0.1)
    transport = LeanTransport()
    try:
        await transport.request("GET", raw.url("/ok"), timeout=5)
        await transport.request("GET", raw.url("/ok"), timeout=5)
        assert raw.accepted == 1  # kept alive
        await asyncio.sleep(0.2)
        await transport.request("GET", raw.url("/ok"), timeout=5)
        assert raw.accepted == 2  # the idle one was not reused ...
        assert raw.open == 1  # ... and was closed
    finally:
        await transport.aclose()


async def test_a_slow_stream_reader_pauses_the_socket(raw: Raw) -> None:
    transport = LeanTransport()
    try:
        async with transport.stream("GET", raw.url("/flood"), timeout=5) as stream:
            assert await stream.readline() == FLOOD_LINE
            await asyncio.sleep(0.3)  # the server writes as fast as it can meanwhile
            buffered = len(stream._connection.body)  # type: ignore[attr-defined]
            assert _http11.STREAM_HIGH_WATER < buffered < 2 * _http11.STREAM_HIGH_WATER
            lines = 1
            while line := await stream.readline():
                assert line == FLOOD_LINE
                lines += 1
            assert lines == FLOOD_LINES  # nothing lost across pauses
    finally:
        await transport.aclose()


async def test_a_line_break_in_a_header_is_refused_before_sending(raw: Raw) -> None:
    transport = LeanTransport()
    try:
        with pytest.raises(etcd.EtcdValueError, match="line break"):
            await transport.request(
                "GET", raw.url("/ok"), headers={"X-A": "1\r\nX-B: 2"}, timeout=5
            )
        assert raw.accepted == 0
    finally:
        await transport.aclose()


# -- both transports ------------------------------------------------------------------------

MAKERS: dict[str, Callable[[], etcd.Transport]] = {
    "lean": LeanTransport,
    "aiohttp": AiohttpTransport,
}


@pytest.fixture(params=list(MAKERS))
async def transport(request: pytest.FixtureRequest) -> AsyncIterator[etcd.Transport]:
    made = MAKERS[request.param]()
    try:
        yield made
    finally:
        await made.aclose()


@pytest.mark.parametrize("length", [100, 5 * 2**20, _transport.MAX_LINE - 1])
async def test_lines_of_any_length_up_to_the_cap(
    raw: Raw, transport: etcd.Transport, length: int
) -> None:
    async with transport.stream("GET", raw.url(f"/long/{length}"), timeout=5) as stream:
        line = await stream.readline()
        assert len(line) == length + 1 and line.strip(b"y") == b"\n"
        assert await stream.readline() == b"end\n"
        assert await stream.readline() == b""


async def test_a_line_over_the_cap_is_an_unexpected_response(
    raw: Raw, transport: etcd.Transport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_transport, "MAX_LINE", 2**20)
    async with transport.stream("GET", raw.url(f"/long/{2**20 - 1}"), timeout=5) as stream:
        assert len(await stream.readline()) == 2**20  # newline included: just within
    async with transport.stream("GET", raw.url(f"/long/{2**20}"), timeout=5) as stream:
        with pytest.raises(etcd.EtcdUnexpectedResponse, match="longer than 1048576 bytes"):
            await stream.readline()
    await transport.aclose()
    assert await raw.all_closed()


async def test_a_stream_sends_a_body_with_its_length(raw: Raw, transport: etcd.Transport) -> None:
    body = b'{"key": "YQ==", "range_end": "Yg=="}'
    headers = {"Content-Type": "application/json"}
    opened = transport.stream("POST", raw.url("/echo"), body=body, headers=headers, timeout=5)
    async with opened as stream:
        assert stream.status == 200
        assert await stream.readline() == body + b"\n"
    head = raw.heads[-1].lower()
    assert head.startswith(b"post /echo http/1.1\r\n")
    assert b"\r\ncontent-length: %d\r\n" % len(body) in head


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


IPV6 = pytest.mark.skipif(
    not _ipv6_loopback(), reason="this machine has no IPv6 loopback address (::1)"
)


@pytest.mark.parametrize("path", ["/bad-chunk", "/garbage"])
async def test_no_parser_error_escapes(raw: Raw, path: str) -> None:
    transport = LeanTransport()
    try:
        with pytest.raises(etcd.EtcdConnectionFailed, match="not an HTTP reply") as caught:
            await transport.request("GET", raw.url(path), timeout=5)
        assert caught.value.sent
    finally:
        await transport.aclose()


def test_host_names_and_headers_that_are_not_ascii() -> None:
    transport = LeanTransport()
    where, data = transport._encode("GET", "http://bücher.example:2379/v2/keys/a", None, None)
    assert where == ("http", "bücher.example", 2379)
    assert b"\r\nHost: xn--bcher-kva.example:2379\r\n" in data
    with pytest.raises(etcd.EtcdValueError, match="latin-1"):
        transport._encode("GET", "http://127.0.0.1:2379/", None, {"X-A": "\u2603"})


def test_the_host_header_of_an_ipv6_endpoint() -> None:
    where, data = LeanTransport()._encode("GET", "http://[::1]:2379/v2/keys/a?x=1", None, None)
    assert where == ("http", "::1", 2379)
    assert data.startswith(b"GET /v2/keys/a?x=1 HTTP/1.1\r\nHost: [::1]:2379\r\n")


@IPV6
async def test_a_bracketed_host_on_ipv6_loopback(transport: etcd.Transport) -> None:
    raw = Raw()
    raw.host = "::1"
    async with await asyncio.start_server(raw.handle, "::1", 0) as server:
        raw.port = server.sockets[0].getsockname()[1]
        reply = await transport.request("GET", raw.url("/ok"), timeout=5)
        assert (reply.status, reply.body) == (200, b"ok")
        assert b"\r\nhost: [::1]:%d\r\n" % raw.port in raw.heads[0].lower()
        await transport.aclose()
        assert await raw.all_closed()


@pytest.fixture(scope="module")
def ipv6_etcd() -> Iterator[LocalEtcd]:
    """An etcd that listens on [::1] as well as on 127.0.0.1 (where it is checked)."""
    port = free_port()
    both = f"--listen-client-urls=http://127.0.0.1:{port},http://[::1]:{port}"
    with LocalEtcd(port=port, peer_port=free_port(), extra_args=(both,)) as server:
        yield server


HOSTS: dict[str, Callable[[int], dict[str, Any]]] = {
    "address": lambda port: {"host": "::1", "port": port},
    "bracketed": lambda port: {"host": "[::1]", "port": port},
    "pairs": lambda port: {"host": (("::1", port),)},
}


@IPV6
@pytest.mark.parametrize("spelling", list(HOSTS))
async def test_an_etcd_on_ipv6_loopback(
    ipv6_etcd: LocalEtcd, transport: etcd.Transport, spelling: str, prefix: str
) -> None:
    async with etcd.Client(**HOSTS[spelling](ipv6_etcd.port), transport=transport) as client:
        written = await client.write(f"{prefix}/k", "v6")
        assert (await client.read(f"{prefix}/k")).value == "v6"
        assert (await client.watch(f"{prefix}/k", index=written.modified_index)).value == "v6"
        async with client.watch_iter(f"{prefix}/k", index=written.modified_index) as events:
            async for event in events:
                assert event.value == "v6"
                break


# -- proxies --------------------------------------------------------------------------------

PROXY = "http://127.0.0.1:9"
"""Never connected to: the discard port of the loopback."""


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable from the person running the tests."""
    for base in ("http", "https", "all", "no"):
        monkeypatch.delenv(f"{base}_proxy", raising=False)
        monkeypatch.delenv(f"{base.upper()}_PROXY", raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)
    return monkeypatch


@pytest.mark.parametrize(
    ("env", "scheme", "host", "applies"),
    [
        ({}, "http", "etcd.example", None),
        ({"HTTP_PROXY": PROXY}, "http", "etcd.example", "HTTP_PROXY"),
        ({"http_proxy": PROXY}, "http", "etcd.example", "http_proxy"),
        ({"HTTP_PROXY": PROXY}, "https", "etcd.example", None),
        ({"HTTPS_PROXY": PROXY}, "https", "10.1.2.3", "HTTPS_PROXY"),
        ({"https_proxy": PROXY}, "https", "fd00::1", "https_proxy"),
        ({"ALL_PROXY": PROXY}, "https", "etcd.example", "ALL_PROXY"),
        ({"all_proxy": PROXY}, "http", "etcd.example", "all_proxy"),
        ({"HTTP_PROXY": PROXY, "NO_PROXY": "example"}, "http", "etcd.example", None),
        (
            {"HTTP_PROXY": PROXY, "no_proxy": "a.example, etcd.example"},
            "http",
            "etcd.example",
            None,
        ),
        ({"HTTP_PROXY": PROXY, "NO_PROXY": "other.example"}, "http", "etcd.example", "HTTP_PROXY"),
        ({"HTTP_PROXY": PROXY, "NO_PROXY": "*"}, "http", "etcd.example", None),
        ({"HTTP_PROXY": PROXY}, "http", "127.0.0.1", None),
        ({"ALL_PROXY": PROXY}, "http", "127.8.9.10", None),
        ({"HTTPS_PROXY": PROXY}, "https", "::1", None),
        ({"HTTP_PROXY": PROXY}, "http", "localhost", None),
    ],
)
def test_which_proxy_applies(
    environ: pytest.MonkeyPatch, env: dict[str, str], scheme: str, host: str, applies: str | None
) -> None:
    for name, value in env.items():
        environ.setenv(name, value)
    assert _http11.proxy_for(scheme, host) == applies


async def test_an_endpoint_behind_a_proxy_is_refused_before_anything_is_sent(
    environ: pytest.MonkeyPatch,
) -> None:
    environ.setenv("HTTPS_PROXY", PROXY)

    def no_lookup(*args: object, **kwargs: object) -> object:
        raise AssertionError("nothing may be looked up or sent")

    environ.setattr(socket, "getaddrinfo", no_lookup)
    advice = r"HTTPS_PROXY is set .*AiohttpTransport\(trust_env=True\)"
    client = etcd.Client(host="etcd.invalid", protocol="https", transport=LeanTransport())
    async with client:
        with pytest.raises(etcd.EtcdValueError, match=advice):
            await client.read("/k")
        with pytest.raises(etcd.EtcdValueError, match=advice):
            async with client.watch_iter("/k") as events:
                await events.__anext__()


async def test_loopback_endpoints_ignore_proxies(
    environ: pytest.MonkeyPatch, lean: etcd.Client, prefix: str
) -> None:
    environ.setenv("HTTP_PROXY", PROXY)
    environ.setenv("ALL_PROXY", PROXY)
    await lean.write(f"{prefix}/k", "direct")
    assert (await lean.read(f"{prefix}/k")).value == "direct"


class Proxy:
    """An HTTP proxy that takes every connection to the real etcd behind it, and keeps the
    first line of each (etcd's Go server takes a request in the proxy's absolute form)."""

    def __init__(self, etcd_port: int) -> None:
        self.etcd_port = etcd_port
        self.requests: list[bytes] = []
        self.url = ""
        self.handling: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handling.add(task)
        up_writer: asyncio.StreamWriter | None = None
        try:
            first = await reader.readline()
            self.requests.append(first.rstrip())
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.etcd_port)
            up_writer.write(first)

            async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()

            ways = [
                asyncio.ensure_future(pipe(reader, up_writer)),
                asyncio.ensure_future(pipe(up_reader, writer)),
            ]
            await asyncio.wait(ways, return_when=asyncio.FIRST_COMPLETED)
            for way in ways:
                way.cancel()
            await asyncio.gather(*ways, return_exceptions=True)
        except OSError:
            pass
        finally:
            for each in (writer, up_writer):
                if each is not None:
                    each.close()
                    with contextlib.suppress(OSError):
                        await each.wait_closed()
            self.handling.discard(task)


@pytest.fixture
async def proxy(etcd_server: LocalEtcd) -> AsyncIterator[Proxy]:
    proxy = Proxy(etcd_server.port)
    async with await asyncio.start_server(proxy.handle, "127.0.0.1", 0) as server:
        proxy.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        yield proxy
        if proxy.handling:  # connections the client closed a moment ago
            await asyncio.wait(proxy.handling, timeout=5)


async def test_the_proxy_recipe_goes_through_the_proxy(
    environ: pytest.MonkeyPatch, proxy: Proxy, prefix: str
) -> None:
    environ.setenv("HTTP_PROXY", proxy.url)
    transport = AiohttpTransport(trust_env=True)
    async with etcd.Client(host="etcd.invalid", transport=transport) as client:
        await client.write(f"{prefix}/k", "proxied")
        assert (await client.read(f"{prefix}/k")).value == "proxied"
    assert proxy.requests[0].startswith(b"PUT http://etcd.invalid:2379/v2/keys/t/")


async def test_the_command_line_goes_through_the_proxy(
    environ: pytest.MonkeyPatch, proxy: Proxy, etcd_client: etcd.Client, prefix: str
) -> None:
    await etcd_client.write(f"{prefix}/k", "proxied")
    env = {"HTTP_PROXY": proxy.url}
    ran = await asyncio.to_thread(cli, "get", f"{prefix}/k", endpoint="etcd.invalid:2379", env=env)
    assert ran == Ran(0, "proxied\n", "")
    assert proxy.requests == [f"GET http://etcd.invalid:2379/v2/keys{prefix}/k HTTP/1.1".encode()]


# -- the aiohttp transport with a session of one's own ---------------------------------------


async def test_an_injected_session_is_used_and_never_closed(
    etcd_server: LocalEtcd, prefix: str
) -> None:
    started: list[str] = []

    async def on_start(
        session: aiohttp.ClientSession, context: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        started.append(params.method)

    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(on_start)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        transport = AiohttpTransport(session=session)
        async with etcd.Client(port=etcd_server.port, transport=transport) as client:
            written = await client.write(f"{prefix}/k", "mine")
            assert (await client.read(f"{prefix}/k")).value == "mine"
            async with client.watch_iter(f"{prefix}/k", index=written.modified_index) as events:
                async for _ in events:
                    break
        assert started == ["PUT", "GET", "GET"]  # all of it through the session
        assert not session.closed
        async with session.get(f"{etcd_server.client_url}/version") as reply:
            assert reply.status == 200  # and its owner goes on using it


async def test_a_session_of_ones_own_takes_no_settings_of_ours() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(etcd.EtcdValueError, match="session"):
            AiohttpTransport(session=session, per_host_pool_size=2)
        with pytest.raises(etcd.EtcdValueError, match="session"):
            AiohttpTransport(session=session, ssl_context=ssl.create_default_context())
        with pytest.raises(etcd.EtcdValueError, match="session"):
            AiohttpTransport(session=session, trust_env=True)
