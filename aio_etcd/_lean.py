"""A lean HTTP/1.1 transport: asyncio protocols and httptools' parser, nothing else.

A prototype behind the :class:`~aio_etcd.Transport` seam, to measure how far aiohttp's
request path is from what the machine can do; ``docs/performance.md`` has the comparison.
It keeps connections alive per origin, speaks TLS through asyncio's ``ssl`` support and
streams chunked watch replies. It does not do proxies, redirects, compression, cookies,
HTTP/2, ``Expect: 100-continue`` or bodies that end with the connection, none of which etcd
needs. Needs ``httptools`` (``pip install 'aio_etcd[lean]'``).

It keeps :class:`~aio_etcd.AiohttpTransport`'s contract and shares its error translation and
time limits: OS and TLS errors travel as they are, to be translated where aiohttp's are.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from typing import cast
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict

from ._aio import Deadlines, bounded
from ._constants import CONNECT_TIMEOUT
from ._exceptions import EtcdValueError
from ._transport import HttpResponse, HttpStream, _translated, deadline, unreachable

KEEP_IDLE = 15.0
"""Seconds an idle connection is kept for reuse (as aiohttp's ``keepalive_timeout``)."""
STREAM_HIGH_WATER = 256 * 1024
"""Bytes of a stream read but not yet consumed at which reading from the socket pauses."""

Origin = tuple[str, str, int]
Pool = tuple[bool, Origin]
"""Where an idle connection may be reused: watches (long polls) keep to their own."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection; parses one reply at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.failure: OSError | None = None
        """What broke the connection; raised to whoever waits for more of a reply."""
        self._waiter: asyncio.Future[None] | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._paused = False
        self.streaming = False
        """Read as a stream: only then may reading pause, for a reader slower than the server."""
        self.idle_since = 0.0
        self.reset()

    def reset(self) -> None:
        """Ready for the next reply."""
        self.headers: CIMultiDict[str] = CIMultiDict()
        self.body = bytearray()
        self.asked = False
        self.headed = False
        self.ended = False
        self.keep_alive = False

    # asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, though not always an asyncio.Transport: uvloop's are its own.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            failure = ConnectionError(f"not an HTTP reply: {exc}")
            failure.__cause__ = exc
            self.close(failure)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not isinstance(exc, OSError):  # ssl.SSLError is one: a TLS 1.3 alert comes here
            lost = ConnectionResetError("the server closed the connection")
            lost.__cause__ = exc
            exc = lost
        self._fail(exc)

    # httptools
    def on_message_begin(self) -> None:
        if self.ended or not self.asked:  # the parser turns this into an HttpParserError
            raise ConnectionError("a reply to no request")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        self.headed = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.body += body
        if self.streaming and len(self.body) > STREAM_HIGH_WATER and not self._paused:
            # A reader slower than the server (a busy watch): let TCP push back.
            assert self.transport is not None
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        self.ended = True
        self.keep_alive = bool(self._parser.should_keep_alive())  # only true in here
        self._wake()

    # use
    @property
    def status(self) -> int:
        return int(self._parser.get_status_code())

    @property
    def reusable(self) -> bool:
        return self.ended and self.keep_alive and not self.closed

    def consumed(self) -> None:
        """The reader took from :attr:`body`: read from the socket again once it is low."""
        if self._paused and len(self.body) <= STREAM_HIGH_WATER // 4 and self.transport:
            self._paused = False
            self.transport.resume_reading()

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.asked = True
        self.transport.write(data)

    async def progress(self) -> None:
        """Wait for more of the reply (headers, body, its end); raise what broke the
        connection. Callers check for what they wait for first: a reply may end just
        before the server closes the connection."""
        if self.failure is not None:
            raise self.failure
        if self._paused:  # waiting for more while the socket is paused would wait forever
            self._paused = False
            if self.transport is not None:
                self.transport.resume_reading()
        self._waiter = asyncio.get_running_loop().create_future()
        await self._waiter

    def close(self, reason: OSError | None = None) -> None:
        """Drop the connection at once: it is not reused, so a graceful close gains nothing."""
        self._fail(reason or ConnectionAbortedError("the connection was dropped"))
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, exc: OSError) -> None:
        if self.failure is None:
            self.failure = exc
        self._wake()


class LeanTransport:
    """The lean transport; use as ``Client(transport=LeanTransport())``.

    Like :class:`~aio_etcd.AiohttpTransport`, watches (long polls and streams) get
    connections of their own, outside ``per_host_pool_size``.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        per_host_pool_size: int | None = None,
    ) -> None:
        """
        Args:
            ssl_context: how to verify servers and present a client certificate.
            per_host_pool_size: at most this many connections per member for calls other
                than watches (more calls wait for a free one); ``None`` for no limit.
        """
        self._ssl = ssl_context
        self._per_host = per_host_pool_size or 0
        self._slots: dict[Origin, asyncio.Semaphore] = {}
        self._idle: dict[Pool, list[_Connection]] = {}
        self._busy: set[_Connection] = set()
        self._deadlines = Deadlines()
        self._closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
        long_poll: bool = False,
    ) -> HttpResponse:
        where, data = self._encode(method, url, body, headers)
        pool = (long_poll, where)
        with deadline(self._deadlines, method, url, timeout), _translated(method, url, timeout):
            async with self._slot(pool):
                connection = await self._exchange(pool, data, method, url, whole=True)
                reply = HttpResponse(connection.status, connection.headers, bytes(connection.body))
                self._release(pool, connection)
                return reply

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> AsyncIterator[HttpStream]:
        where, data = self._encode(method, url, body, headers)
        # The time limit is for the headers; a stream may then stay quiet forever.
        with deadline(self._deadlines, method, url, timeout), _translated(method, url, timeout):
            connection = await self._exchange((True, where), data, method, url, whole=False)
        try:
            yield _LeanStream(connection, method, url)
        finally:
            self._drop(connection)  # a stream is never reused

    async def aclose(self) -> None:
        self._closed = True
        # In-flight replies and streams end with this; nothing else would wake them.
        reason = ConnectionAbortedError("the client was closed")
        for connection in [*self._busy, *(c for idle in self._idle.values() for c in idle)]:
            connection.close(reason)
        self._idle.clear()
        self._busy.clear()

    def _encode(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str] | None
    ) -> tuple[Origin, bytes]:
        if self._closed:
            raise RuntimeError("this transport is closed")
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if any("\r" in line or "\n" in line for line in lines):
            # Would end the head early and smuggle in what follows: refuse, send nothing.
            raise EtcdValueError(f"a line break in the request line or a header of {method} {url}")
        if body is not None or method in ("PUT", "POST"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return (parts.scheme, host, port), head + (body or b"")

    def _slot(self, pool: Pool) -> AbstractAsyncContextManager[object]:
        long_poll, where = pool
        if long_poll or not self._per_host:
            return contextlib.nullcontext()
        slot = self._slots.get(where)
        if slot is None:
            slot = self._slots[where] = asyncio.Semaphore(self._per_host)
        return slot

    async def _exchange(
        self, pool: Pool, data: bytes, method: str, url: str, *, whole: bool
    ) -> _Connection:
        """Send ``data``; the busy connection once the reply's headers (or ``whole``
        reply) arrived. Dropped on any failure or cancellation: its state is unknown."""
        connection = self._take_idle(pool) or await self._open(pool[1], method, url)
        self._busy.add(connection)
        try:
            connection.send(data)
            while not (connection.ended if whole else connection.headed):
                await connection.progress()
        except BaseException:
            self._drop(connection)
            raise
        return connection

    def _take_idle(self, pool: Pool) -> _Connection | None:
        idle = self._idle.get(pool)
        if idle:
            self._expire(idle)
        while idle:
            connection = idle.pop()  # the most recently used: the least likely to be stale
            if not connection.closed:
                return connection
        return None

    def _release(self, pool: Pool, connection: _Connection) -> None:
        self._busy.discard(connection)
        if connection.reusable and not self._closed:
            connection.reset()
            connection.idle_since = time.monotonic()
            idle = self._idle.setdefault(pool, [])
            idle.append(connection)
            self._expire(idle)
        else:
            connection.close()

    @staticmethod
    def _expire(idle: list[_Connection]) -> None:
        """Close the connections idle for longer than :data:`KEEP_IDLE` (the oldest come
        first): servers and middleboxes drop idle connections silently, and a request sent
        on one that is gone may have to be reported as of unknown outcome."""
        too_old = time.monotonic() - KEEP_IDLE
        while idle and idle[0].idle_since < too_old:
            idle.pop(0).close()

    def _drop(self, connection: _Connection) -> None:
        self._busy.discard(connection)
        connection.close()

    async def _open(self, where: Origin, method: str, url: str) -> _Connection:
        scheme, host, port = where
        if scheme == "https" and self._ssl is None:
            self._ssl = ssl.create_default_context()
        try:
            _, connection = await bounded(
                asyncio.get_running_loop().create_connection(
                    _Connection, host, port, ssl=self._ssl if scheme == "https" else None
                ),
                CONNECT_TIMEOUT,
                discard=lambda opened: opened[0].abort(),
            )
        except asyncio.TimeoutError as exc:
            late = TimeoutError(f"no connection within {CONNECT_TIMEOUT} s")
            raise unreachable(method, url, late) from exc
        except OSError as exc:  # ssl.SSLError included
            raise unreachable(method, url, exc) from exc
        if self._closed:  # while it connected; nobody else would close it
            connection.close(ConnectionAbortedError("the client was closed"))
        if connection.failure is not None:  # before a byte of the request left
            raise unreachable(method, url, connection.failure)
        return connection


class _LeanStream:
    def __init__(self, connection: _Connection, method: str, url: str) -> None:
        connection.streaming = True
        self._connection = connection
        self.status = connection.status
        self.headers: Mapping[str, str] = connection.headers
        self._method = method
        self._url = url

    async def readline(self) -> bytes:
        connection, body = self._connection, self._connection.body
        with _translated(self._method, self._url, None):
            searched = 0
            while True:
                end = body.find(b"\n", searched)
                if end >= 0:
                    line = bytes(body[: end + 1])
                    del body[: end + 1]
                    connection.consumed()
                    return line
                if connection.ended:
                    line = bytes(body)
                    body.clear()
                    return line
                searched = len(body)
                await connection.progress()

    async def read(self) -> bytes:
        connection = self._connection
        with _translated(self._method, self._url, None):
            while not connection.ended:
                await connection.progress()
        return bytes(connection.body)
