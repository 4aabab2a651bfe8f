"""Leader election over the same fair queue as :class:`~aio_etcd.Lock`.

::

    from aio_etcd.election import Election

    election = Election(client, "scheduler")
    await election.campaign("node-1:8080")     # returns once this candidate leads
    ...
    await election.resign()

    async for leader in Election(client, "scheduler").observe():
        print("the leader is now", leader)      # its campaign value, or None
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from . import _validate as check
from ._aio import bounded
from ._client import Client
from ._exceptions import EtcdEventIndexCleared, EtcdKeyNotFound, EtcdValueError
from ._queue import QueueEntry
from .models import EtcdNode

__all__ = ["DEFAULT_PREFIX", "Election"]

DEFAULT_PREFIX = "/_elections"
DEFAULT_TTL = 10
"""Seconds a leader that stopped (crashed, partitioned) keeps leading before it expires."""


class Election:
    """Candidates queue under ``<prefix>/<name>``; the first in the queue leads.

    A leader's key has a TTL (``ttl``, 10 s by default) refreshed in the background while
    the task that campaigned runs, so a leader that dies is replaced after at most ``ttl``
    seconds. Campaign values should differ between candidates: they tell who leads.
    """

    def __init__(
        self, client: Client, name: str, *, prefix: str = DEFAULT_PREFIX, ttl: int = DEFAULT_TTL
    ) -> None:
        given: object = name
        if not isinstance(given, str):
            raise TypeError(f"name must be a str, not {type(given).__name__}")
        if not given or "/" in given:
            raise EtcdValueError(f"name must be a name without '/', not {given!r}")
        seconds = check.ttl(ttl)
        if not seconds:
            raise EtcdValueError("ttl must be at least 1 second")
        self.client = client
        self.name = name
        self.path = f"{check.key(prefix, 'prefix').rstrip('/')}/{name}"
        self.ttl = seconds
        self._entry: QueueEntry | None = None
        self._leading = False

    @property
    def is_leader(self) -> bool:
        """Whether this candidate leads now (``False`` after resigning or losing the lead)."""
        return self._leading and self._entry is not None and not self._entry.lost.is_set()

    async def campaign(self, value: str, timeout: float | None = None) -> bool:
        """Stand with ``value`` and wait to lead; ``True`` once leading, ``False`` when
        ``timeout`` passed first. A candidate that gives up or is cancelled leaves the
        queue."""
        text = check.text(value, "value")
        if not text:
            raise EtcdValueError("value must be a non-empty str: it tells who leads")
        seconds = None if timeout is None else check.timeout(timeout, None)
        if self._entry is not None:
            raise RuntimeError("this candidate is already campaigning; resign() first")
        entry = QueueEntry(self.client, self.path, text)
        try:
            await entry.join(self.ttl)
            self._entry = entry
            await bounded(entry.wait_first(True), seconds)
        except asyncio.TimeoutError:
            await entry.leave_quietly()
            self._entry = None
            return False
        except BaseException:
            await entry.leave_quietly()
            self._entry = None
            raise
        self._leading = True
        return True

    async def resign(self) -> None:
        """Stop leading, or stop campaigning; the next candidate takes over."""
        entry, self._entry, self._leading = self._entry, None, False
        if entry is not None:
            await entry.leave()

    async def wait_lost(self) -> None:
        """Return when this candidate stops leading without having resigned."""
        if self._entry is not None:
            await self._entry.lost.wait()

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` if the lead is lost (not on resigning)."""
        if self._entry is None:
            raise RuntimeError("campaign() first")
        self._entry.on_lost(callback)

    async def leader(self) -> str | None:
        """The value the leader campaigned with, or ``None`` when nobody leads."""
        first, _ = await self._first()
        return None if first is None else first.value

    async def observe(self) -> AsyncIterator[str | None]:
        """The leader now, then each change of leader (``None`` while nobody leads)."""
        first, index = await self._first()
        current = None if first is None else first.key
        yield None if first is None else first.value
        while True:
            # Any change in the queue may change its head: look again after each.
            watch = self.client.watch_iter(self.path, recursive=True, index=index)
            try:
                async with watch:
                    async for _change in watch:
                        break
            except EtcdEventIndexCleared:
                pass
            first, index = await self._first()
            key = None if first is None else first.key
            if key != current:
                current = key
                yield None if first is None else first.value

    async def _first(self) -> tuple[EtcdNode | None, int]:
        """The leading entry (or ``None``), and the index to watch from."""
        try:
            listing = await self.client.read(self.path, sorted=True)
        except EtcdKeyNotFound as missing:
            index = missing.payload.index if missing.payload is not None else None
            return None, (index or 0) + 1
        assert listing.etcd_index is not None
        nodes = listing.node.nodes or []
        return (nodes[0] if nodes else None), listing.etcd_index + 1
