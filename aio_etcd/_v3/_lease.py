"""Leases: the ``Lease`` service (``/v3/lease/*``), and a lease kept alive in the background.

Follows etcd-io/etcd ``api/etcdserverpb/rpc.proto`` (``LeaseGrant``, ``LeaseRevoke``,
``LeaseKeepAlive``, ``LeaseTimeToLive``, ``LeaseLeases``). The gateway cannot carry gRPC's
bidirectional keep-alive stream, so each renewal is one ``POST /v3/lease/keepalive`` with one
message (reference etcd-v3-gateway.md §2.5). TTLs are whole seconds.
"""

from __future__ import annotations

from typing import Protocol

from .._exceptions import EtcdLeaseNotFound
from .._types import NOT_GIVEN, Timeout
from ..models.v3.lease import (
    LeaseGrantRequest,
    LeaseGrantResponse,
    LeaseKeepAliveRequest,
    LeaseKeepAliveResponse,
    LeaseLeasesRequest,
    LeaseLeasesResponse,
    LeaseRevokeRequest,
    LeaseRevokeResponse,
    LeaseTimeToLiveRequest,
    LeaseTimeToLiveResponse,
)
from . import _args as check
from ._gateway import Gateway, Part

MAX_TTL = 9_000_000_000
"""Seconds; etcd refuses more (``too large lease TTL``, etcd-io/etcd ``lease/lessor.go``
``MaxLeaseTTL``)."""


class HasLeaseId(Protocol):
    """Anything with a lease ``id``: a :class:`Lease`, a :class:`LeaseGrantResponse`."""

    @property
    def id(self) -> int: ...


LeaseLike = int | HasLeaseId
"""A lease: its id, or an object that has one."""


def lease_id(lease: LeaseLike, name: str = "lease") -> int:
    """The id of ``lease`` (1 or more)."""
    if isinstance(lease, int) and not isinstance(lease, bool):
        return check.integer(lease, name, low=1)
    number = getattr(lease, "id", None)
    if isinstance(number, int) and not isinstance(number, bool):
        return check.integer(number, f"{name}.id", low=1)
    raise TypeError(f"{name} must be a lease id (int) or a Lease, not {type(lease).__name__}")


def ttl_seconds(ttl: object, name: str = "ttl") -> int:
    """A TTL in whole seconds, 1 to :data:`MAX_TTL`."""
    return check.integer(ttl, name, low=1, high=MAX_TTL)


async def keep_alive_once(
    gateway: Gateway, endpoint: str | None, number: int, timeout: float | None
) -> LeaseKeepAliveResponse:
    """Renew lease ``number`` once, on ``endpoint`` or (``None``) any member.

    Raises :class:`~aio_etcd.EtcdLeaseNotFound` when the reply has no TTL: the lease
    expired or was revoked.
    """
    request = LeaseKeepAliveRequest(id=number)
    # Streamed on the gateway, but one message in gives exactly one out.
    if endpoint is None:
        reply = await gateway.call(
            "lease/keepalive", request, LeaseKeepAliveResponse, timeout=timeout, repeatable=True
        )
    else:
        reply = await gateway.call_on(
            endpoint, "lease/keepalive", request, LeaseKeepAliveResponse, timeout=timeout
        )
    if reply.ttl <= 0:
        raise EtcdLeaseNotFound(f"lease {number} not found: it expired or was revoked")
    return reply


class Leases(Part):
    """The lease calls of :class:`~aio_etcd.Etcd3Client`."""

    async def grant_lease(
        self, ttl: int, *, id: int | None = None, timeout: Timeout = NOT_GIVEN
    ) -> LeaseGrantResponse:
        """A new lease of ``ttl`` seconds (the server raises it to its minimum, about 2 s
        by default); ``reply.id`` is its id, ``reply.ttl`` the TTL granted.

        Args:
            id: the id to give it; by default the server chooses.

        Raises:
            EtcdAlreadyExist: a lease with ``id`` exists.
        """
        request = LeaseGrantRequest(ttl=ttl_seconds(ttl), id=check.optional(id, "id", low=1))
        return await self._gateway.call(
            "lease/grant",
            request,
            LeaseGrantResponse,
            timeout=self._seconds(timeout),
            repeatable=False,
        )

    async def revoke_lease(
        self, lease: LeaseLike, *, timeout: Timeout = NOT_GIVEN
    ) -> LeaseRevokeResponse:
        """End ``lease`` now and delete every key attached to it.

        Raises:
            EtcdLeaseNotFound: it does not exist (expired or already revoked).
        """
        request = LeaseRevokeRequest(id=lease_id(lease))
        return await self._gateway.call(
            "lease/revoke",
            request,
            LeaseRevokeResponse,
            timeout=self._seconds(timeout),
            repeatable=True,  # revoking twice: the second says "not found"
        )

    async def refresh_lease(
        self, lease: LeaseLike, *, timeout: Timeout = NOT_GIVEN
    ) -> LeaseKeepAliveResponse:
        """Renew ``lease`` once (one keep-alive); ``reply.ttl`` is its TTL again, seconds.

        Raises:
            EtcdLeaseNotFound: it expired or was revoked.
        """
        return await keep_alive_once(self._gateway, None, lease_id(lease), self._seconds(timeout))

    async def get_lease_info(
        self, lease: LeaseLike, *, keys: bool = False, timeout: Timeout = NOT_GIVEN
    ) -> LeaseTimeToLiveResponse:
        """The seconds ``lease`` has left (``ttl``), the TTL it was granted (``granted_ttl``)
        and, with ``keys``, the keys attached to it. ``ttl`` is -1 when the lease does not
        exist (etcd answers so rather than with an error)."""
        request = LeaseTimeToLiveRequest(id=lease_id(lease), keys=check.flag(keys, "keys"))
        return await self._gateway.call(
            "lease/timetolive",
            request,
            LeaseTimeToLiveResponse,
            timeout=self._seconds(timeout),
            repeatable=True,
        )

    async def leases(self, *, timeout: Timeout = NOT_GIVEN) -> list[int]:
        """The ids of every lease."""
        reply = await self._gateway.call(
            "lease/leases",
            LeaseLeasesRequest(),
            LeaseLeasesResponse,
            timeout=self._seconds(timeout),
            repeatable=True,
        )
        return [status.id for status in reply.leases]
