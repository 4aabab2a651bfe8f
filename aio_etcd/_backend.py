"""What a protocol backend does for the client.

The client turns each documented call into a typed request and hands it to a backend. The
v2 HTTP API is the only backend today (``_v2``); a backend for etcd's v3 JSON gateway would
implement the same methods, and the client's calls would not change.
"""

from __future__ import annotations

from typing import Protocol

from ._requests import ClusterRequest, KeysRequest
from .models import EtcdResult, Member, VersionInfo


class Backend(Protocol):
    async def keys(self, request: KeysRequest) -> EtcdResult:
        """Execute a read, write or delete of the key space."""
        ...

    async def version(self, request: ClusterRequest) -> VersionInfo:
        """The server's and the cluster's versions."""
        ...

    async def machines(self, request: ClusterRequest) -> list[str]:
        """Every member's client URLs."""
        ...

    async def leader(self, request: ClusterRequest) -> Member:
        """The member that leads the cluster now."""
        ...

    async def aclose(self) -> None:
        """Release everything the backend holds."""
        ...
