"""``V3Backend``: the client's ``Backend`` on etcd's v3 JSON gateway.

Every call goes to the endpoint the client's failover chose, through the
:class:`~aio_etcd._v3._gateway.Gateway` (JSON over the client's transport, the auth token,
the cluster id check).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from .._backend import AuthReply, EventStream
from .._requests import AuthRequest, KeysRequest
from .._v3._gateway import Gateway
from ..models import (
    EtcdResult,
    Health,
    LeaderStats,
    Member,
    SelfStats,
    StoreStats,
    VersionInfo,
)
from . import _cluster
from ._auth import AuthAdmin
from ._events import open_watch
from ._keys import Keys


class V3Backend:
    """The documented calls on etcd's v3 API (etcd >= 3.4, with or without v2)."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._keys = Keys(gateway)
        self._auth = AuthAdmin(gateway)

    async def keys(self, endpoint: str, request: KeysRequest, timeout: float | None) -> EtcdResult:
        return await self._keys.run(endpoint, request, timeout)

    async def version(self, endpoint: str, timeout: float | None) -> VersionInfo:
        return await _cluster.version(self._gateway, endpoint, timeout)

    async def health(self, endpoint: str, timeout: float | None) -> Health:
        return await _cluster.health(self._gateway, endpoint, timeout)

    async def machines(self, endpoint: str, timeout: float | None) -> list[str]:
        return await self._gateway.member_urls(endpoint, timeout)

    async def members(self, endpoint: str, timeout: float | None) -> list[Member]:
        return await _cluster.members(self._gateway, endpoint, timeout)

    async def leader(self, endpoint: str, timeout: float | None) -> Member:
        return await _cluster.leader(self._gateway, endpoint, timeout)

    async def self_stats(self, endpoint: str, timeout: float | None) -> SelfStats:
        return await _cluster.self_stats(self._gateway, endpoint, timeout)

    async def leader_stats(self, endpoint: str, timeout: float | None) -> LeaderStats:
        raise _cluster.no_leader_stats()

    async def store_stats(self, endpoint: str, timeout: float | None) -> StoreStats:
        raise _cluster.no_store_stats()

    async def add_member(
        self, endpoint: str, peer_urls: Sequence[str], timeout: float | None
    ) -> Member:
        return await _cluster.add_member(self._gateway, endpoint, peer_urls, timeout)

    async def update_member(
        self, endpoint: str, member_id: str, peer_urls: Sequence[str], timeout: float | None
    ) -> None:
        await _cluster.update_member(self._gateway, endpoint, member_id, peer_urls, timeout)

    async def remove_member(self, endpoint: str, member_id: str, timeout: float | None) -> None:
        await _cluster.remove_member(self._gateway, endpoint, member_id, timeout)

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
        return open_watch(
            self._gateway,
            endpoint,
            key,
            recursive=recursive,
            wait_index=wait_index,
            timeout=timeout,
            stream=stream,
        )

    async def auth(self, endpoint: str, request: AuthRequest, timeout: float | None) -> AuthReply:
        return await self._auth.run(endpoint, request, timeout)

    async def aclose(self) -> None:
        await self._keys.aclose()
        await self._gateway.aclose()
