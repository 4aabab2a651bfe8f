"""Watches that lose no event: a streaming watch that resumes wherever it can.

The rules it follows (etcd v2, 3.4 and 3.5):

- Events come in index order; the next one wanted is ``last modifiedIndex + 1``. Anything
  older that a reconnect delivers again is dropped, so each event is delivered once. On v3
  several events share one index (a transaction, a range delete): while more of an index
  are to come, the next one wanted is that index, and a reconnect drops the events of it
  already delivered.
- A v2 ``stream=true`` watch whose ``waitIndex`` is still in etcd's history gets that one
  event and then nothing more (etcd answers from history without registering the watcher).
  So on v2 an event at or below the index the stream began at ends that stream, and the
  next starts after it: behind, the watch catches up one request per event; live, it
  streams. A v3 stream replays history and goes on.
- A v3 progress notification (every change up to an index was sent) moves the next index
  wanted there, without an event.
- etcd sends a watch's headers at once, before any event. A member that does not within
  ``WATCH_OPEN_TIMEOUT`` (frozen, partitioned: connecting still succeeds, the kernel
  accepts for it) is left for another. Once open, a quiet watch is probed on another
  connection every ``probe_interval``, and a member that does not answer the probe within
  ``WATCH_PROBE_TIMEOUT`` is left too.
- A broken stream, a member that died or one that stopped answering are left for another
  member, from the next index wanted. Without a deadline, reconnecting goes on with backoff
  for the policy's ``watch_retry_window`` (a restart, a rolling upgrade); the error that
  ends it carries the index to resume from.
- errorCode 401 (the index left etcd's 1000-event history), or on v3 a compaction past the
  index, raises :class:`~aio_etcd.EtcdEventIndexCleared`, or with ``resync`` re-reads the
  key and goes on from the index of that read.

A one-shot watch (:meth:`aio_etcd.Client.watch`) is the first event of a plain (not
streamed) watch run the same way, so it gets the same failover.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType

from ._backend import Backend, EventStream
from ._constants import WATCH_OPEN_TIMEOUT, WATCH_PROBE_TIMEOUT
from ._exceptions import (
    EtcdConnectionFailed,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdKeyNotFound,
    EtcdTimedOut,
    EtcdWatchTimedOut,
)
from ._retry import Failover
from ._transport import LineTooLong
from .models import EtcdNode, EtcdResult

Read = Callable[[str, bool], Awaitable[EtcdResult]]
"""Reads ``key`` (recursively or not) for a resync."""


class Watch:
    """The changes of a key or tree, as an async iterator of :class:`~aio_etcd.EtcdResult`.

    Made by :meth:`aio_etcd.Client.watch_iter`::

        async with client.watch_iter("/config", recursive=True) as changes:
            async for event in changes:
                print(event.action, event.key, event.value)

    Leaving the loop (``break``, an exception, cancellation) and :meth:`aclose` release the
    connection at once.
    """

    def __init__(
        self,
        backend: Backend,
        failover: Failover,
        read: Read,
        key: str,
        *,
        recursive: bool,
        index: int | None,
        resync: bool,
        probe_interval: float | None,
        timeout: float | None = None,
        stream: bool = True,
    ) -> None:
        """``timeout``: seconds for the whole watch, after which it raises
        :class:`~aio_etcd.EtcdWatchTimedOut`. ``stream=False``: one event a request (for
        one-shot watches, whose connection is then reused)."""
        self._backend = backend
        self._failover = failover
        self._read = read
        self.key = key
        self.recursive = recursive
        self.resync = resync
        self.probe_interval = probe_interval
        self._timeout = timeout
        self._deadline: float | None = None
        self._streamed = stream
        self._ended_empty = 0
        self._next_index = index
        self._skip = 0
        """Events of ``_next_index`` already delivered (an index cut by a reconnect)."""
        self._dropping = 0
        """Events of ``_next_index`` the current stream has yet to drop as delivered."""
        self._opened: AbstractAsyncContextManager[EventStream] | None = None
        self._stream: EventStream | None = None
        self._endpoint = ""
        self._receiving: asyncio.Future[EtcdResult | None] | None = None
        self._closed = False

    @property
    def next_index(self) -> int | None:
        """The index the next event will have at least; where to resume a watch later
        (on v3, when the loop left in the middle of an index shared by several events,
        resuming there delivers that index's events again)."""
        return self._next_index

    def __aiter__(self) -> Watch:
        return self

    async def __anext__(self) -> EtcdResult:
        if self._closed:
            raise StopAsyncIteration
        try:
            return await self._next()
        except BaseException:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        """Stop watching and release the connection."""
        self._closed = True
        await self._drop()

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _next(self) -> EtcdResult:
        if self._timeout is not None and self._deadline is None:
            self._deadline = asyncio.get_running_loop().time() + self._timeout
        while True:
            if self._stream is None:
                snapshot = await self._start()
                if snapshot is not None:
                    return snapshot
            stream = self._stream
            assert stream is not None
            try:
                event = await self._receive(stream)
            except EtcdWatchTimedOut:
                raise
            except EtcdConnectionFailed:
                self._failover.pool.failed(self._endpoint)
                await self._drop()
                continue
            except LineTooLong:
                raise  # the same event would come again on every reconnect
            except EtcdEventIndexCleared:
                # v3 says so in the stream, after the watch was created.
                await self._drop()
                if not self.resync:
                    raise
                return await self._snapshot()
            except EtcdException:
                await self._drop()  # a line that is not an event: start again cleanly
                continue
            if event is None:
                await self._drop()
                # Ended without an event: etcd dropped a watcher that fell behind, or a
                # member is going away. Again and again is not etcd: slow down.
                if self._ended_empty:
                    await asyncio.sleep(self._failover.policy.backoff(self._ended_empty))
                self._ended_empty += 1
                continue
            self._ended_empty = 0
            index = event.modified_index
            if self._next_index is not None:
                if index < self._next_index:
                    continue  # seen before a reconnect
                if index == self._next_index and self._dropping:
                    self._dropping -= 1
                    continue  # the part of a cut index seen before a reconnect
            self._dropping = 0
            if stream.revision_continues:
                if index != self._next_index:
                    self._next_index, self._skip = index, 0
                self._skip += 1
            else:
                self._next_index, self._skip = index + 1, 0
            if (
                stream.ends_after_history
                and stream.etcd_index is not None
                and index <= stream.etcd_index
            ):
                await self._drop()  # answered from history: this stream will say no more
            return event

    async def _start(self) -> EtcdResult | None:
        """Open a stream on a member that answers; with ``resync``, the snapshot to yield
        first when the history no longer reaches back far enough."""

        async def open_on(endpoint: str, timeout: float | None) -> EventStream:
            # etcd answers with headers at once: waiting longer only waits on a dead member.
            opened = self._backend.watch(
                endpoint,
                self.key,
                recursive=self.recursive,
                wait_index=self._next_index,
                timeout=WATCH_OPEN_TIMEOUT if timeout is None else min(timeout, WATCH_OPEN_TIMEOUT),
                stream=self._streamed,
            )
            stream = await opened.__aenter__()
            self._opened, self._endpoint = opened, endpoint
            return stream

        try:
            self._stream = await self._failover.run(
                open_on, timeout=self._time_left(), repeatable=True, ride_out=True
            )
        except EtcdEventIndexCleared:
            if not self.resync:
                raise
            return await self._snapshot()
        except EtcdTimedOut as exc:
            if self._deadline is None:
                raise self._resumable(exc) from exc
            raise self._timed_out(f"no etcd member answered ({exc})", exc) from exc
        except EtcdConnectionFailed as exc:
            raise self._resumable(exc) from exc
        if self._next_index is None and self._stream.etcd_index is not None:
            self._next_index = self._stream.etcd_index + 1
        self._dropping = self._skip
        return None

    async def _snapshot(self) -> EtcdResult:
        try:
            snapshot = await self._read(self.key, self.recursive)
        except EtcdKeyNotFound as missing:
            index = missing.payload.index if missing.payload is not None else None
            node = EtcdNode(key=self.key, dir=self.recursive)
            snapshot = EtcdResult(action="get", node=node, etcd_index=index)
        snapshot.snapshot = True
        if snapshot.etcd_index is not None:
            self._next_index, self._skip = snapshot.etcd_index + 1, 0
        return snapshot

    async def _receive(self, stream: EventStream) -> EtcdResult | None:
        """The next event; probes the member whenever the stream has been quiet for
        ``probe_interval`` and gives up on it when the probe fails."""
        # A task, so that probing never interrupts a line half read.
        receiving = self._receiving = asyncio.ensure_future(stream.next_event())
        while True:
            left = self._time_left()
            quiet = self.probe_interval
            if left is not None:
                quiet = left if quiet is None else min(quiet, left)
            done, _ = await asyncio.wait({receiving}, timeout=quiet)
            if done:
                self._receiving = None
                return receiving.result()
            if left is not None and left <= (quiet or 0):
                raise self._timed_out(f"no change of {self.key!r} within {self._timeout:g} s")
            await self._probe(stream)

    async def _probe(self, stream: EventStream) -> None:
        """Ask the member, on another connection, whether it is alive and healthy."""
        left = self._time_left()
        limit = WATCH_PROBE_TIMEOUT if left is None else min(WATCH_PROBE_TIMEOUT, left)
        try:
            health = await self._backend.health(self._endpoint, limit)
        except EtcdException as exc:
            if isinstance(exc, EtcdTimedOut) and limit < WATCH_PROBE_TIMEOUT:
                silent = f"{self._endpoint} did not answer a health check ({exc})"
                raise self._timed_out(silent, exc) from exc
            raise EtcdConnectionFailed(
                f"{self._endpoint} stopped answering while watched", cause=exc
            ) from exc
        if not health:
            raise EtcdConnectionFailed(f"{self._endpoint} is not healthy: {health.reason}")
        # Quiet and healthy: no event was waiting in etcd's history for this stream
        # (it would have come right after the headers), so a reconnect may start
        # from the stream's own index and not fall out of the history while idle.
        self._advance(stream.etcd_index)

    def _advance(self, index: int | None) -> None:
        """Every change up to ``index`` was delivered: the next one wanted is after it."""
        if index is not None and self._next_index is not None and not self._skip:
            self._next_index = max(self._next_index, index + 1)

    def _time_left(self) -> float | None:
        if self._deadline is None:
            return None
        return max(0.0, self._deadline - asyncio.get_running_loop().time())

    def _timed_out(self, why: str, cause: BaseException | None = None) -> EtcdWatchTimedOut:
        if self._stream is not None:
            self._advance(self._stream.progress_index)
        return EtcdWatchTimedOut(
            f"watch of {self.key!r} timed out: {why}", cause=cause, next_index=self._next_index
        )

    def _resumable(self, exc: EtcdConnectionFailed) -> EtcdConnectionFailed:
        """``exc``, saying where to resume the watch."""
        where = "" if self._next_index is None else f"; resume it from index {self._next_index}"
        return type(exc)(
            f"watch of {self.key!r} gave up: {exc}{where}",
            exc.payload,
            cause=exc,
            status=exc.status,
            next_index=self._next_index,
        )

    async def _drop(self) -> None:
        receiving, self._receiving = self._receiving, None
        if receiving is not None:
            if receiving.cancel():
                await asyncio.wait({receiving})
            elif not receiving.cancelled():
                receiving.exception()  # the stream is dropped; so is how it ended
        if self._stream is not None:
            self._advance(self._stream.progress_index)
        opened, self._opened, self._stream = self._opened, None, None
        if opened is not None:
            await opened.__aexit__(None, None, None)


async def first_event(watch: Watch) -> EtcdResult:
    """The first event of ``watch``, which is closed afterwards."""
    async with watch:
        return await watch.__anext__()
