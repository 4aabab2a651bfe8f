"""A lock that excludes: a fair queue of in-order keys under ``<lock_prefix>/<name>``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from types import TracebackType

from . import _validate as check
from ._client import Client
from ._exceptions import EtcdValueError
from ._queue import QueueEntry
from ._types import NOT_GIVEN, NotGiven


class Lock:
    """A distributed lock, fair (first come, first served) and safe under failures::

        async with aio_etcd.Lock(client, "customer1", lock_ttl=30) as lock:
            ...  # only one holder at a time, across processes and machines

    Creating it does no I/O. Waiting contenders each watch the one key before their own,
    so a release wakes exactly one of them.

    With ``lock_ttl``, the lock's key lives that many seconds and is renewed in the
    background. If the task that acquired it is cancelled or fails without releasing (as a
    crashed process would), the renewing stops and the lock expires. A holder that cannot
    renew it (etcd cannot be reached or does not answer) counts it as lost 0.25 s before
    ``lock_ttl`` seconds have passed since it sent the last renewal that succeeded, just
    before the earliest etcd may let the key expire: :attr:`is_acquired` turns ``False``,
    :meth:`wait_lost` returns and the :meth:`on_lost` callbacks are called. A blocked
    event loop delays that; see :attr:`fencing_token`.

    Args:
        lock_ttl: what :meth:`acquire` uses when not given one, and so does ``async with``;
            ``None``, the default, holds the lock until it is released.
    """

    def __init__(self, client: Client, lock_name: str, *, lock_ttl: int | None = None) -> None:
        check.queue_name(lock_name, "lock_name")
        self.client = client
        self.name = lock_name
        self.path = f"{client.lock_prefix.rstrip('/')}/{lock_name}"
        self.lock_ttl = _lock_ttl(lock_ttl)
        self._uuid = uuid.uuid4().hex
        self._entry: QueueEntry | None = None
        self._held = False
        self._on_lost: list[Callable[[], object]] = []

    @property
    def uuid(self) -> str:
        """The value of this lock's key: tells its key from other contenders'."""
        return self._uuid

    @property
    def is_acquired(self) -> bool:
        """Whether this lock is held now (``False`` once it is lost or released)."""
        return self._held and self._entry is not None and not self._entry.ended.is_set()

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
        self,
        blocking: bool = True,
        lock_ttl: int | NotGiven | None = NOT_GIVEN,
        timeout: float | None = None,
    ) -> bool:
        """Take the lock; ``True`` once held.

        Args:
            blocking: wait for the lock; ``False`` returns ``False`` at once when it is taken.
            lock_ttl: seconds the lock lives without its holder; ``None`` until released.
                By default the ``lock_ttl`` the lock was created with. Calling ``acquire``
                while holding the lock renews it with this TTL.
            timeout: give up after this many seconds and return ``False``.

        A contender that gives up, fails or is cancelled deletes its key before returning.

        Raises:
            EtcdOutcomeUnknown: etcd could not say whether the lock's key was added, nor be
                asked afterwards. The key may remain (without ``lock_ttl``, blocking the lock
                for good): :meth:`release`, or the next ``acquire``, deletes it.
        """
        ttl = self.lock_ttl if isinstance(lock_ttl, NotGiven) else _lock_ttl(lock_ttl)
        seconds = None if timeout is None else check.timeout(timeout, None)
        check.flag(blocking, "blocking")
        if self.is_acquired and self._entry is not None:
            if ttl is not None:
                await self._entry.renew(ttl)
            return True
        if self._entry is not None and self._entry.ended.is_set():
            await self.release()  # what a lost lock or a failed acquire may have left
        entry = self._entry = QueueEntry(self.client, self.path, self._uuid, self._on_lost)
        self._held = False
        try:
            self._held = await entry.contend(ttl, blocking=blocking, timeout=seconds)
        finally:
            if entry.left:
                self._entry = None
        return self._held

    async def release(self) -> None:
        """Give the lock up (or stop waiting for it). Safe when not held.

        When etcd cannot be reached, raises, and the next ``release()`` tries again.
        """
        self._held = False
        if self._entry is not None:
            await self._entry.leave()
            self._entry = None

    async def wait_lost(self) -> None:
        """Return once the lock is held no more: when it is lost (its key expired or was
        deleted) or released; at once when it is neither held nor being acquired."""
        if self._entry is not None:
            await self._entry.ended.wait()

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` whenever a held lock is lost, from now on; not when it is
        released, which is no loss."""
        self._on_lost.append(callback)

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


def _lock_ttl(value: int | None) -> int | None:
    ttl = check.ttl(value, "lock_ttl")
    if ttl == 0:
        raise EtcdValueError("lock_ttl must be at least 1 second, or None")
    return ttl
