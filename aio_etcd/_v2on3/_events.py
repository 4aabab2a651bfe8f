"""Watches of the documented calls on etcd's v3 watch stream (not built yet)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .._backend import EventStream
from .._exceptions import EtcdAPIUnavailable
from .._v3._gateway import Gateway


@asynccontextmanager
async def open_watch(
    gateway: Gateway,
    endpoint: str,
    key: str,
    *,
    recursive: bool,
    wait_index: int | None,
    timeout: float | None,
    stream: bool = True,
) -> AsyncIterator[EventStream]:
    """The events of ``key`` (see ``Backend.watch``) from a v3 watch on ``endpoint``."""
    raise EtcdAPIUnavailable("watches on api='v3' are not built yet")
    yield  # type: ignore[unreachable]  # makes this a generator
