"""asyncio helpers that behave the same on every Python the package supports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


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
