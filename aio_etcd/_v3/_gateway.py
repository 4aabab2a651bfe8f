"""POST typed JSON to etcd's v3 gateway, and read typed replies: the one way to the wire.

Every call is ``POST <endpoint>/v3/<service>/<method>`` with a JSON body built from a
:class:`~aio_etcd.models.v3.V3Request` (as etcd 3.4.23 and 3.5.1 behave). A unary reply
is parsed once into the reply model; an error becomes the exception that ``_errors`` chooses.
Streamed replies (watch, keep-alive, snapshot, observe) are JSON objects one after another;
they are framed on object boundaries, never on chunks or newlines (§2.5: etcd 3.5 ends a stream
error without a newline, proxies split and join chunks).

A read-only transaction is never cut off mid-flight (see :data:`DRAIN`). The gateway carries
the auth token (``_auth.TokenManager``) and checks that every reply comes
from the cluster the client first talked to. Failover is :class:`~aio_etcd._retry.Failover`.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any, Generic, TypeVar

from pydantic import Field, ValidationError

from .._aio import bounded
from .._exceptions import EtcdConnectionFailed, EtcdTimedOut, EtcdUnexpectedResponse
from .._retry import Failover
from .._transport import HttpResponse, HttpStream, Transport, origin
from .._types import Timeout
from .._validate import timeout as check_timeout
from ..models import ErrorPayload
from ..models.v3._base import WIRE, V3Model, V3Request
from ..models.v3.auth import AuthenticateRequest, AuthenticateResponse
from ..models.v3.txn import TxnRequest
from ._auth import TokenManager
from ._errors import error_for_reply, error_for_stream, needs_new_token, unexpected

R = TypeVar("R", bound=V3Model)

_JSON = {"Content-Type": "application/json"}
MAX_MESSAGE = 256 * 2**20
"""Bytes a streamed message may grow to before the stream is refused as garbage. etcd sends
a watch message of several MiB as one object."""
DRAIN = 10.0
"""Seconds a read-only transaction whose caller gave up (timed out, or was cancelled) may
go on in the background before its connection is closed. etcd 3.5.0 to 3.5.4 crash (a
panic, "unexpected error during txn") when the context of a read-only transaction is
cancelled while it runs, and closing the connection under it cancels that context
(etcd-io/etcd#14110, fixed in 3.5.5 by etcd-io/etcd#14178)."""


class _Member(V3Model):
    client_urls: list[str] = Field(default_factory=list, alias="clientURLs")
    is_learner: bool = Field(False, alias="isLearner")


class _MemberURLs(V3Model):
    members: list[_Member] = Field(default_factory=list)


_Check = Callable[[V3Model], None]
"""Refuses a reply from another cluster."""


class Gateway:
    """Sends typed requests to etcd's JSON gateway through a :class:`~aio_etcd.Transport`."""

    def __init__(
        self,
        transport: Transport,
        failover: Failover,
        *,
        read_timeout: float | None,
        tokens: TokenManager,
    ) -> None:
        self.transport = transport
        self.failover = failover
        """The members and the retry policy."""
        self.read_timeout = read_timeout
        """The default time limit of a call, seconds (``None``: none)."""
        self.tokens = tokens
        self.closed = False
        """Set by :meth:`aclose`; every call is refused from then on."""
        self._draining: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Refuse further calls and release every connection (open streams end)."""
        if not self.closed:
            self.closed = True
            for task in self._draining:
                task.cancel()
            await asyncio.gather(*self._draining, return_exceptions=True)
            await self.transport.aclose()

    async def call(
        self,
        path: str,
        request: V3Request,
        reply: type[R],
        *,
        timeout: float | None,
        repeatable: bool,
    ) -> R:
        """POST ``request`` to ``/v3/<path>`` of a member, failing over as the policy says.

        Args:
            path: e.g. ``"kv/range"``.
            timeout: seconds for the whole call, retries included; ``None`` for no limit.
            repeatable: whether sending it twice is harmless (reads). A write that may have
                been applied is never repeated: it raises
                :class:`~aio_etcd.EtcdOutcomeUnknown`.

        Raises:
            EtcdException: the subclass ``_errors`` chooses for etcd's answer;
                :class:`~aio_etcd.EtcdUnexpectedResponse` for a reply etcd does not send;
                :class:`~aio_etcd.EtcdConnectionFailed` (``EtcdTimedOut``) when no member
                answered in time.
        """
        self._check_open()
        body, whole = request.wire(), _read_only(request)
        return await self.failover.run(
            lambda endpoint, seconds: self._send(endpoint, path, body, reply, seconds, whole),
            timeout=timeout,
            repeatable=repeatable,
        )

    async def call_on(
        self,
        endpoint: str,
        path: str,
        request: V3Request | bytes,
        reply: type[R],
        *,
        timeout: float | None,
        read_only: bool = False,
    ) -> R:
        """Like :meth:`call`, to ``endpoint`` (``http://host:port``) only: no failover.
        ``request`` may be its :meth:`~V3Request.wire` bytes, encoded once for many calls;
        then ``read_only`` says whether they are a read-only transaction."""
        self._check_open()
        if isinstance(request, bytes):
            return await self._send(endpoint, path, request, reply, timeout, read_only)
        return await self._send(endpoint, path, request.wire(), reply, timeout, _read_only(request))

    def stream(
        self,
        endpoint: str,
        path: str,
        request: V3Request,
        reply: type[R],
        *,
        timeout: float | None,
        headers: Mapping[str, str] | None = None,
    ) -> AbstractAsyncContextManager[GatewayStream[R]]:
        """POST ``request`` to ``/v3/<path>`` of ``endpoint`` and read the reply as a stream::

            async with gateway.stream(endpoint, "watch", request, WatchResponse,
                                      timeout=5) as stream:
                while (message := await stream.next()) is not None:
                    ...

        ``timeout`` (seconds) bounds getting the reply's headers, which grpc-gateway sends
        only with the first message: a stream with nothing to say (an election nobody
        leads) needs ``None``. Reading has no time limit. ``headers`` are sent as well (e.g.
        ``Grpc-Metadata-hasleader: true``). The connection is released when the context ends.

        Raises (on entering): the error etcd answered with, as :meth:`call`.
        """
        self._check_open()
        return self._stream(endpoint, path, request.wire(), reply, timeout, headers)

    async def first(
        self,
        path: str,
        request: V3Request,
        reply: type[R],
        *,
        timeout: float | None,
        repeatable: bool,
        endpoint: str | None = None,
    ) -> R:
        """The first message of a streamed reply, e.g. of ``lease/keepalive``, where one
        message in gives one out and the reply ends with the request. With ``endpoint``,
        on that member only; else as :meth:`call`, with failover.

        Raises as :meth:`call`; :class:`~aio_etcd.EtcdUnexpectedResponse` for a stream that
        ends without a message.
        """
        self._check_open()
        body = request.wire()

        async def attempt(member: str, seconds: float | None) -> R:
            deadline = _Deadline(seconds)
            async with self._stream(member, path, body, reply, seconds, None) as stream:
                try:
                    message = await bounded(stream.next(), deadline.left())
                except asyncio.TimeoutError as exc:
                    raise EtcdTimedOut(
                        f"POST {member}/v3/{path}: no reply within {seconds} s", cause=exc
                    ) from exc
            if message is None:
                raise unexpected(200, b"", f"{member}/v3/{path}", "a stream with no message")
            return message

        if endpoint is not None:
            return await attempt(endpoint, timeout)
        return await self.failover.run(attempt, timeout=timeout, repeatable=repeatable)

    async def authenticate(
        self, endpoint: str, request: AuthenticateRequest, timeout: float | None
    ) -> AuthenticateResponse:
        """``POST /v3/auth/authenticate`` without a token."""
        url = endpoint + "/v3/auth/authenticate"
        response = await self.transport.request(
            "POST", url, body=request.wire(), headers=_JSON, timeout=timeout
        )
        if response.status != 200:
            raise error_for_reply(response.status, response.body, url)
        return self._parse(AuthenticateResponse, response.body, response.status, url, endpoint)

    async def member_urls(self, endpoint: str, timeout: float | None) -> list[str]:
        """The client URLs of the voting members, as ``endpoint`` knows them (for failover).
        Learners are left out: they refuse calls with ``rpc not supported for learner``."""
        members = await self._send(endpoint, "cluster/member/list", b"{}", _MemberURLs, timeout)
        return [url for m in members.members if not m.is_learner for url in m.client_urls]

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError("this aio_etcd.Etcd3Client is closed")

    # -- one request -----------------------------------------------------------------------

    async def _send(
        self,
        endpoint: str,
        path: str,
        body: bytes,
        reply: type[R],
        timeout: float | None,
        whole: bool = False,
    ) -> R:
        """``whole``: a read-only transaction, never cut off (see :data:`DRAIN`)."""
        url = f"{endpoint}/v3/{path}"
        deadline = _Deadline(timeout)
        await self.tokens.ready(endpoint, self.authenticate, deadline.left())
        retried = False
        while True:
            auth, generation = self.tokens.headers()
            headers = {**_JSON, **auth}
            if whole:
                response = await self._uncut(url, body, headers, deadline.left())
            else:
                response = await self.transport.request(
                    "POST", url, body=body, headers=headers, timeout=deadline.left()
                )
            if response.status == 200:
                return self._parse(reply, response.body, response.status, url, endpoint)
            error = error_for_reply(response.status, response.body, url)
            if retried or not needs_new_token(error):
                raise error
            retried = True
            if not await self.tokens.renew(
                endpoint, self.authenticate, deadline.left(), generation
            ):
                raise error

    async def _uncut(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float | None
    ) -> HttpResponse:
        """The reply to a POST that goes on for up to :data:`DRAIN` seconds after the
        caller stopped waiting for it."""
        sending = asyncio.ensure_future(
            self.transport.request("POST", url, body=body, headers=headers, timeout=None)
        )
        try:
            return await bounded(asyncio.shield(sending), timeout)
        except asyncio.TimeoutError as exc:
            self._drain(sending)
            if isinstance(exc, EtcdTimedOut):
                raise
            raise EtcdTimedOut(f"POST {origin(url)}: no reply within {timeout} s") from exc
        except BaseException:
            self._drain(sending)
            raise

    def _drain(self, sending: asyncio.Future[HttpResponse]) -> None:
        async def finish() -> None:
            with contextlib.suppress(Exception):  # nobody waits for the reply any more
                await bounded(sending, DRAIN)

        if not sending.done():
            task = asyncio.ensure_future(finish())
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)

    @contextlib.asynccontextmanager
    async def _stream(
        self,
        endpoint: str,
        path: str,
        body: bytes,
        reply: type[R],
        timeout: float | None,
        extra: Mapping[str, str] | None,
    ) -> AsyncIterator[GatewayStream[R]]:
        url = f"{endpoint}/v3/{path}"
        deadline = _Deadline(timeout)
        await self.tokens.ready(endpoint, self.authenticate, deadline.left())
        retried = False
        while True:
            auth, generation = self.tokens.headers()
            headers = {**_JSON, **(extra or {}), **auth}
            async with self.transport.stream(
                "POST", url, body=body, headers=headers, timeout=deadline.left()
            ) as http:
                if http.status == 200:
                    yield GatewayStream(http, reply, url, self._check_header(endpoint))
                    return
                error = error_for_reply(http.status, await http.read(), url)
            if retried or not needs_new_token(error):
                raise error
            retried = True
            if not await self.tokens.renew(
                endpoint, self.authenticate, deadline.left(), generation
            ):
                raise error

    def _parse(self, reply: type[R], body: bytes, status: int, url: str, endpoint: str) -> R:
        try:
            result = reply.model_validate_json(body)
        except ValidationError as exc:
            raise unexpected(status, body, url, f"not a valid {reply.__name__}") from exc
        self._check_header(endpoint)(result)
        return result

    def _check_header(self, endpoint: str) -> _Check:
        pool = self.failover.pool

        def check(result: V3Model) -> None:
            header = getattr(result, "header", None)
            cluster_id = getattr(header, "cluster_id", 0)
            if cluster_id:
                # v2 named clusters in hex; the pool compares ids as v2 wrote them.
                pool.check_cluster_id(format(cluster_id, "x"), endpoint)

        return check


class _Deadline:
    """What is left of a time limit, for the several requests one call may send."""

    __slots__ = ("_at", "_timeout")

    def __init__(self, timeout: float | None) -> None:
        self._timeout = timeout
        self._at = None if timeout is None else asyncio.get_running_loop().time() + timeout

    def left(self) -> float | None:
        if self._at is None:
            return None
        left = self._at - asyncio.get_running_loop().time()
        if left <= 0:
            raise EtcdTimedOut(f"no reply within {self._timeout} s")
        return left


class GatewayStream(Generic[R]):
    """The messages of a streamed reply, each ``{"result": ...}`` parsed as ``R``."""

    def __init__(self, http: HttpStream, reply: type[R], url: str, check: _Check) -> None:
        self._http = http
        self._reply = reply
        self._url = url
        self._check = check
        # Invalid UTF-8 cannot be JSON anyway: it is reported as such, not as a codec error.
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._ended = False

    @property
    def headers(self) -> Mapping[str, str]:
        """The HTTP headers of the reply."""
        return self._http.headers

    async def next(self) -> R | None:
        """The next message; ``None`` once the stream has ended cleanly.

        Raises:
            EtcdException: the typed error for an ``{"error": ...}`` object (etcd 3.5's
                shape without a newline, and 3.6's).
            EtcdConnectionFailed: the connection broke, or the stream ended inside a message.
            EtcdUnexpectedResponse: something other than JSON objects arrived.
        """
        while True:
            document = self._take()
            if document is not None:
                return self._message(document)
            if self._ended:
                if self._buffer.strip():
                    raise EtcdConnectionFailed(
                        f"the stream from {origin(self._url)} ended inside a message: "
                        f"{self._buffer[:200]!r}"
                    )
                return None
            chunk = await self._http.readline()
            if not chunk:
                self._ended = True
                tail = self._decoder.decode(b"", final=True)
                self._buffer += tail
                continue
            self._buffer += self._decoder.decode(chunk)
            if len(self._buffer) > MAX_MESSAGE:
                raise self._garbage("a message larger than the limit")

    def _take(self) -> dict[str, Any] | None:
        """The first whole JSON object of the buffer, removed from it; ``None`` when the
        buffer holds no whole object yet."""
        text = self._buffer
        start = len(text) - len(text.lstrip())
        if start == len(text):
            self._buffer = ""
            return None
        if text[start] != "{":
            raise self._garbage("not a JSON object")
        try:
            document, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            return None  # an object cut across reads: wait for the rest
        self._buffer = text[end:]
        if not isinstance(document, dict):  # pragma: no cover - starts with "{"
            raise self._garbage("not a JSON object")
        return document

    def _message(self, document: dict[str, Any]) -> R:
        if "result" in document:
            try:
                result = self._reply.model_validate(document["result"], context=WIRE)
            except ValidationError as exc:
                raise self._garbage(f"not a valid {self._reply.__name__}") from exc
            self._check(result)
            return result
        if "error" in document:
            raise error_for_stream(document["error"], self._http.status, self._url)
        raise self._garbage("an object with neither result nor error")

    def _garbage(self, why: str) -> EtcdUnexpectedResponse:
        snippet = self._buffer[:200]
        return EtcdUnexpectedResponse(
            f"{why} in the stream from {origin(self._url)}: {snippet!r}",
            ErrorPayload(message=snippet),
            status=self._http.status,
        )


_DECODER = json.JSONDecoder()


class Part:
    """Base of the client's parts (KV, leases, ...): the gateway they call through."""

    _gateway: Gateway

    def _seconds(self, timeout: Timeout) -> float | None:
        """A call's time limit: ``timeout`` checked, or the client's ``read_timeout``."""
        return check_timeout(timeout, self._gateway.read_timeout)


def _read_only(request: V3Request) -> bool:
    return isinstance(request, TxnRequest) and request.read_only
