"""v3 watches that lose no event: one HTTP stream at a time, resumed wherever it can be.

The rules (etcd 3.4 and 3.5 through the JSON gateway, as they behave):

- One message holds whole revisions, and one revision may hold many events (a transaction,
  a range delete; etcd splits messages only at revision boundaries, ``mvcc/watcher_group.go``
  ``eventBatch.add``). Events are yielded one by one; the resume point is the revision of
  the event last yielded while more of its revision are to come (with how many of them were
  yielded), else that revision + 1. So nothing is lost or repeated, mid-revision included.
- A stream starts at the resume point; the first one, without ``start_revision``, at the
  revision of its ``created`` message + 1. The resume point never moves back:
  ``created`` and progress revisions below a future ``start_revision`` (etcd #15220) are
  ignored, and events below it that a reconnect delivers again are dropped (etcd PR #20290).
- A progress notification (a message with only a header) says every change up to its
  revision has been sent: the resume point moves there, so an idle watch does not fall
  behind compaction.
- A broken stream, a member that died, stopped answering (a quiet stream is probed on another
  connection every ``probe_interval`` seconds) or lost its leader (``no leader`` ends the
  stream when ``require_leader``, the ``Grpc-Metadata-hasleader: true`` header of clientv3's
  ``WithRequireLeader``) is left for another member, with jittered backoff. A watch gives up
  when no member lets it start again within the client's read timeout.
- ``canceled`` with ``compact_revision`` raises :class:`~aio_etcd.EtcdCompacted`, or with
  ``resync`` reads the watched keys and goes on from that read's revision + 1. A
  ``cancel_reason`` of ``permission denied`` (3.5) or ``invalid auth token`` (3.4) raises
  :class:`~aio_etcd.EtcdInsufficientPermissions`, after one new token and a new stream from
  the same point when the client has credentials (a stale token is refused that way, §8).
  etcd keeps a canceled stream open: it is closed here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Generic, Literal, TypedDict, TypeVar, cast, overload

from typing_extensions import Unpack

from .._aio import bounded
from .._constants import READ_TIMEOUT, WATCH_PROBE_INTERVAL
from .._exceptions import (
    EtcdCompacted,
    EtcdConnectionFailed,
    EtcdException,
    EtcdInsufficientPermissions,
    EtcdTimedOut,
    EtcdTLSFailed,
)
from .._types import NOT_GIVEN
from .._validate import timeout as check_timeout
from ..models.v3._base import UInt64, V3Model, V3Request
from ..models.v3.error import GatewayError
from ..models.v3.kv import RangeRequest, RangeResponse
from ..models.v3.watch import (
    WatchCreateRequest,
    WatchEvent,
    WatchFilter,
    WatchProgress,
    WatchRequest,
    WatchResponse,
    WatchSnapshot,
)
from . import _args as check
from ._args import KeyLike
from ._errors import REAUTHENTICATE
from ._gateway import Gateway, GatewayStream, Part
from ._kv import key_range, prefix_range

Item = TypeVar("Item", covariant=True)

WatchItem = WatchEvent | WatchSnapshot | WatchProgress
"""Everything a watch can yield: events, and with ``resync``/``report_progress`` the
snapshots and progress marks."""

REQUIRE_LEADER: Mapping[str, str] = {"Grpc-Metadata-hasleader": "true"}
"""gRPC metadata through the gateway: refuse, then end, the watch on a member without a
leader (clientv3 ``WithRequireLeader``; etcd ``api/v3rpc/interceptor.go``)."""


AUTH_REFUSED = ("permission denied", *REAUTHENTICATE)
"""A ``cancel_reason`` with one of these means the token was refused: stale (3.5 says
``permission denied``, 3.4 ``invalid auth token``) or without the permission."""


class _StatusRequest(V3Request):
    """``maintenance/status`` takes no fields."""


class _Status(V3Model):
    leader: UInt64 = 0
    """The leader's member id; absent (0) while the member has none."""


class Watch(Generic[Item]):
    """The changes of a key or a range of keys, as an async iterator of
    :class:`~aio_etcd.v3.WatchEvent` (and, when asked, :class:`~aio_etcd.v3.WatchSnapshot`
    and :class:`~aio_etcd.v3.WatchProgress`). Made by :meth:`aio_etcd.v3.Etcd3Client.watch`,
    ``watch_prefix`` and ``watch_range``::

        async with client.watch_prefix("/config/") as events:
            async for event in events:
                print(event.type, event.kv.key, event.kv.value)

    Leaving the loop (``break``, an exception, cancellation) and :meth:`aclose` release the
    connection at once. A watch that ended (closed, or raised) yields nothing more.
    """

    def __init__(
        self,
        gateway: Gateway,
        key: bytes,
        range_end: bytes,
        *,
        start_revision: int | None,
        prev_kv: bool,
        filters: list[WatchFilter],
        progress_notify: bool,
        require_leader: bool,
        resync: bool,
        report_progress: bool,
        probe_interval: float | None,
    ) -> None:
        self._gateway = gateway
        self.key = key
        """The watched key, or the first of the range."""
        self.range_end = range_end
        """The end of the watched range (exclusive); ``b""`` for ``key`` alone."""
        self._prev_kv = prev_kv
        self._filters = filters
        self._progress_notify = progress_notify
        self._headers = REQUIRE_LEADER if require_leader else {}
        self._require_leader = require_leader
        self.resync = resync
        self.report_progress = report_progress
        self.probe_interval = probe_interval
        self._next_revision = start_revision
        self._skip = 0
        """Events of ``_next_revision`` already yielded (a revision cut by the caller)."""
        self._pending: deque[tuple[WatchEvent, bool]] = deque()
        """Events received, not yet yielded; with whether each ends its revision."""
        self._opened: AbstractAsyncContextManager[GatewayStream[WatchResponse]] | None = None
        self._stream: GatewayStream[WatchResponse] | None = None
        self._endpoint = ""
        self._receiving: asyncio.Future[WatchResponse | None] | None = None
        self._failures = 0
        """Streams in a row that failed before an event or progress came."""
        self._renewed_token = False
        self._closed = False

    @property
    def next_revision(self) -> int | None:
        """Where the watch goes on: every change before this revision has been yielded
        (some events of this revision too, when the loop left in the middle of one).
        ``None`` before the first stream started."""
        return self._next_revision

    @property
    def endpoint(self) -> str:
        """The member streaming now (``scheme://host:port``); ``""`` between streams."""
        return self._endpoint if self._stream is not None else ""

    def __aiter__(self) -> Watch[Item]:
        return self

    async def __anext__(self) -> Item:
        if self._closed:
            raise StopAsyncIteration
        try:
            return cast(Item, await self._next())
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stop watching and release the connection."""
        self._closed = True
        self._pending.clear()
        await self._drop()

    async def __aenter__(self) -> Watch[Item]:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- one item ----------------------------------------------------------------------

    async def _next(self) -> WatchItem:
        while True:
            if self._closed:
                raise StopAsyncIteration  # closed by another task meanwhile
            if self._pending:
                event, last = self._pending.popleft()
                self._yielded(event.kv.mod_revision, last)
                return event
            message: WatchResponse | None
            if self._stream is None:
                message = await self._start()
            else:
                try:
                    message = await self._receive(self._stream)
                except EtcdException:
                    # Broken, garbled, or ended by the member ("no leader"): go elsewhere.
                    message = None
                if self._closed:
                    raise StopAsyncIteration
                if message is None:
                    self._gateway.failover.pool.failed(self._endpoint)
                    await self._drop()
                    self._failures += 1
                    continue
            item = await self._handle(message)
            if item is not None:
                return item

    async def _handle(self, message: WatchResponse) -> WatchItem | None:
        """Take in one message; what to yield for it, besides its events."""
        if message.canceled:
            return await self._canceled(message)
        if message.created:
            self._renewed_token = False
            if self._next_revision is None:
                self._next_revision = message.header.revision + 1
            return None
        self._failures = 0
        if not message.events:
            return self._progress(message.header.revision)
        self._queue(message.events)
        return None

    def _queue(self, events: list[WatchEvent]) -> None:
        """Keep the events not yielded yet: drop what lies below the resume point, and the
        first ``_skip`` events of the revision it points into."""
        start = self._next_revision or 0
        ordinal = 0
        for position, event in enumerate(events):
            revision = event.kv.mod_revision
            if position and revision == events[position - 1].kv.mod_revision:
                ordinal += 1
            else:
                ordinal = 0
            if revision < start or (revision == start and ordinal < self._skip):
                continue
            last = position + 1 == len(events) or events[position + 1].kv.mod_revision != revision
            self._pending.append((event, last))

    def _yielded(self, revision: int, last: bool) -> None:
        if last:
            self._next_revision, self._skip = revision + 1, 0
        elif revision == self._next_revision:
            self._skip += 1
        else:
            self._next_revision, self._skip = revision, 1

    def _progress(self, revision: int) -> WatchProgress | None:
        """Everything up to ``revision`` was sent. Ignored while a cut revision is still
        being made up, and below a future ``start_revision`` (etcd #15220)."""
        if self._skip or self._next_revision is None or revision < self._next_revision:
            return None
        self._next_revision = revision + 1
        return WatchProgress(revision=revision) if self.report_progress else None

    async def _canceled(self, message: WatchResponse) -> WatchSnapshot | None:
        endpoint = self._endpoint
        await self._drop()  # etcd leaves the HTTP stream open
        if message.compact_revision:
            if self.resync:
                return await self._snapshot(message.compact_revision)
            raise EtcdCompacted(
                f"etcd compacted revisions up to {message.compact_revision}, and the watch "
                f"of {self._describe()} was to go on from {self._next_revision} ({endpoint})",
                GatewayError(
                    code=11, message="mvcc: required revision has been compacted", http_status=200
                ),
                status=200,
                compact_revision=message.compact_revision,
            )
        reason = message.cancel_reason or "no reason given"
        refused = any(marker in reason.lower() for marker in AUTH_REFUSED)
        # The reason is a gRPC status as text; 7 PermissionDenied, else 2 Unknown.
        payload = GatewayError(code=7 if refused else 2, message=reason, http_status=200)
        if refused:
            tokens = self._gateway.tokens
            if not self._renewed_token and tokens.username is not None:
                # A stale token is refused this way too: one new token, then the same point.
                self._renewed_token = True
                _, generation = tokens.headers()
                await tokens.renew(
                    endpoint, self._gateway.authenticate, self._gateway.read_timeout, generation
                )
                return None
            raise EtcdInsufficientPermissions(
                f"etcd refused to watch {self._describe()}: {reason} ({endpoint})",
                payload,
                status=200,
            )
        raise EtcdException(
            f"etcd canceled the watch of {self._describe()}: {reason} ({endpoint})",
            payload,
            status=200,
        )

    async def _snapshot(self, compact_revision: int) -> WatchSnapshot:
        """The watched keys now; the watch goes on after the revision read."""
        request = RangeRequest(key=self.key, range_end=self.range_end)
        reply = await self._gateway.call(
            "kv/range",
            request,
            RangeResponse,
            timeout=self._gateway.read_timeout,
            repeatable=True,
        )
        revision = reply.header.revision
        self._next_revision, self._skip = revision + 1, 0
        return WatchSnapshot(revision=revision, kvs=reply.kvs, compact_revision=compact_revision)

    # -- the stream --------------------------------------------------------------------

    async def _start(self) -> WatchResponse:
        """Open a stream at the resume point on a member that lets it start; its first
        message (``created``, and maybe ``canceled`` at once)."""
        if self._failures > 1:
            # Streams that fail as soon as they start (a member that keeps losing its
            # leader) must not spin: the first retry is at once, later ones back off.
            await asyncio.sleep(self._gateway.failover.policy.backoff(self._failures - 2))
        create = WatchCreateRequest(
            key=self.key,
            range_end=self.range_end,
            start_revision=self._next_revision or 0,
            progress_notify=self._progress_notify,
            filters=self._filters,
            prev_kv=self._prev_kv,
        )
        request = WatchRequest(create_request=create)

        async def open_on(endpoint: str, timeout: float | None) -> WatchResponse:
            opened = self._gateway.stream(
                endpoint, "watch", request, WatchResponse, timeout=timeout, headers=self._headers
            )
            stream = await opened.__aenter__()
            self._opened, self._stream, self._endpoint = opened, stream, endpoint
            try:
                # grpc-gateway sends the HTTP headers with the first message, ``created``:
                # it is already on its way.
                first = await bounded(stream.next(), timeout)
            except BaseException as exc:
                await self._drop()
                if isinstance(exc, asyncio.TimeoutError) and not isinstance(exc, EtcdException):
                    raise EtcdConnectionFailed(
                        f"{endpoint} did not confirm the watch within {timeout} s", cause=exc
                    ) from exc
                raise
            if first is None:
                await self._drop()
                raise EtcdConnectionFailed(f"{endpoint} ended the watch before it started")
            return first

        # Failover gives up early when no member can be reached at all; a watch waits
        # for one to come back (a restart), up to its window.
        failover = self._gateway.failover
        loop = asyncio.get_running_loop()
        window = self._gateway.read_timeout or READ_TIMEOUT
        since = loop.time()
        round_ = 0
        while True:
            left = window - (loop.time() - since)
            try:
                return await failover.run(open_on, timeout=max(left, 0.01), repeatable=True)
            except (EtcdTLSFailed, EtcdTimedOut):
                raise
            except EtcdConnectionFailed:
                pause = failover.policy.backoff(round_)
                round_ += 1
                if loop.time() + pause - since >= window:
                    raise
                await asyncio.sleep(pause)

    async def _receive(self, stream: GatewayStream[WatchResponse]) -> WatchResponse | None:
        """The next message; probes the member whenever the stream has been quiet for
        ``probe_interval`` and gives up on it when the probe fails."""
        if self.probe_interval is None:
            return await stream.next()
        # A task, so that probing never interrupts a message half read.
        if self._receiving is None:
            self._receiving = asyncio.ensure_future(stream.next())
        receiving = self._receiving
        while True:
            done, _ = await asyncio.wait({receiving}, timeout=self.probe_interval)
            if done:
                self._receiving = None
                if receiving.cancelled():
                    return None  # dropped by aclose() in another task
                return receiving.result()
            await self._probe()

    async def _probe(self) -> None:
        """Raise :class:`~aio_etcd.EtcdConnectionFailed` unless the member answers a status
        request within ``probe_interval`` (and, with ``require_leader``, has a leader)."""
        endpoint = self._endpoint
        try:
            status = await self._gateway.call_on(
                endpoint, "maintenance/status", _StatusRequest(), _Status,
                timeout=self.probe_interval,
            )  # fmt: skip
        except EtcdInsufficientPermissions:
            return  # some 3.5 releases refuse status to non-root users: it answered
        except EtcdException as exc:
            raise EtcdConnectionFailed(
                f"{endpoint} stopped answering while watched", cause=exc
            ) from exc
        if self._require_leader and not status.leader:
            raise EtcdConnectionFailed(f"{endpoint} has no leader")

    async def _drop(self) -> None:
        receiving, self._receiving = self._receiving, None
        if receiving is not None:
            if receiving.cancel():
                await asyncio.wait({receiving})
            elif not receiving.cancelled():
                receiving.exception()  # the stream is dropped; so is how it ended
        opened, self._opened, self._stream = self._opened, None, None
        if opened is not None:
            await opened.__aexit__(None, None, None)

    def _describe(self) -> str:
        if not self.range_end:
            return repr(self.key)
        return f"[{self.key!r}, {self.range_end!r})"


class WatchOptions(TypedDict, total=False):
    """The options of :meth:`Watches.watch`, ``watch_prefix`` and ``watch_range``."""

    start_revision: int | None
    """The first revision to report, history included (``None``: changes from now on)."""
    prev_kv: bool
    """Give each event the key as it was before (``WatchEvent.prev_kv``)."""
    no_put: bool
    """Leave out PUT events."""
    no_delete: bool
    """Leave out DELETE events."""
    progress_notify: bool
    """Ask etcd for progress notifications (default ``True``)."""
    require_leader: bool
    """Leave a member that has no leader (default ``True``)."""
    probe_interval: float | None
    """Seconds a stream may stay quiet before its member is checked (default 10)."""


class Watches(Part):
    """The watch calls of :class:`~aio_etcd.Etcd3Client`."""

    @overload
    def watch(
        self,
        key: KeyLike,
        *,
        resync: Literal[False] = False,
        report_progress: Literal[False] = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchEvent]: ...

    @overload
    def watch(
        self,
        key: KeyLike,
        *,
        resync: bool = False,
        report_progress: bool = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchItem]: ...

    def watch(
        self,
        key: KeyLike,
        *,
        resync: bool = False,
        report_progress: bool = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchItem]:
        """The changes of ``key``, as an async iterator of :class:`~aio_etcd.v3.WatchEvent`
        that resumes on another member when one fails, losing and repeating nothing::

            async with client.watch(b"/config/level", prev_kv=True) as events:
                async for event in events:
                    print(event.type, event.kv.value, event.prev_kv)

        Nothing is sent until the first item is awaited; bad arguments raise here.

        Args:
            key: bytes, or text (UTF-8); not empty.
            resync: when etcd compacted away revisions the watch had yet to report, yield a
                :class:`~aio_etcd.v3.WatchSnapshot` of the watched keys at the current
                revision and go on from there, instead of raising
                :class:`~aio_etcd.EtcdCompacted`.
            report_progress: yield a :class:`~aio_etcd.v3.WatchProgress` for each progress
                notification (with ``progress_notify``).
            start_revision: the first revision to report (≥ 1), older ones included
                (etcd's history, until compaction); ``None`` (default): changes made
                after the watch starts. A future revision is waited for.
            prev_kv: give each event the key as it was before the change.
            no_put: leave out PUT events (etcd's ``NOPUT`` filter).
            no_delete: leave out DELETE events (``NODELETE``).
            progress_notify: ask etcd to send an idle watch its revision every
                ``--experimental-watch-progress-notify-interval`` (10 minutes by default),
                so that a resume after a long quiet spell starts where etcd was, not where
                the last event was (default ``True``).
            require_leader: send ``Grpc-Metadata-hasleader: true``: etcd refuses the watch
                on a member without a leader, and ends it about 3 s after the member loses
                its leader; the watch then goes on elsewhere (default ``True``).
            probe_interval: after this many quiet seconds, ask the member (on another
                connection, within as many seconds) whether it still answers, and leave it
                if not; ``None`` never asks (default 10).

        Iterating raises:
            EtcdCompacted: (without ``resync``) the revision to go on from was compacted;
                ``compact_revision`` is the oldest one left.
            EtcdInsufficientPermissions: the user may not read the keys (after one new
                token, when the client has credentials).
            EtcdConnectionFailed: no member let the watch start again within the client's
                ``read_timeout`` (``EtcdLeaderElectionInProgress`` when they answered that
                they have no leader).

        Raises:
            EtcdValueError: an empty key, ``start_revision`` below 1, a ``probe_interval``
                not above 0.
            TypeError: an argument of the wrong type, or an unknown option.
        """
        return self._watch(check.key(key), b"", resync, report_progress, options)

    @overload
    def watch_prefix(
        self,
        prefix: KeyLike,
        *,
        resync: Literal[False] = False,
        report_progress: Literal[False] = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchEvent]: ...

    @overload
    def watch_prefix(
        self,
        prefix: KeyLike,
        *,
        resync: bool = False,
        report_progress: bool = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchItem]: ...

    def watch_prefix(
        self,
        prefix: KeyLike,
        *,
        resync: bool = False,
        report_progress: bool = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchItem]:
        """The changes of every key starting with ``prefix`` (every key for ``b""``); as
        :meth:`watch`."""
        start, end = prefix_range(prefix)
        return self._watch(start, end, resync, report_progress, options)

    @overload
    def watch_range(
        self,
        key: KeyLike,
        range_end: KeyLike,
        *,
        resync: Literal[False] = False,
        report_progress: Literal[False] = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchEvent]: ...

    @overload
    def watch_range(
        self,
        key: KeyLike,
        range_end: KeyLike,
        *,
        resync: bool = False,
        report_progress: bool = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchItem]: ...

    def watch_range(
        self,
        key: KeyLike,
        range_end: KeyLike,
        *,
        resync: bool = False,
        report_progress: bool = False,
        **options: Unpack[WatchOptions],
    ) -> Watch[WatchItem]:
        """The changes of every key in ``[key, range_end)`` (``range_end`` ``b"\\x00"``:
        every key from ``key`` on); as :meth:`watch`.

        Raises:
            EtcdValueError: ``range_end`` does not sort after ``key``.
        """
        start, end = key_range(key, range_end)
        return self._watch(start, end, resync, report_progress, options)

    def _watch(
        self,
        key: bytes,
        range_end: bytes,
        resync: object,
        report_progress: object,
        options: WatchOptions,
    ) -> Watch[WatchItem]:
        unknown = set(options) - set(WatchOptions.__annotations__)
        if unknown:
            raise TypeError(f"unknown watch option(s): {', '.join(sorted(unknown))}")
        start = options.get("start_revision")
        filters: list[WatchFilter] = []
        if check.flag(options.get("no_put", False), "no_put"):
            filters.append("NOPUT")
        if check.flag(options.get("no_delete", False), "no_delete"):
            filters.append("NODELETE")
        probe = check_timeout(
            options.get("probe_interval", NOT_GIVEN), WATCH_PROBE_INTERVAL, "probe_interval"
        )
        return Watch(
            self._gateway,
            key,
            range_end,
            start_revision=None if start is None else check.integer(start, "start_revision", low=1),
            prev_kv=check.flag(options.get("prev_kv", False), "prev_kv"),
            filters=filters,
            progress_notify=check.flag(options.get("progress_notify", True), "progress_notify"),
            require_leader=check.flag(options.get("require_leader", True), "require_leader"),
            resync=check.flag(resync, "resync"),
            report_progress=check.flag(report_progress, "report_progress"),
            probe_interval=probe,
        )
