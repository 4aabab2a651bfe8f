"""The seam between the client and HTTP.

Everything the client sends goes through :class:`Transport`, one method wide, so tests can
plug in a fake and another HTTP stack can be measured without touching the client.
:class:`AiohttpTransport` is the default; it is the only module that sees aiohttp's
exceptions, and it turns them into :class:`~aio_etcd.EtcdConnectionFailed` here.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from yarl import URL

from ._aio import Deadlines, bounded
from ._constants import CONNECT_TIMEOUT
from ._exceptions import EtcdConnectionFailed, EtcdException, EtcdTimedOut, EtcdTLSFailed


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete HTTP reply."""

    status: int
    headers: Mapping[str, str]
    """Case-insensitive."""
    body: bytes


class HttpStream(Protocol):
    """A reply read as it arrives (a streaming watch)."""

    status: int
    headers: Mapping[str, str]

    async def readline(self) -> bytes:
        """The next line, newline included; ``b""`` when the reply has ended.

        Raises :class:`~aio_etcd.EtcdConnectionFailed` when the connection breaks.
        """
        ...

    async def read(self) -> bytes:
        """The rest of the body (of an error reply)."""
        ...


class Transport(Protocol):
    """Sends one HTTP request and returns the whole reply, or streams it."""

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
        """Send ``method url`` (already percent-encoded) and read the reply.

        ``long_poll`` marks a request that may wait for minutes (a watch), so it must not
        take a connection that ordinary calls are queueing for.

        Raises :class:`~aio_etcd.EtcdTimedOut` when ``timeout`` (seconds, ``None`` for no
        limit) passes, and :class:`~aio_etcd.EtcdConnectionFailed` when the server cannot be
        reached (``sent=False``) or the connection breaks.
        """
        ...

    def stream(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> AbstractAsyncContextManager[HttpStream]:
        """Send ``method url`` (with ``body``, if given, and its Content-Length) and give
        the reply as soon as its headers arrive; reading has no time limit, ``timeout``
        bounds getting the headers. The connection is released when the context ends."""
        ...

    async def aclose(self) -> None:
        """Release every connection. The transport is not used afterwards."""
        ...


class AiohttpTransport:
    """The default transport: pooled aiohttp sessions, opened on first use.

    Watches get a session of their own with no connection limit: a watch holds its
    connection for as long as it waits, and must never make ordinary calls queue behind it.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        ssl_context: ssl.SSLContext | None = None,
        per_host_pool_size: int | None = None,
    ) -> None:
        """
        Args:
            session: use this session for every request and leave closing it to its owner.
            ssl_context: how to verify servers and present a client certificate.
            per_host_pool_size: at most this many connections per member for calls other
                than watches (more calls wait for a free one); ``None`` for no limit.
        """
        self._session = session
        self._long_poll_session = session
        self._owns_session = session is None
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._per_host = per_host_pool_size or 0
        # Requests keep to their timeouts through one shared timer (see Deadlines);
        # aiohttp only bounds connecting.
        self._connect_only = aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT)
        self._deadlines = Deadlines()
        self._reading: set[aiohttp.ClientResponse] = set()
        self._closed = False

    def _open(self, per_host: int) -> aiohttp.ClientSession:
        # Not in __init__: aiohttp wants a running loop, and building a client must not.
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=per_host, ssl=self._ssl)
        # aiohttp's own User-Agent: default headers would be merged into every request.
        session = aiohttp.ClientSession(connector=connector)
        # aiohttp silently sends a PUT or DELETE again when a kept-alive connection breaks;
        # for a compare-and-swap that may apply it twice. Retries are the client's policy.
        session._retry_connection = False
        return session

    def _session_for(self, long_poll: bool) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("this transport is closed")
        if long_poll:
            if self._long_poll_session is None:
                self._long_poll_session = self._open(0)
            return self._long_poll_session
        if self._session is None:
            self._session = self._open(self._per_host)
        return self._session

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
        session = self._session_for(long_poll)
        with deadline(self._deadlines, method, url, timeout), _translated(method, url, timeout):
            async with session.request(
                method,
                _parsed(url),
                data=_payload(body),
                headers=headers,
                timeout=self._connect_only,
                allow_redirects=False,
            ) as response:
                self._reading.add(response)
                try:
                    body = await response.read()
                finally:
                    self._reading.discard(response)
                return HttpResponse(response.status, response.headers, body)

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
        session = self._session_for(long_poll=True)
        with _translated(method, url, timeout):
            # The time limit is for the headers; a stream may then stay quiet forever.
            response = await bounded(
                session.request(
                    method,
                    URL(url, encoded=True),
                    data=_payload(body),
                    headers=headers,
                    timeout=self._connect_only,
                    allow_redirects=False,
                ),
                timeout,
                discard=aiohttp.ClientResponse.close,
            )
        async with response:
            self._reading.add(response)
            try:
                yield _AiohttpStream(response, method, url)
            finally:
                self._reading.discard(response)

    async def aclose(self) -> None:
        self._closed = True
        # Closing a session does not wake a read that waits on it (a watch): end those first.
        for response in list(self._reading):
            response.content.set_exception(aiohttp.ClientConnectionError("the client was closed"))
        sessions = {self._session, self._long_poll_session} - {None}
        self._session = self._long_poll_session = None
        if self._owns_session:
            for session in sessions:
                if session is not None:
                    await session.close()


@functools.lru_cache(maxsize=4096)
def _parsed(url: str) -> URL:
    # Programs ask for the same keys again and again; a URL is immutable, so share it.
    return URL(url, encoded=True)


class _AiohttpStream:
    def __init__(self, response: aiohttp.ClientResponse, method: str, url: str) -> None:
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers
        self._response = response
        self._method = method
        self._url = url
        self._buffer = bytearray()

    async def readline(self) -> bytes:
        # Split here, not with aiohttp's readline, which refuses lines over 128-512 KiB
        # (a watch event with a 1 MiB value is one line).
        buffer, searched = self._buffer, 0
        with _translated(self._method, self._url, None):
            while True:
                end = buffer.find(b"\n", searched)
                if end >= 0:
                    line = bytes(buffer[: end + 1])
                    del buffer[: end + 1]
                    return line
                searched = len(buffer)
                try:
                    data = await self._response.content.readany()
                except RuntimeError as exc:  # aiohttp's "Connection closed."
                    raise aiohttp.ClientConnectionError(str(exc)) from exc
                if not data:
                    line = bytes(buffer)
                    buffer.clear()
                    return line
                buffer += data

    async def read(self) -> bytes:
        with _translated(self._method, self._url, None):
            return await self._response.read()


_LARGE_BODY = 2**20


def _payload(body: bytes | None) -> bytes | io.BytesIO | None:
    # aiohttp warns (ResourceWarning) about bytes bodies over 1 MiB; a file object it streams.
    if body is not None and len(body) > _LARGE_BODY:
        return io.BytesIO(body)
    return body


class _translated:
    """aiohttp's and the OS's errors, as aio_etcd's.

    A class rather than a ``@contextmanager``: it wraps every request, and a generator
    context costs a few microseconds more.
    """

    __slots__ = ("_method", "_timeout", "_url")

    def __init__(self, method: str, url: str, timeout: float | None) -> None:
        self._method = method
        self._url = url
        self._timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        translated = _translation(exc, self._method, self._url, self._timeout)
        if translated is not None:
            raise translated from exc


def _translation(
    exc: Exception, method: str, url: str, timeout: float | None
) -> EtcdException | None:
    if isinstance(exc, aiohttp.ClientSSLError):
        return EtcdTLSFailed(f"{method} {origin(url)}: TLS failed: {exc}", cause=exc, sent=False)
    if isinstance(exc, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)):
        return unreachable(method, url, exc)
    if isinstance(exc, asyncio.TimeoutError):
        return EtcdTimedOut(f"{method} {origin(url)}: no reply within {timeout} s", cause=exc)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        if _tls_alert(exc):  # TLS 1.3: the server refuses a client certificate after the fact
            return EtcdTLSFailed(
                f"{method} {origin(url)}: TLS failed: {exc!r}", cause=exc, sent=False
            )
        return EtcdConnectionFailed(
            f"{method} {origin(url)} failed: {exc!r}", cause=exc, sent=not _unsent(exc)
        )
    return None


def unreachable(method: str, url: str, exc: BaseException) -> EtcdConnectionFailed:
    """A request that never left: no connection, or no TLS handshake."""
    if _tls_alert(exc):
        return EtcdTLSFailed(f"{method} {origin(url)}: TLS failed: {exc}", cause=exc, sent=False)
    return EtcdConnectionFailed(
        f"{method} {origin(url)}: cannot connect: {exc}", cause=exc, sent=False
    )


class deadline:
    """Holds the current task to ``timeout`` through ``deadlines``: the task is cancelled
    when it passes, and that cancellation leaves as :class:`~aio_etcd.EtcdTimedOut`."""

    __slots__ = ("_deadlines", "_method", "_task", "_timeout", "_url")

    def __init__(self, deadlines: Deadlines, method: str, url: str, timeout: float | None) -> None:
        self._deadlines = deadlines
        self._method = method
        self._url = url
        self._timeout = timeout
        self._task: asyncio.Task[object] | None = None

    def __enter__(self) -> None:
        if self._timeout is not None:
            self._task = asyncio.current_task()
            if self._task is not None:
                self._deadlines.add(self._task, self._timeout)

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: object
    ) -> None:
        task = self._task
        if task is None:
            return
        expired = self._deadlines.done(task)
        if expired and isinstance(exc, asyncio.CancelledError):
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None:
                uncancel()
            raise EtcdTimedOut(
                f"{self._method} {origin(self._url)}: no reply within {self._timeout} s",
                cause=exc,
            ) from None


def _tls_alert(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _unsent(exc: BaseException) -> bool:
    """Whether aiohttp failed while still writing the request: a server cannot act on a
    request whose body it did not get (seen when a kept-alive connection to a member that
    just died is reused)."""
    return isinstance(exc, aiohttp.ClientOSError) and str(exc.strerror).startswith(
        "Can not write request body"
    )


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, for messages that should not repeat whole keys."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
