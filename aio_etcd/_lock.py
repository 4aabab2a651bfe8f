"""A lock that excludes: a fair queue of in-order keys under ``<lock_prefix>/<name>``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from types import TracebackType

from . import _validate as check
from ._aio import bounded
from ._client import Client
from ._exceptions import EtcdValueError
from ._queue import QueueEntry


class Lock:
    """A distributed lock, fair (first come, first served) and safe under failures::

        async with aio_etcd.Lock(client, "customer1") as lock:
            ...  # only one holder at a time, across processes and machines

    Creating it does no I/O. Waiting contenders each watch the one key before their own,
    so a release wakes exactly one of them. With ``lock_ttl``, the lock is kept alive in
    the background; if the task that acquired it is cancelled or fails without releasing
    (as a crashed process would), or the holder cannot reach etcd for ``lock_ttl``
    seconds, the lock expires and :attr:`is_acquired` turns ``False``.
    """

    def __init__(self, client: Client, lock_name: str) -> None:
        name: object = lock_name
        if not isinstance(name, str):
            raise TypeError(f"lock_name must be a str, not {type(name).__name__}")
        if not name or "/" in name:
            raise EtcdValueError(f"lock_name must be a name without '/', not {name!r}")
        self.client = client
        self.name = lock_name
        self.path = f"{client.lock_prefix.rstrip('/')}/{lock_name}"
        self._uuid = uuid.uuid4().hex
        self._entry: QueueEntry | None = None
        self._held = False
        self._callbacks: list[Callable[[], object]] = []

    @property
    def uuid(self) -> str:
        """The value of this lock's key: tells its key from other contenders'."""
        return self._uuid

    @property
    def is_acquired(self) -> bool:
        """Whether this lock is held now (``False`` once it is lost or released)."""
        return self._held and self._entry is not None and not self._entry.lost.is_set()

    @property
    def lock_key(self) -> str | None:
        """The key this lock holds or waits with, e.g. ``/_locks/name/00000000000000000042``."""
        return None if self._entry is None else self._entry.key

    @property
    def fencing_token(self) -> int | None:
        """The index the lock's key was created at; a later holder always has a larger one.
        Pass it along to what the lock protects, so that writes from a holder that lost the
        lock without knowing can be refused."""
        return None if self._entry is None else self._entry.index

    async def acquire(
        self, blocking: bool = True, lock_ttl: int | None = None, timeout: float | None = None
    ) -> bool:
        """Take the lock; ``True`` once held.

        Args:
            blocking: wait for the lock; ``False`` returns ``False`` at once when it is taken.
            lock_ttl: seconds the lock lives without its holder; ``None`` until released.
                Calling ``acquire(lock_ttl=...)`` while holding the lock renews it.
            timeout: give up after this many seconds and return ``False``.

        A contender that gives up, fails or is cancelled deletes its key before returning.
        """
        ttl = check.ttl(lock_ttl, "lock_ttl")
        if ttl == 0:
            raise EtcdValueError("lock_ttl must be at least 1 second, or None")
        seconds = None if timeout is None else check.timeout(timeout, None)
        check.flag(blocking, "blocking")
        if self.is_acquired and self._entry is not None:
            if ttl is not None:
                await self._renew(ttl)
            return True
        entry = QueueEntry(self.client, self.path, self._uuid)
        for callback in self._callbacks:
            entry.on_lost(callback)
        try:
            await entry.join(ttl)
            self._entry = entry
            first = await bounded(entry.wait_first(blocking), seconds)
        except asyncio.TimeoutError:
            first = False
        except BaseException:
            await entry.leave_quietly()
            self._entry = None
            raise
        if not first:
            await entry.leave_quietly()
            self._entry = None
            return False
        self._held = True
        return True

    async def release(self) -> None:
        """Give the lock up (or stop waiting for it). Safe when not held."""
        entry, self._entry, self._held = self._entry, None, False
        if entry is not None:
            await entry.leave()

    async def wait_lost(self) -> None:
        """Return when the held lock is lost (its key expired or was deleted)."""
        if self._entry is None:
            return
        await self._entry.lost.wait()

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` when a held lock is lost (not when it is released)."""
        self._callbacks.append(callback)
        if self._entry is not None:
            self._entry.on_lost(callback)

    async def _renew(self, ttl: int) -> None:
        assert self._entry is not None and self._entry.key is not None
        await self.client.refresh(self._entry.key, ttl, prevValue=self._uuid)
        await self._entry.keep_with(ttl)

    async def __aenter__(self) -> Lock:
        await self.acquire()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.shield(self.release())

    def __repr__(self) -> str:
        state = "held" if self.is_acquired else "not held"
        return f"<aio_etcd.Lock {self.path!r} {state}>"
