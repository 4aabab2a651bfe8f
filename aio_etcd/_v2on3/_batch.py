"""Reads of single keys that start in the same turn of the event loop, to the same member,
sent together as one read-only transaction.

Under load, most of what a read costs the server is the request (HTTP, grpc-gateway's JSON,
the gateway's own gRPC call), not the range: on etcd 3.5.1 a txn of 4 ranges costs about
70 µs of server CPU per key against 160 µs for a txn of 1, and one of 8 about 50 µs. So
the reads a program starts at once (``asyncio.gather`` over keys, or many tasks reading)
share a request, as Redis clients pipeline the commands of one turn (ioredis's
``enableAutoPipelining``). A lone read is sent alone, as a plain range, one turn later.

What a caller sees does not change: each read was started before its request was sent, so
it sees the store at least as new as when it started (serializable reads: as the member
has it; ``quorum`` reads: linearizable, in a txn of their own kind). Every read keeps its
own deadline and may be cancelled alone. When the shared txn is refused for a key (one key
the user may not read, a server with a lower ``--max-txn-ops``), each read is sent again
alone, so each gets its own answer; any other error is every read's.

Members of etcd 3.5.0 to 3.5.4 are sent each read alone: they crash when a read-only txn
is cut off while it runs (etcd-io/etcd#14110), which closing the client, or every caller
leaving a member that stalls for longer than :data:`~aio_etcd._v3._gateway.DRAIN`, does.
Each member's version is asked once (``GET /version``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Iterator

from .._aio import bounded
from .._exceptions import (
    EtcdConnectionFailed,
    EtcdException,
    EtcdInsufficientPermissions,
    EtcdTimedOut,
    EtcdUnexpectedResponse,
    EtcdValueError,
)
from .._v3._errors import unexpected
from .._v3._gateway import Gateway
from ..models.v3._base import ResponseHeader
from ..models.v3.kv import KeyValue, RangeRequest, RangeResponse
from ..models.v3.txn import TxnResponse
from ._cluster import version

Found = tuple[KeyValue | None, ResponseHeader]
"""The key (``None``: no such key) and the header of the reply that said so."""

MAX_OPS = 16
"""Ranges per txn at most (etcd's default ``--max-txn-ops`` is 128). Measured on etcd 3.5.1
with 32 and 64 reads at once, 16 beat 8 and 32: with every read in one txn, client and
server take turns instead of working at the same time."""
MAX_BYTES = 256 * 1024
"""Bytes of keys per txn at most, well inside etcd's default ``--max-request-bytes``
(1.5 MiB) with JSON and base64 around them."""


class Reads:
    """Gathers the single-key reads of one turn per (member, consistency)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._queued: dict[tuple[str, bool], dict[bytes, list[asyncio.Future[Found]]]] = {}
        self._sending: set[asyncio.Task[None]] = set()
        self._shares: dict[str, bool] = {}
        """Per member: whether reads may share a txn there (see the module's docstring)."""

    async def get(
        self, endpoint: str, key: bytes, serializable: bool, timeout: float | None
    ) -> Found:
        """``key`` on ``endpoint``, within ``timeout`` seconds.

        Raises:
            EtcdTimedOut: no reply in time.
            EtcdException: what the read's own range raised, or what the shared txn raised
                about the member (a connection failure, no leader) for every read in it.
            EtcdConnectionFailed: the client was closed while the read was out.
        """
        loop = asyncio.get_running_loop()
        queue = endpoint, serializable
        group = self._queued.get(queue)
        if group is None:
            # The first read of this turn waits one turn for others, then sends them all.
            group = self._queued[queue] = {key: []}
            try:
                await asyncio.sleep(0)
            except BaseException:  # cancelled: the others go on without this one
                del self._queued[queue]
                if not group[key]:
                    del group[key]
                if group:
                    # Next turn: the reads cancelled with this one have left by then, and a
                    # group nobody waits for is not sent.
                    loop.call_soon(self._send, endpoint, serializable, group)
                raise
            del self._queued[queue]
            if len(group) == 1 and not group[key]:  # alone: no task, no future
                return await self._one(endpoint, key, serializable, timeout)
            waiter = loop.create_future()
            group[key].append(waiter)
            self._send(endpoint, serializable, group)
        else:
            waiter = loop.create_future()
            group.setdefault(key, []).append(waiter)
        try:
            return await bounded(waiter, timeout)
        except asyncio.TimeoutError as exc:
            if isinstance(exc, EtcdException):
                raise
            raise EtcdTimedOut(
                f"POST {endpoint}/v3/kv/range: no reply within {timeout} s", cause=exc
            ) from exc

    async def aclose(self) -> None:
        """Stop every request still out; their callers get
        :class:`~aio_etcd.EtcdConnectionFailed`."""
        for task in self._sending:
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)

    def _send(
        self, endpoint: str, serializable: bool, group: dict[bytes, list[asyncio.Future[Found]]]
    ) -> None:
        for chunk in _chunks(group):
            waiters = [w for ws in chunk.values() for w in ws]
            if all(w.done() for w in waiters):
                continue  # every read of it left before it was sent
            task = asyncio.ensure_future(self._answer(endpoint, serializable, chunk))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
            task.add_done_callback(functools.partial(_release, waiters))
            _stop_when_nobody_waits(task, waiters)

    async def _answer(
        self, endpoint: str, serializable: bool, chunk: dict[bytes, list[asyncio.Future[Found]]]
    ) -> None:
        keys = list(chunk)
        results: list[Found | BaseException]
        try:
            if len(keys) == 1:
                results = [await self._one(endpoint, keys[0], serializable)]
            elif await self._may_share(endpoint):
                try:
                    results = await self._many(endpoint, keys, serializable)
                except _ABOUT_KEYS:
                    results = await self._each(endpoint, keys, serializable)
            else:
                results = await self._each(endpoint, keys, serializable)
        except Exception as exc:  # every read of the chunk met it
            results = [exc] * len(keys)
        for key, result in zip(keys, results, strict=True):
            for waiter in chunk[key]:
                if waiter.done():
                    pass
                elif isinstance(result, BaseException):
                    waiter.set_exception(result)
                else:
                    waiter.set_result(result)

    async def _may_share(self, endpoint: str) -> bool:
        shares = self._shares.get(endpoint)
        if shares is None:
            try:
                info = await version(self._gateway, endpoint, self._gateway.read_timeout)
            except EtcdConnectionFailed:
                raise
            except EtcdException:  # no /version (a proxy?): the safe way, from now on
                shares = False
            else:
                shares = shares_safely(info.server)
            self._shares[endpoint] = shares
        return shares

    async def _each(
        self, endpoint: str, keys: list[bytes], serializable: bool
    ) -> list[Found | BaseException]:
        return await asyncio.gather(
            *(self._one(endpoint, key, serializable) for key in keys), return_exceptions=True
        )

    async def _one(
        self, endpoint: str, key: bytes, serializable: bool, timeout: float | None = None
    ) -> Found:
        reply = await self._gateway.call_on(
            endpoint, "kv/range", range_body(key, serializable), RangeResponse, timeout=timeout
        )
        return (reply.kvs[0] if reply.kvs else None), reply.header

    async def _many(
        self, endpoint: str, keys: list[bytes], serializable: bool
    ) -> list[Found | BaseException]:
        ops = b",".join(b'{"request_range":%s}' % range_body(k, serializable) for k in keys)
        reply = await self._gateway.call_on(
            endpoint,
            "kv/txn",
            b'{"success":[%s]}' % ops,
            TxnResponse,
            timeout=None,
            read_only=True,
        )
        ranges = [op.response_range for op in reply.responses]
        if len(ranges) != len(keys) or None in ranges:
            raise unexpected(200, b"", f"{endpoint}/v3/kv/txn", "a range missing from a txn")
        return [(r.kvs[0] if r and r.kvs else None, reply.header) for r in ranges]


def shares_safely(server: str) -> bool:
    """Whether an etcd of version ``server`` (``"3.5.1"``) survives a read-only txn cut off
    while it runs: not 3.5.0 to 3.5.4 (etcd-io/etcd#14110, fixed in 3.5.5 by #14178)."""
    try:
        numbers = tuple(int(part) for part in server.split("-", 1)[0].split(".")[:3])
    except ValueError:
        return False
    return not (3, 5, 0) <= numbers < (3, 5, 5)


_ABOUT_KEYS = (EtcdInsufficientPermissions, EtcdValueError, EtcdUnexpectedResponse)
"""Refusals of a shared txn that may be about some of its keys only (a key the user may not
read, more ranges than ``--max-txn-ops``, a reply without a range): each read is sent again
alone. Any other error (no leader, too many requests) is about the member."""

CACHED_KEY = 256
"""Bytes: the request bodies of keys up to this long are kept (4096 of them)."""


def range_body(key: bytes, serializable: bool) -> bytes:
    """The body of the range of ``key`` alone; encoded once for short keys, as programs read
    the same keys again and again."""
    if len(key) <= CACHED_KEY:
        return _range_body(key, serializable)
    return RangeRequest(key=key, serializable=serializable).wire()


@functools.lru_cache(maxsize=4096)
def _range_body(key: bytes, serializable: bool) -> bytes:
    return RangeRequest(key=key, serializable=serializable).wire()


def _chunks(
    group: dict[bytes, list[asyncio.Future[Found]]],
) -> Iterator[dict[bytes, list[asyncio.Future[Found]]]]:
    chunk: dict[bytes, list[asyncio.Future[Found]]] = {}
    size = 0
    for key, waiters in group.items():
        if chunk and (len(chunk) == MAX_OPS or size + len(key) > MAX_BYTES):
            yield chunk
            chunk, size = {}, 0
        chunk[key] = waiters
        size += len(key)
    if chunk:
        yield chunk


def _release(waiters: list[asyncio.Future[Found]], _: object) -> None:
    """Fail the reads a request left waiting: it was cancelled (the client closed), perhaps
    before it started."""
    for waiter in waiters:
        if not waiter.done():
            waiter.set_exception(EtcdConnectionFailed("the client was closed before etcd answered"))


def _stop_when_nobody_waits(task: asyncio.Task[None], waiters: list[asyncio.Future[Found]]) -> None:
    """Cancel ``task`` once every waiter is done: each gave up, or was cancelled."""
    pending = len(waiters)

    def one_done(_: object) -> None:
        nonlocal pending
        pending -= 1
        if not pending and not task.done():
            task.cancel()

    for waiter in waiters:
        waiter.add_done_callback(one_done)
