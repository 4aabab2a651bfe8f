"""The seam between the client and HTTP.

Everything the client sends goes through :class:`Transport`, one method wide, so tests can
plug in a fake and another HTTP stack can be measured without touching the client.
:class:`AiohttpTransport` is the default; it is the only module that sees aiohttp's
exceptions, and it turns them into :class:`~aio_etcd.EtcdConnectionFailed` here.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from yarl import URL

from ._constants import CONNECT_TIMEOUT, USER_AGENT
from ._exceptions import EtcdConnectionFailed, EtcdTimedOut


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete HTTP reply."""

    status: int
    headers: Mapping[str, str]
    """Case-insensitive."""
    body: bytes


class Transport(Protocol):
    """Sends one HTTP request and returns the whole reply."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> HttpResponse:
        """Send ``method url`` (already percent-encoded) and read the reply.

        Raises :class:`~aio_etcd.EtcdTimedOut` when ``timeout`` (seconds, ``None`` for no
        limit) passes, and :class:`~aio_etcd.EtcdConnectionFailed` when the server cannot be
        reached or the connection breaks.
        """
        ...

    async def aclose(self) -> None:
        """Release every connection. The transport is not used afterwards."""
        ...


class AiohttpTransport:
    """The default transport: one pooled aiohttp session, opened on first use."""

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``session``: use this session and leave closing it to its owner."""
        self._session = session
        self._owns_session = session is None
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._timeouts: dict[float | None, aiohttp.ClientTimeout] = {}

    def _open(self) -> aiohttp.ClientSession:
        # Not in __init__: aiohttp wants a running loop, and building a client must not.
        # No connection limit: a watch holds its connection for as long as it waits, and a
        # limit would make the next call queue behind watches forever.
        connector = aiohttp.TCPConnector(limit=0, ssl=self._ssl)
        self._session = aiohttp.ClientSession(
            connector=connector, headers={"User-Agent": USER_AGENT}
        )
        return self._session

    def _timeout(self, seconds: float | None) -> aiohttp.ClientTimeout:
        cached = self._timeouts.get(seconds)
        if cached is None:
            connect = CONNECT_TIMEOUT if seconds is None else min(seconds, CONNECT_TIMEOUT)
            cached = aiohttp.ClientTimeout(total=seconds, sock_connect=connect)
            self._timeouts[seconds] = cached
        return cached

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> HttpResponse:
        session = self._session if self._session is not None else self._open()
        try:
            async with session.request(
                method,
                URL(url, encoded=True),
                data=body,
                headers=headers,
                timeout=self._timeout(timeout),
                allow_redirects=False,
            ) as response:
                return HttpResponse(response.status, response.headers, await response.read())
        except asyncio.TimeoutError as exc:
            raise EtcdTimedOut(
                f"{method} {origin(url)}: no reply within {timeout} s", cause=exc
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise EtcdConnectionFailed(
                f"{method} {origin(url)} failed: {exc!r}", cause=exc
            ) from exc

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and self._owns_session:
            await session.close()


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, for messages that should not repeat whole keys."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
