"""What a protocol backend does for the client.

The client turns each documented call into a typed request and hands it, with the endpoint
the failover policy chose and the time left, to a backend: ``_v2`` speaks etcd's v2 HTTP
API, ``_v2on3`` runs the same calls on its v3 JSON gateway (``Client(api="v3")``). The
client's calls do not change with the backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeAlias

from ._requests import AuthRequest, KeysRequest
from .models import (
    AuthStatus,
    EtcdResult,
    Health,
    LeaderStats,
    Member,
    Role,
    RoleList,
    SelfStats,
    StoreStats,
    User,
    UserList,
    VersionInfo,
)

AuthReply: TypeAlias = "AuthStatus | User | Role | UserList | RoleList | None"


class EventStream(Protocol):
    """The events of one streaming watch, in the order the server sends them."""

    etcd_index: int | None
    """The store's index when the watch began."""

    ends_after_history: bool
    """Whether the stream ends after an event at or below :attr:`etcd_index` (v2 answers
    a watch from its history that way); a v3 stream replays history and goes on."""

    revision_continues: bool
    """Whether more events of the index of the event last given follow (a v3 revision
    may hold several: a transaction, a range delete); always false on v2."""

    progress_index: int | None
    """An index up to which every change was given, when the stream knows one (a v3
    progress notification); ``None`` otherwise."""

    async def next_event(self) -> EtcdResult | None:
        """The next event, waiting as long as it takes; ``None`` when the stream ended
        (the server went away, or dropped a watcher that fell 100 events behind)."""
        ...


class Backend(Protocol):
    """Every method sends one request to ``endpoint`` (``scheme://host:port``) and gives up
    after ``timeout`` seconds (``None``: no limit)."""

    async def keys(self, endpoint: str, request: KeysRequest, timeout: float | None) -> EtcdResult:
        """Execute a read, write or delete of the key space."""
        ...

    async def version(self, endpoint: str, timeout: float | None) -> VersionInfo: ...

    async def health(self, endpoint: str, timeout: float | None) -> Health: ...

    async def machines(self, endpoint: str, timeout: float | None) -> list[str]:
        """Every member's client URLs."""
        ...

    async def members(self, endpoint: str, timeout: float | None) -> list[Member]: ...

    async def leader(self, endpoint: str, timeout: float | None) -> Member: ...

    async def self_stats(self, endpoint: str, timeout: float | None) -> SelfStats: ...

    async def leader_stats(self, endpoint: str, timeout: float | None) -> LeaderStats: ...

    async def store_stats(self, endpoint: str, timeout: float | None) -> StoreStats: ...

    async def add_member(
        self, endpoint: str, peer_urls: Sequence[str], timeout: float | None
    ) -> Member: ...

    async def update_member(
        self, endpoint: str, member_id: str, peer_urls: Sequence[str], timeout: float | None
    ) -> None: ...

    async def remove_member(self, endpoint: str, member_id: str, timeout: float | None) -> None: ...

    def watch(
        self,
        endpoint: str,
        key: str,
        *,
        recursive: bool,
        wait_index: int | None,
        timeout: float | None,
        stream: bool = True,
    ) -> AbstractAsyncContextManager[EventStream]:
        """Stream the changes of ``key`` from ``wait_index`` on (``None``: from now).

        ``timeout`` bounds the start, until the server has answered; raises as :meth:`keys`
        does when etcd refuses. ``stream=False`` asks for one event only.
        """
        ...

    async def auth(self, endpoint: str, request: AuthRequest, timeout: float | None) -> AuthReply:
        """A call of the auth admin API: :class:`AuthStatus` when asking whether auth is on,
        :class:`UserList` or :class:`RoleList` for ``list``, :class:`User` or :class:`Role`
        for ``get``, ``None`` for changes."""
        ...

    async def aclose(self) -> None:
        """Release everything the backend holds."""
        ...
