"""The lean transport prototype speaks to a real etcd as the default one does, and keeps the
transport contract on a raw server that misbehaves on purpose.

``AIO_ETCD_TRANSPORT=lean ./scripts/test`` runs the rest of the suite on it too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import aio_etcd as etcd
from aio_etcd import _lean
from aio_etcd._lean import LeanTransport
from aio_etcd._server import LocalEtcd, free_port
from aio_etcd._transport import AiohttpTransport


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
    expected = LeanTransport if transport_under_test == "lean" else AiohttpTransport
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
}
"""What the server sends for each path; ``/cut`` then closes, ``/flood`` streams
:data:`FLOOD_LINES` lines as fast as the client takes them, any other path stalls."""
FLOOD_LINES = 40_000
FLOOD_LINE = b"x" * 99 + b"\n"


class Raw:
    """A keep-alive HTTP server for bodiless requests; counts its connections."""

    def __init__(self) -> None:
        self.port = 0
        self.accepted = 0
        self.open = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                await asyncio.sleep(0.05)  # concurrent requests overlap
                if path == "/flood":
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    for _ in range(FLOOD_LINES // 100):
                        chunk = FLOOD_LINE * 100
                        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        await writer.drain()  # blocks while the client has stopped reading
                    writer.write(b"0\r\n\r\n")
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
        return f"http://127.0.0.1:{self.port}{path}"

    async def all_closed(self) -> bool:
        for _ in range(200):
            if not self.open:
                return True
            await asyncio.sleep(0.01)
        return False


@pytest.fixture
async def raw() -> AsyncIterator[Raw]:
    raw = Raw()
    async with await asyncio.start_server(raw.handle, "127.0.0.1", 0) as server:
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
    monkeypatch.setattr(_lean, "KEEP_IDLE", 0.1)
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
            assert _lean.STREAM_HIGH_WATER < buffered < 2 * _lean.STREAM_HIGH_WATER
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
