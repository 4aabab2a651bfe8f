"""Leases: the ``Lease`` service (``/v3/lease/*``), and a lease kept alive in the background.

Follows etcd-io/etcd ``api/etcdserverpb/rpc.proto`` (``LeaseGrant``, ``LeaseRevoke``,
``LeaseKeepAlive``, ``LeaseTimeToLive``, ``LeaseLeases``). The gateway cannot carry gRPC's
bidirectional keep-alive stream, so each renewal is one ``POST /v3/lease/keepalive`` with one
message (as etcd 3.4.23 and 3.5.1 behave). TTLs are whole seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Protocol

from .._aio import LOSS_MARGIN
from .._exceptions import EtcdException, EtcdLeaseNotFound
from .._types import NOT_GIVEN, Timeout
from .._validate import timeout as check_timeout
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
    reply = await gateway.first(
        "lease/keepalive",
        LeaseKeepAliveRequest(id=number),
        LeaseKeepAliveResponse,
        timeout=timeout,
        repeatable=True,  # renewing twice is harmless
        endpoint=endpoint,
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

    def lease(self, ttl: int, *, id: int | None = None) -> Lease:
        """A :class:`Lease` of ``ttl`` seconds kept alive in the background; no I/O until
        ``async with`` (or :meth:`Lease.grant`). Exiting the ``async with`` revokes it.

        Args:
            ttl: seconds, 1 or more (the server raises it to its minimum, about 2 s).
            id: the id to ask for; by default the server chooses.
        """
        return Lease(self._gateway, ttl, id=id)


class Lease:
    """A lease kept alive in the background while it is held::

        async with client.lease(10) as lease:
            await client.put(b"/service/me", b"here", lease=lease)
            await lease.wait_lost()   # only if etcd ended it: expired or revoked

    Entering grants the lease (``lease.id``, ``lease.ttl``) and starts renewing it about
    every third of its TTL, on any member that answers. **Exiting revokes it**, which
    deletes every key attached to it; :meth:`revoke` does the same earlier.

    The lease is *lost* when a renewal finds it gone (it was revoked elsewhere, or expired
    while this process could not renew it), or when no renewal succeeded within the TTL,
    less 0.25 s, after the last one sent that did: just before the earliest etcd may let it
    expire (etcd cannot be reached). Then :attr:`lost` turns ``True``, :meth:`wait_lost`
    returns, and each :meth:`on_lost` callback is called; renewing stops. A blocked event
    loop delays the renewals and their check; keys written under a lease are not a fence
    (see etcd-io/etcd#10811).

    Creating it does no I/O (``client.lease(ttl)``); :meth:`grant` may be called instead
    of ``async with``, and then :meth:`revoke` ends it.
    """

    def __init__(self, gateway: Gateway, ttl: int, *, id: int | None = None) -> None:
        self._gateway = gateway
        self._asked_ttl = ttl_seconds(ttl)
        self._asked_id = check.optional(id, "id", low=1)
        self._id: int | None = None
        self._ttl = 0
        self._lost = False
        self._done = asyncio.Event()
        """Set once the lease is held no more (lost or revoked)."""
        self._ended = False
        self._on_lost: list[Callable[[], object]] = []
        self._task: asyncio.Task[None] | None = None

    @property
    def id(self) -> int:
        """The lease's id. Raises :class:`RuntimeError` before it is granted."""
        if self._id is None:
            raise RuntimeError("the lease is not granted yet: use 'async with' or grant()")
        return self._id

    @property
    def ttl(self) -> int:
        """The TTL granted, seconds (0 before it is granted)."""
        return self._ttl

    @property
    def lost(self) -> bool:
        """Whether etcd ended the lease (or may have) while it was held."""
        return self._lost

    @property
    def alive(self) -> bool:
        """Granted, and neither lost nor revoked."""
        return self._id is not None and not self._lost and not self._ended

    async def wait_lost(self) -> None:
        """Return once the lease is held no more: lost, revoked, or its client closed; at
        once when it was never granted."""
        if self._id is not None:
            await self._done.wait()

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` when the lease is lost, from now on; not when it is revoked
        through this object, which is no loss."""
        self._on_lost.append(callback)

    async def grant(self, *, timeout: Timeout = NOT_GIVEN) -> Lease:
        """Grant the lease and start renewing it; returns ``self``.

        Raises:
            EtcdAlreadyExist: the ``id`` asked for is taken.
            RuntimeError: it was granted already.
        """
        if self._id is not None:
            raise RuntimeError("this lease was granted already")
        reply = await self._gateway.call(
            "lease/grant",
            LeaseGrantRequest(ttl=self._asked_ttl, id=self._asked_id),
            LeaseGrantResponse,
            timeout=check_timeout(timeout, self._gateway.read_timeout),
            repeatable=False,
        )
        self._id, self._ttl = reply.id, reply.ttl
        self._task = asyncio.ensure_future(self._keep_alive(asyncio.get_running_loop().time()))
        return self

    async def refresh(self, *, timeout: Timeout = NOT_GIVEN) -> LeaseKeepAliveResponse:
        """Renew the lease now, once.

        Raises:
            EtcdLeaseNotFound: it expired or was revoked (it is then counted as lost).
        """
        seconds = check_timeout(timeout, self._gateway.read_timeout)
        try:
            return await keep_alive_once(self._gateway, None, self.id, seconds)
        except EtcdLeaseNotFound:
            self._mark_lost()
            raise

    async def revoke(self, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Stop renewing and revoke the lease, deleting its keys. Safe to call again, and
        when the lease was lost."""
        if self._id is None or self._ended:
            return
        self._ended = True
        self._done.set()
        await self._stop()
        if self._lost:
            return
        with contextlib.suppress(EtcdLeaseNotFound):  # gone already
            await self._gateway.call(
                "lease/revoke",
                LeaseRevokeRequest(id=self._id),
                LeaseRevokeResponse,
                timeout=check_timeout(timeout, self._gateway.read_timeout),
                repeatable=True,
            )

    async def __aenter__(self) -> Lease:
        return await self.grant()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await asyncio.shield(self.revoke())

    def __repr__(self) -> str:
        if self._id is None:
            return f"<aio_etcd.v3.Lease ttl={self._asked_ttl} not granted>"
        state = "lost" if self.lost else "revoked" if self._ended else "alive"
        return f"<aio_etcd.v3.Lease {self._id} ttl={self._ttl} {state}>"

    async def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait({task})

    def _mark_lost(self) -> None:
        if self._lost or self._ended:
            return
        self._lost = True
        self._done.set()
        for callback in self._on_lost:
            callback()

    async def _keep_alive(self, sent_at: float) -> None:
        """Renew until the lease is gone or may have expired."""
        assert self._id is not None
        loop = asyncio.get_running_loop()
        interval = max(self._ttl / 3, 0.1)
        try:
            while True:
                expires_at = sent_at + self._ttl - LOSS_MARGIN  # etcd's earliest, less a margin
                await asyncio.sleep(max(0.0, min(interval, expires_at - loop.time())))
                attempt = loop.time()
                if attempt >= expires_at:
                    break
                try:
                    await keep_alive_once(self._gateway, None, self._id, expires_at - attempt)
                except EtcdLeaseNotFound:
                    break
                except EtcdException:
                    # No member answered in time, or it said "no leader": keep trying
                    # while the lease may still be alive.
                    interval = min(max(self._ttl / 10, 0.05), 0.5)
                    continue
                sent_at, interval = attempt, max(self._ttl / 3, 0.1)
        except RuntimeError:
            if not self._gateway.closed:
                raise
            # The client was closed under a held lease: it is not renewed any more.
            self._ended = True
            self._done.set()
            return
        self._mark_lost()
