"""A fair queue of in-order keys: what locks and elections are built on.

Each contender appends a key under one directory; etcd names in-order keys after their
index, so the directory listed in key order is the queue. A contender is first when no key
precedes its own; otherwise it watches the key just before its own, from the index of the
listing, so it cannot miss that key's deletion and only one contender wakes per deletion.

While queued or first, a key with a TTL is refreshed in the background (``refresh=true``:
the value stays, watchers are not woken). The refreshing belongs to the task that joined:
when that task is cancelled or fails without leaving, the refreshing stops and the key
expires, as if its process had died. A task that returns normally hands the entry on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ._client import Client
from ._exceptions import (
    EtcdConnectionFailed,
    EtcdEventIndexCleared,
    EtcdException,
    EtcdKeyNotFound,
    EtcdLockExpired,
    EtcdOutcomeUnknown,
)
from .models import EtcdNode

GONE = ("delete", "expire", "compareAndDelete")


class QueueEntry:
    """One contender's key in a queue directory, and the task that keeps it alive."""

    def __init__(self, client: Client, directory: str, value: str) -> None:
        self.client = client
        self.directory = directory
        self.value = value
        self.key: str | None = None
        self.index: int | None = None
        """The key's creation index: increases with every entry, so it is a fencing token."""
        self.ttl: int | None = None
        self.lost = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        self._owner: asyncio.Task[object] | None = None
        self._on_lost: list[Callable[[], object]] = []

    async def join(self, ttl: int | None) -> None:
        """Append this contender's key to the queue."""
        try:
            created = await self.client.write(self.directory, self.value, ttl=ttl, append=True)
            self.key, self.index = created.key, created.created_index
        except EtcdOutcomeUnknown:
            # The key may exist: find it by its value, or give up with nothing left behind.
            found = await self._find()
            if found is None:
                raise
            self.key, self.index = found.key, found.created_index
        self.ttl = ttl
        self.lost.clear()
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
            keys = [node.key for node in listing.node.nodes or ()]
            if self.key not in keys:
                raise EtcdLockExpired(f"{self.key} expired or was deleted while queued")
            position = keys.index(self.key)
            if position == 0:
                return True
            if not blocking:
                return False
            assert listing.etcd_index is not None
            await self._wait_gone(keys[position - 1], listing.etcd_index + 1)

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

    async def keep_with(self, ttl: int) -> None:
        """Refresh with a new TTL from now on."""
        await self._stop_keeping()
        self.ttl = ttl
        self._start_keeping()

    async def leave(self) -> None:
        """Delete this contender's key, if it still exists. Safe to call more than once."""
        await self._stop_keeping()
        key, self.key = self.key, None
        if key is not None:
            with contextlib.suppress(EtcdKeyNotFound):
                await self.client.delete(key, prevValue=self.value)

    async def leave_quietly(self) -> None:
        """:meth:`leave`, even while the calling task is being cancelled."""
        await asyncio.shield(self.leave())

    def on_lost(self, callback: Callable[[], object]) -> None:
        self._on_lost.append(callback)

    async def _find(self) -> EtcdNode | None:
        try:
            listing = await self.client.read(self.directory, sorted=True)
        except EtcdKeyNotFound:
            return None
        nodes = listing.node.nodes or ()
        return next((node for node in nodes if node.value == self.value), None)

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
        self.lost.set()
        for callback in self._on_lost:
            callback()

    async def _refresh(self) -> None:
        """Returns when the key is gone, or could not be refreshed before it expired."""
        assert self.key is not None and self.ttl is not None
        loop = asyncio.get_running_loop()
        refreshed_at = loop.time()
        while loop.time() - refreshed_at < self.ttl:
            await asyncio.sleep(max(self.ttl / 3, 0.1))
            try:
                await self.client.refresh(self.key, self.ttl, prevValue=self.value)
            except EtcdKeyNotFound:
                return
            except (EtcdConnectionFailed, EtcdException):
                continue  # try again; the TTL bounds how long
            refreshed_at = loop.time()

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
