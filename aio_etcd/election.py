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

from collections.abc import AsyncGenerator, Callable

from . import _validate as check
from ._client import Client
from ._exceptions import EtcdEventIndexCleared, EtcdKeyNotFound, EtcdValueError
from ._queue import GONE, QueueEntry, entries, position
from .models import EtcdNode, EtcdResult

__all__ = ["DEFAULT_PREFIX", "Election"]

DEFAULT_PREFIX = "/_elections"
DEFAULT_TTL = 10
"""Seconds a leader that stopped (crashed, partitioned) keeps leading before it expires."""


class Election:
    """Candidates queue under ``<prefix>/<name>``; the first in the queue leads.

    A leader's key has a TTL (``ttl``, 10 s by default) refreshed in the background while
    the task that campaigned runs, so a leader that dies is replaced after at most ``ttl``
    seconds. A leader that cannot refresh it (etcd cannot be reached or does not answer)
    counts the lead as lost once ``ttl`` seconds have passed since it sent the last refresh
    that succeeded, the earliest etcd may let the key expire. Campaign values should differ
    between candidates: they tell who leads.
    """

    def __init__(
        self, client: Client, name: str, *, prefix: str = DEFAULT_PREFIX, ttl: int = DEFAULT_TTL
    ) -> None:
        check.queue_name(name, "name")
        seconds = check.ttl(ttl)
        if not seconds:
            raise EtcdValueError("ttl must be at least 1 second")
        self.client = client
        self.name = name
        self.path = f"{check.key(prefix, 'prefix').rstrip('/')}/{name}"
        self.ttl = seconds
        self._entry: QueueEntry | None = None
        self._leading = False
        self._on_lost: list[Callable[[], object]] = []

    @property
    def is_leader(self) -> bool:
        """Whether this candidate leads now (``False`` after resigning or losing the lead)."""
        return self._leading and self._entry is not None and not self._entry.ended.is_set()

    @property
    def fencing_token(self) -> int | None:
        """The index this candidate's key was created at (``None`` when it does not
        campaign); each later leader has a larger one. Pass it along to what the leader
        writes, so that writes from a leader that lost the lead without knowing can be
        refused."""
        return None if self._entry is None else self._entry.index

    async def campaign(self, value: str, timeout: float | None = None) -> bool:
        """Stand with ``value`` and wait to lead; ``True`` once leading, ``False`` when
        ``timeout`` passed first. A candidate that gives up or is cancelled leaves the
        queue. After the lead was lost, a candidate may campaign again at once; while it
        campaigns or leads, it must :meth:`resign` first.

        Raises:
            EtcdOutcomeUnknown: etcd could not say whether the candidate's key was added,
                nor be asked afterwards; :meth:`resign`, or the next ``campaign``, deletes
                it if it is there (else it expires after ``ttl``).
        """
        text = check.text(value, "value")
        if not text:
            raise EtcdValueError("value must be a non-empty str: it tells who leads")
        seconds = None if timeout is None else check.timeout(timeout, None)
        if self._entry is not None:
            if not self._entry.ended.is_set():
                raise RuntimeError("this candidate is already campaigning; resign() first")
            await self.resign()  # what a lost lead or a failed campaign may have left
        entry = self._entry = QueueEntry(self.client, self.path, text, self._on_lost)
        try:
            self._leading = await entry.contend(self.ttl, timeout=seconds)
        finally:
            if entry.left:
                self._entry = None
        return self._leading

    async def resign(self) -> None:
        """Stop leading, or stop campaigning; the next candidate takes over.

        When etcd cannot be reached, raises, and the next ``resign()`` tries again.
        """
        self._leading = False
        if self._entry is not None:
            await self._entry.leave()
            self._entry = None

    async def wait_lost(self) -> None:
        """Return once this candidate leads no more: when the lead is lost (its key expired
        or was deleted) or it resigned; at once when it neither leads nor campaigns."""
        if self._entry is not None:
            await self._entry.ended.wait()

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` whenever the lead is lost, from now on (it may be given
        before :meth:`campaign`); not on resigning, which is no loss."""
        self._on_lost.append(callback)

    async def leader(self) -> str | None:
        """The value the leader campaigned with, or ``None`` when nobody leads."""
        queue, _ = await self._queue()
        head = _head(queue)
        return None if head is None else head.value

    async def observe(self) -> AsyncGenerator[str | None, None]:
        """The leader now (its campaign value, ``None`` while nobody leads), then each new
        leader, in the order etcd made them lead.

        A new leader is a new key at the head of the queue, reported once: a candidate that
        wins again is reported again, with the same value. The queue is listed once and then
        followed change by change from the listing's index, so every term is reported, even
        one that began and ended while the caller was busy, or before a watch from the past
        caught up (etcd v3 replays history in batches, up to 100 ms late). Only when etcd's
        history no longer reaches back is the queue listed again, and a term that passed
        entirely in that gap is not reported.

        The watch stays open between two leaders; it is closed when the generator is: when
        the task iterating is cancelled, or at once on leaving the loop early inside
        ``contextlib.aclosing(election.observe())``.
        """
        queue, index = await self._queue()
        current = _head(queue)
        yield None if current is None else current.value
        while True:
            try:
                async with self.client.watch_iter(self.path, recursive=True, index=index) as watch:
                    async for event in watch:
                        self._apply(queue, event)
                        index = watch.next_index or index
                        if index <= event.modified_index:
                            continue  # the revision goes on: the head is known at its end
                        head = _head(queue)
                        if _key(head) != _key(current):
                            current = head
                            yield None if head is None else head.value
            except EtcdEventIndexCleared:
                queue, index = await self._queue()
                head = _head(queue)
                if _key(head) != _key(current):
                    current = head
                    yield None if head is None else head.value

    def _apply(self, queue: dict[str, EtcdNode], event: EtcdResult) -> None:
        """``queue`` (its entries by key) after ``event``, a change at or below the queue's
        directory; nested queues' keys are no entries. Applying an event twice is harmless."""
        node = event.node
        if event.action in GONE:
            for key in [key for key in queue if key == node.key or key.startswith(node.key + "/")]:
                del queue[key]
        elif not node.dir and node.key.rpartition("/")[0] == self.path:
            queue[node.key] = node

    async def _queue(self) -> tuple[dict[str, EtcdNode], int]:
        """The queue's entries by key, and the index to watch from."""
        try:
            listing = await self.client.read(self.path, sorted=True)
        except EtcdKeyNotFound as missing:
            index = missing.payload.index if missing.payload is not None else None
            return {}, (index or 0) + 1
        assert listing.etcd_index is not None
        return {node.key: node for node in entries(listing)}, listing.etcd_index + 1


def _head(queue: dict[str, EtcdNode]) -> EtcdNode | None:
    """The leading entry: the first created."""
    return min(queue.values(), key=position, default=None)


def _key(node: EtcdNode | None) -> str | None:
    return None if node is None else node.key
