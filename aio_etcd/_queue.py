"""A fair queue of in-order keys: what locks and elections are built on.

Each contender appends a key under one directory; the directory's keys ordered by their
creation index are the queue (etcd v2 also names in-order keys after their index; ordering
by the index itself does not rely on the naming). A contender is first when no key
precedes its own; otherwise it watches the key just before its own, from the index of the
listing, so it cannot miss that key's deletion and only one contender wakes per deletion.

While queued or first, a key with a TTL is refreshed in the background (``refresh=true``:
the value stays, watchers are not woken). The refreshing belongs to the task that joined:
when that task is cancelled or fails without leaving, the refreshing stops and the key
expires, as if its process had died. A task that returns normally hands the entry on.

A key that no refresh reached for its TTL counts as lost, whether or not etcd has let it
expire yet: etcd starts the TTL when it applies a refresh, after it was sent, so the key
lives at least ``ttl`` seconds from the sending of the last refresh that succeeded, and
never less. The loss is counted :data:`~aio_etcd._aio.LOSS_MARGIN` before then, and each
refresh is bounded by the time left until that point.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ._aio import LOSS_MARGIN, bounded
from ._client import Client
from ._exceptions import (
    EtcdCompareFailed,
    EtcdConnectionFailed,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdKeyNotFound,
    EtcdLockExpired,
    EtcdOutcomeUnknown,
)
from .models import EtcdNode, EtcdResult

GONE = ("delete", "expire", "compareAndDelete")


def entries(listing: EtcdResult) -> list[EtcdNode]:
    """The contenders' keys in a listing of a queue directory, in order of creation. Its
    directories are not contenders: they are the queues of names nested below this one's
    (a lock ``jobs/nightly`` below a lock ``jobs``)."""
    nodes = (node for node in listing.node.nodes or () if not node.dir)
    return sorted(nodes, key=position)


def position(node: EtcdNode) -> tuple[int, str]:
    """Where ``node`` stands in its queue: by creation, then by name (one v3 revision may
    create several keys)."""
    return node.created_index, node.key


class QueueEntry:
    """One contender's key in a queue directory, and the task that keeps it alive."""

    def __init__(
        self, client: Client, directory: str, value: str, on_lost: list[Callable[[], object]]
    ) -> None:
        """``on_lost``: called when the key is lost (not when the entry leaves); the list is
        read at that moment, so callbacks added to it later count too."""
        self.client = client
        self.directory = directory
        self.value = value
        self.key: str | None = None
        self.index: int | None = None
        """The key's creation index: increases with every entry, so it is a fencing token."""
        self.ttl: int | None = None
        self.ended = asyncio.Event()
        """Set once the entry stands in the queue no more: its key was lost, it left, or
        joining failed with a key that may remain (see :attr:`unsure`)."""
        self.unsure = False
        """Joining could not tell whether it added a key: :meth:`leave` looks for it."""
        self._ttl_set_at = 0.0
        """When the last write that set the key's TTL was sent, by the loop's clock."""
        self._keeper: asyncio.Task[None] | None = None
        self._owner: asyncio.Task[object] | None = None
        self._on_lost = on_lost

    @property
    def left(self) -> bool:
        """Nothing of this entry is in etcd: it never joined, or it left."""
        return self.key is None and not self.unsure

    async def contend(
        self, ttl: int | None, *, blocking: bool = True, timeout: float | None = None
    ) -> bool:
        """Join, and wait to be first: ``True`` once first; ``False`` when another is first
        and not ``blocking``, or when ``timeout`` passed. An entry that gives up, fails or is
        cancelled leaves, unless joining could not tell whether it added a key."""
        try:
            await self.join(ttl)
            first = await self._first_within(blocking, timeout)
        except BaseException:
            if not self.unsure:  # etcd just failed twice: leave() is for later
                await self.leave_quietly()
            raise
        if not first:
            await self.leave_quietly()
        return first

    async def join(self, ttl: int | None) -> None:
        """Append this contender's key to the queue."""
        sent_at = asyncio.get_running_loop().time()
        try:
            created = await self.client.write(self.directory, self.value, ttl=ttl, append=True)
            self.key, self.index = created.key, created.created_index
        except EtcdOutcomeUnknown as unknown:
            # The key may exist: find it by its value, or give up with nothing left behind.
            try:
                found = await self._find()
            except EtcdException as failed:
                self.unsure = True
                self.ended.set()
                raise EtcdOutcomeUnknown(
                    f"adding a key under {self.directory} may or may not have worked, and "
                    f"looking for it failed ({failed}): a key with the value {self.value!r} "
                    "may remain there, until release() or resign() deletes it",
                    cause=unknown,
                ) from failed
            if found is None:
                raise
            self.key, self.index = found.key, found.created_index
        self.ttl, self._ttl_set_at = ttl, sent_at
        self._start_keeping()

    async def wait_first(self, blocking: bool) -> bool:
        """Wait until no key precedes this one; ``False`` at once if one does and not
        ``blocking``."""
        assert self.key is not None
        while True:
            try:
                listing = await self.client.read(self.directory, sorted=True)
            except EtcdKeyNotFound:
                raise EtcdLockExpired(f"{self.key} expired or was deleted while queued") from None
            keys = [node.key for node in entries(listing)]
            if self.key not in keys:
                raise EtcdLockExpired(f"{self.key} expired or was deleted while queued")
            position = keys.index(self.key)
            if position == 0:
                return True
            if not blocking:
                return False
            assert listing.etcd_index is not None
            await self._wait_gone(keys[position - 1], listing.etcd_index + 1)

    async def _first_within(self, blocking: bool, timeout: float | None) -> bool:
        try:
            return await bounded(self.wait_first(blocking), timeout)
        except EtcdException:
            raise  # an EtcdTimedOut is a failure to report, not the end of the wait
        except asyncio.TimeoutError:
            return False

    async def _wait_gone(self, key: str, index: int) -> bool:
        """Wait for ``key`` to be deleted or expire at ``index`` or later; ``False`` when
        etcd's history no longer reaches back to ``index`` (look again)."""
        watch = self.client.watch_iter(key, index=index)
        try:
            async with watch:
                async for event in watch:
                    if event.action in GONE:
                        return True
        except EtcdEventIndexCleared:
            return False
        raise AssertionError("a watch never ends by itself")  # pragma: no cover

    async def renew(self, ttl: int) -> None:
        """Refresh the key with a new TTL now, and with that TTL from now on."""
        assert self.key is not None
        sent_at = asyncio.get_running_loop().time()
        await self.client.refresh(self.key, ttl, prevValue=self.value)
        await self._stop_keeping()
        self.ttl, self._ttl_set_at = ttl, sent_at
        self._start_keeping()

    async def leave(self) -> None:
        """Delete this contender's key, if it still exists. Safe to call more than once;
        after a failure (etcd cannot be reached), calling it again tries again."""
        self.ended.set()
        await self._stop_keeping()
        if self.unsure:
            found = await self._find()
            self.key, self.unsure = (None if found is None else found.key), False
        if self.key is not None:
            # Deleted, expired, or (not found by its value) no longer this contender's.
            with contextlib.suppress(EtcdKeyNotFound, EtcdCompareFailed):
                await self.client.delete(self.key, prevValue=self.value)
            self.key = None

    async def leave_quietly(self) -> None:
        """:meth:`leave`, even while the calling task is being cancelled."""
        await asyncio.shield(self.leave())

    async def _find(self) -> EtcdNode | None:
        try:
            listing = await self.client.read(self.directory, sorted=True)
        except EtcdKeyNotFound:
            return None
        return next((node for node in entries(listing) if node.value == self.value), None)

    def _start_keeping(self) -> None:
        self._owner = asyncio.current_task()
        self._keeper = asyncio.ensure_future(self._keep())
        if self._owner is not None:
            self._owner.add_done_callback(self._owner_done)

    def _owner_done(self, task: asyncio.Task[object]) -> None:
        # A task that returns has handed the entry on (e.g. ``create_task(acquire())``);
        # one that was cancelled or failed while holding it died, and so does the entry.
        died = task.cancelled() or task.exception() is not None
        if died and self._keeper is not None:
            self._keeper.cancel()

    async def _stop_keeping(self) -> None:
        keeper, self._keeper = self._keeper, None
        if self._owner is not None:
            self._owner.remove_done_callback(self._owner_done)
            self._owner = None
        if keeper is not None:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep(self) -> None:
        """Refresh the key's TTL and notice when the key is gone."""
        assert self.key is not None and self.index is not None
        refreshing = self._refresh() if self.ttl is not None else None
        watching = self._watch_own_key(self.key, self.index + 1)
        tasks = [asyncio.ensure_future(watching)]
        if refreshing is not None:
            tasks.append(asyncio.ensure_future(refreshing))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            for task in tasks:
                if not task.cancelled():
                    task.exception()  # how it ended matters no more: the key is gone
        self.ended.set()
        for callback in self._on_lost:
            callback()

    async def _refresh(self) -> None:
        """Returns when the key is gone, or may have expired: no refresh succeeded in time."""
        assert self.key is not None and self.ttl is not None
        loop = asyncio.get_running_loop()
        interval = max(self.ttl / 3, 0.1)
        while True:
            expires_at = self._ttl_set_at + self.ttl - LOSS_MARGIN  # etcd's earliest, less a margin
            await asyncio.sleep(min(interval, expires_at - loop.time()))
            sent_at = loop.time()
            if sent_at >= expires_at:
                return
            try:
                await self.client.refresh(
                    self.key, self.ttl, prevValue=self.value, timeout=expires_at - sent_at
                )
            except (EtcdKeyNotFound, EtcdCompareFailed):
                return  # gone, or no longer this contender's
            except EtcdException:
                continue  # try again while the key may live
            self._ttl_set_at = sent_at

    async def _watch_own_key(self, key: str, index: int) -> None:
        while True:
            try:
                if await self._wait_gone(key, index):
                    return
            except EtcdConnectionFailed:
                await asyncio.sleep(0.5)
            try:
                current = await self.client.read(key)
            except EtcdKeyNotFound:
                return
            assert current.etcd_index is not None
            index = current.etcd_index + 1
