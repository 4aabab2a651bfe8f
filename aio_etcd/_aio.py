"""asyncio helpers that behave the same on every Python the package supports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

LOSS_MARGIN = 0.25
"""Seconds: a key or lease that no renewal reached is counted lost this long *before* its
TTL runs out (counted from the sending of the last renewal that succeeded). etcd may expire
it as soon as the TTL has passed since it applied that renewal; the margin covers a
timeout firing late (:attr:`Deadlines.TICK`) and a busy event loop, so the holder knows
first."""


async def bounded(
    awaitable: Awaitable[T],
    timeout: float | None,
    *,
    discard: Callable[[T], object] | None = None,
) -> T:
    """``await awaitable``, raising :class:`asyncio.TimeoutError` after ``timeout`` seconds.

    Unlike ``asyncio.wait_for`` before Python 3.12, a cancellation that arrives just as the
    awaitable finishes is never lost. ``discard`` receives a result that came too late to
    be returned (e.g. to close a reply nobody will read).
    """
    if timeout is None:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
    except BaseException:
        await _abandon(task, discard)
        raise
    if not done:
        await _abandon(task, discard)
        raise asyncio.TimeoutError
    return task.result()


async def _abandon(task: asyncio.Future[T], discard: Callable[[T], object] | None) -> None:
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is None and discard is not None:
        discard(task.result())


class Deadlines:
    """Cancels tasks whose deadline passed, with one timer for all of them.

    A timer per request (aiohttp's timeouts, ``asyncio.timeout``) costs more CPU than the
    rest of a small etcd call; here a request only adds and removes a dict entry, and a
    timeout fires up to :data:`TICK` late.
    """

    TICK = 0.05

    def __init__(self) -> None:
        self._due: dict[asyncio.Task[object], float] = {}
        self._expired: set[asyncio.Task[object]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, task: asyncio.Task[object], timeout: float) -> None:
        loop = asyncio.get_running_loop()
        self._due[task] = loop.time() + timeout
        if self._timer is None:
            self._timer = loop.call_later(min(timeout, self.TICK), self._sweep)

    def done(self, task: asyncio.Task[object]) -> bool:
        """Forget ``task``; ``True`` when it was cancelled because its deadline passed."""
        self._due.pop(task, None)
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        for task, due in list(self._due.items()):
            if due <= now:
                del self._due[task]
                self._expired.add(task)
                task.cancel()
        self._timer = loop.call_later(self.TICK, self._sweep) if self._due else None
