"""A transport that records every request and answers each with one canned reply."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import aio_etcd as etcd
from aio_etcd._transport import HttpStream

CANNED = etcd.HttpResponse(
    200,
    {"X-Etcd-Index": "50"},
    # An index above any a test watches from: a watch drops events older than it asked for.
    b'{"action":"set","node":{"key":"/a","value":"v","modifiedIndex":50,"createdIndex":50}}',
)


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    body: bytes | None
    headers: Mapping[str, str] | None
    timeout: float | None
    long_poll: bool

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> dict[str, list[str]]:
        """The query string, decoded strictly: a malformed one fails the test."""
        query = urlsplit(self.url).query
        return parse_qs(query, keep_blank_values=True, strict_parsing=True) if query else {}

    @property
    def form(self) -> dict[str, list[str]]:
        """The body as an HTML form, decoded strictly."""
        assert self.body is not None
        text = self.body.decode("ascii")  # percent-encoded: nothing but ASCII
        return parse_qs(text, keep_blank_values=True, strict_parsing=True) if text else {}

    @property
    def content_type(self) -> str | None:
        headers = {name.lower(): value for name, value in (self.headers or {}).items()}
        return headers.get("content-type")


class RecordingTransport:
    """A :class:`aio_etcd.Transport` that records every request and sends nothing."""

    def __init__(self, reply: etcd.HttpResponse = CANNED) -> None:
        self.sent: list[Sent] = []
        self.reply = reply
        self.closed = False

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
        long_poll: bool = False,
    ) -> etcd.HttpResponse:
        self.sent.append(Sent(method, url, body, headers, timeout, long_poll))
        return self.reply

    def stream(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> AbstractAsyncContextManager[HttpStream]:
        self.sent.append(Sent(method, url, body, headers, timeout, True))
        return _canned_stream(self.reply)

    async def aclose(self) -> None:
        self.closed = True


class _StreamOf:
    """The canned reply, as a stream: all of it at once."""

    def __init__(self, reply: etcd.HttpResponse) -> None:
        self.status = reply.status
        # A watch's X-Etcd-Index is from before its event: leave the write reply's out.
        self.headers: Mapping[str, str] = {
            k: v for k, v in reply.headers.items() if k != "X-Etcd-Index"
        }
        self._body = reply.body

    async def readline(self) -> bytes:
        line, self._body = self._body, b""
        return line

    async def read(self) -> bytes:
        return await self.readline()


@asynccontextmanager
async def _canned_stream(reply: etcd.HttpResponse) -> AsyncIterator[HttpStream]:
    yield _StreamOf(reply)
