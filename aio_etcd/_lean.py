"""A lean HTTP/1.1 transport: asyncio protocols and httptools' parser, nothing else.

A prototype behind the :class:`~aio_etcd.Transport` seam, to measure how far aiohttp's
request path is from what the machine can do; ``docs/performance.md`` has the comparison.
It keeps connections alive per origin, speaks TLS through asyncio's ``ssl`` support and
streams chunked watch replies. It does not do proxies, redirects, compression, cookies,
HTTP/2 or ``Expect: 100-continue``, none of which etcd needs. Needs ``httptools``
(``pip install 'aio_etcd[lean]'``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import AsyncIterator, Mapping
from urllib.parse import urlsplit

import httptools
from multidict import CIMultiDict

from ._aio import bounded
from ._constants import CONNECT_TIMEOUT
from ._exceptions import EtcdConnectionFailed, EtcdTimedOut, EtcdTLSFailed
from ._transport import HttpResponse, HttpStream, origin

Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One kept-alive connection; parses one reply at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._reset()

    def _reset(self) -> None:
        loop = asyncio.get_running_loop()
        self.headers: CIMultiDict[str] = CIMultiDict()
        self._name = b""
        self.head: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        self.body = bytearray()
        self._more: asyncio.Future[None] | None = None
        self.ended = False
        self.keep_alive = False

    # asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(EtcdConnectionFailed(f"not an HTTP reply: {exc}", cause=exc))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(EtcdConnectionFailed(f"the connection closed: {exc!r}", cause=exc))

    # httptools
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.add(name.decode("latin-1"), value.decode("latin-1"))

    def on_headers_complete(self) -> None:
        if not self.head.done():
            self.head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self.body += body
        self._wake()

    def on_message_complete(self) -> None:
        self.ended = True
        self.keep_alive = bool(self._parser.should_keep_alive())  # only true in here
        if not self.done.done():
            self.done.set_result(None)
        self._wake()

    # use
    @property
    def status(self) -> int:
        return int(self._parser.get_status_code())

    @property
    def reusable(self) -> bool:
        return self.ended and self.keep_alive and not self.closed

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    async def more(self) -> None:
        """Wait for more body, the end, or a failure."""
        self._more = asyncio.get_running_loop().create_future()
        await self._more

    def time_out(self) -> None:
        self._fail(asyncio.TimeoutError())

    def close(self, reason: BaseException | None = None) -> None:
        if reason is not None:
            self._fail(reason)
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _wake(self) -> None:
        if self._more is not None and not self._more.done():
            self._more.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        for future in (self.head, self.done, self._more):
            if future is not None and not future.done():
                future.set_exception(exc)
                future.exception()  # nobody may be waiting; that is fine


class LeanTransport:
    """The lean transport; use as ``Client(transport=LeanTransport())``."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._ssl = ssl_context
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._busy: set[_Connection] = set()
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
        connection = self._take_idle(where) or await self._open(where, timeout, url)
        # A timer on the reply's future: cheaper than a task per request.
        timer = (
            None
            if timeout is None
            else asyncio.get_running_loop().call_later(timeout, connection.time_out)
        )
        try:
            connection.send(data)
            await connection.done
            reply = HttpResponse(connection.status, connection.headers, bytes(connection.body))
        except asyncio.TimeoutError as exc:
            connection.close()
            raise EtcdTimedOut(
                f"{method} {origin(url)}: no reply within {timeout} s", cause=exc
            ) from exc
        except BaseException:
            connection.close()
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._busy.discard(connection)
        if connection.reusable:
            connection._reset()
            self._idle.setdefault(where, deque()).append(connection)
        else:
            connection.close()
        return reply

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> AsyncIterator[HttpStream]:
        where, data = self._encode(method, url, None, headers)
        connection = self._take_idle(where) or await self._open(where, timeout, url)
        try:
            connection.send(data)
            try:
                await bounded(connection.head, timeout)
            except asyncio.TimeoutError as exc:
                raise EtcdTimedOut(
                    f"{method} {origin(url)}: no reply within {timeout} s", cause=exc
                ) from exc
            yield _LeanStream(connection)
        finally:
            self._busy.discard(connection)
            connection.close()  # a stream is never reused

    async def aclose(self) -> None:
        self._closed = True
        reason = EtcdConnectionFailed("the client was closed")
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
        if body is not None or method in ("PUT", "POST"):
            lines.append(f"Content-Length: {len(body or b'')}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return (parts.scheme, host, port), head + (body or b"")

    def _take_idle(self, where: Origin) -> _Connection | None:
        idle = self._idle.get(where)
        while idle:
            connection = idle.pop()
            if not connection.closed:
                self._busy.add(connection)
                return connection
        return None

    async def _open(self, where: Origin, timeout: float | None, url: str) -> _Connection:
        try:
            return await bounded(self._connect(where), _connect_time(timeout))
        except asyncio.TimeoutError as exc:
            raise EtcdConnectionFailed(
                f"{origin(url)}: cannot connect in time", cause=exc, sent=False
            ) from exc

    async def _connect(self, where: Origin) -> _Connection:
        scheme, host, port = where
        context = (self._ssl or ssl.create_default_context()) if scheme == "https" else None
        url = f"{scheme}://{host}:{port}"
        try:
            _, connection = await asyncio.get_running_loop().create_connection(
                _Connection, host, port, ssl=context
            )
        except ssl.SSLError as exc:
            raise EtcdTLSFailed(f"{url}: TLS failed: {exc}", cause=exc, sent=False) from exc
        except OSError as exc:
            raise EtcdConnectionFailed(
                f"{url}: cannot connect: {exc}", cause=exc, sent=False
            ) from exc
        self._busy.add(connection)
        return connection


class _LeanStream:
    def __init__(self, connection: _Connection) -> None:
        self._connection = connection
        self.status = connection.status
        self.headers: Mapping[str, str] = connection.headers

    async def readline(self) -> bytes:
        connection = self._connection
        while True:
            end = connection.body.find(b"\n")
            if end >= 0:
                line = bytes(connection.body[: end + 1])
                del connection.body[: end + 1]
                return line
            if connection.ended or connection.closed:
                rest = bytes(connection.body)
                connection.body.clear()
                return rest
            try:
                await connection.more()
            except EtcdConnectionFailed:
                continue  # what arrived is still returned; then the end

    async def read(self) -> bytes:
        connection = self._connection
        while not (connection.ended or connection.closed):
            with contextlib.suppress(EtcdConnectionFailed):
                await connection.more()
        return bytes(connection.body)


def _connect_time(timeout: float | None) -> float:
    return CONNECT_TIMEOUT if timeout is None else min(timeout, CONNECT_TIMEOUT)
