"""A transport that records every request and answers each with one canned reply."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import aio_etcd as etcd
from aio_etcd._transport import HttpStream

CANNED = etcd.HttpResponse(
    200,
    {"X-Etcd-Index": "5"},
    b'{"action":"set","node":{"key":"/a","value":"v","modifiedIndex":5,"createdIndex":5}}',
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
        raise AssertionError(f"no streaming request expected: {method} {url}")

    async def aclose(self) -> None:
        self.closed = True
