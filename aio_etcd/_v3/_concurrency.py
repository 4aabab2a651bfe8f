"""Locks and leader elections in etcd's own layout, so that they exclude and see
``etcdctl lock``/``etcdctl elect`` and Go programs using ``go.etcd.io/etcd/client/v3/concurrency``.

The layout is Go's ``concurrency.Mutex`` and ``concurrency.Election`` (etcd-io/etcd
``client/v3/concurrency/mutex.go``, ``election.go``, ``key.go``), done on the client side:

- Each contender holds a lease of its own, kept alive in the background (:meth:`Etcd3Client.lease
  <aio_etcd.Etcd3Client.lease>`), and one key ``<name>/<lease id in lowercase hex>`` attached to
  it, created by the transaction ``create_revision(key) == 0 ? put(key, value, lease) :
  get(key)``.
- Contenders are ordered by their key's create revision: the lowest holds the lock (leads the
  election). Each waits for the deletion of the key just before its own (the highest create
  revision below its own), then looks again, until none is left; so a release wakes one
  contender only.
- Releasing revokes the lease, which deletes the key in the same step; a contender that
  stops renewing (a crashed process) loses its key when the lease expires.

Unlike Go's, a contender here ignores keys of nested names: ``services/db/<id>`` lies under the
prefix ``services/`` but belongs to the name ``services/db``, so a ``services`` lock does not
wait for it (Go's would, which is safe, only slower).

The gateway's own ``/v3/lock`` and ``/v3/election`` services are not used: they hold an HTTP
request without a byte until they finish, and cannot report "nobody leads".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Literal

from .._aio import bounded
from .._exceptions import (
    EtcdConnectionFailed,
    EtcdException,
    EtcdInsufficientPermissions,
    EtcdLeaderElectionInProgress,
    EtcdLeaseNotFound,
    EtcdLockExpired,
    EtcdUnexpectedResponse,
    EtcdValueError,
)
from .._validate import timeout as check_timeout
from ..models.v3._base import B64Bytes, Int64, ResponseHeader, V3Model, V3Request
from ..models.v3.kv import KeyValue, RangeResponse
from ..models.v3.txn import RequestOp, TxnRequest, TxnResponse
from . import _args as check
from ._args import KeyLike
from ._gateway import Gateway
from ._kv import CreateRevision, Op, txn_request
from ._lease import ttl_seconds

if TYPE_CHECKING:
    from ._client import Etcd3Client
    from ._lease import Lease

__all__ = ["DEFAULT_TTL", "Election", "Lock"]

DEFAULT_TTL = 60
"""Seconds a holder that stopped (crashed, cut off) keeps a lock or the lead; Go's
``concurrency.NewSession`` default."""

_HAS_LEADER = {"Grpc-Metadata-hasleader": "true"}
"""A watch on a member that lost its leader then ends within seconds."""

_RETRY_PAUSE = 1.0
"""Seconds between attempts to watch a contender's own key when etcd cannot be reached."""


# -- a minimal watch: what waiting for a deletion needs ----------------------------------


class _WatchCreateRequest(V3Request):
    key: B64Bytes = b""
    range_end: B64Bytes = b""
    start_revision: Int64 = 0


class _WatchRequest(V3Request):
    create_request: _WatchCreateRequest


class _Event(V3Model):
    type: Literal["PUT", "DELETE"] = "PUT"
    kv: KeyValue = KeyValue()


class _WatchResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    canceled: bool = False
    cancel_reason: str = ""
    compact_revision: Int64 = 0
    events: list[_Event] = []  # noqa: RUF012 - pydantic copies defaults


class _Watcher:
    """The events of ``[key, range_end)`` from revision :attr:`position` on, one batch at a
    time. Each batch is read from a stream of its own, on whichever member answers; a
    broken stream is opened again elsewhere from the same revision."""

    def __init__(self, gateway: Gateway, key: bytes, range_end: bytes, start: int) -> None:
        self._gateway = gateway
        self._key = key
        self._range_end = range_end
        self.position = start
        """The next revision to hear about."""

    async def next(self, wanted: Callable[[_Event], bool]) -> list[_Event] | None:
        """The events of the first message holding one that is ``wanted`` (only those);
        ``None`` when etcd's history no longer reaches back to :attr:`position` (read the
        state again).

        Raises:
            EtcdConnectionFailed: no member could be watched for the client's
                ``read_timeout`` seconds.
            EtcdInsufficientPermissions: the user may not read these keys.
        """

        failover = self._gateway.failover
        while True:
            broken, found = await failover.run(
                self._attempt_with(wanted), timeout=None, repeatable=True
            )
            if not broken:
                return found
            # A stream that worked for a while broke: open it again (elsewhere) with the
            # whole retry window, after a pause in case it breaks at once again.
            await asyncio.sleep(failover.policy.backoff(0))

    def _attempt_with(
        self, wanted: Callable[[_Event], bool]
    ) -> Callable[[str, float | None], Awaitable[tuple[bool, list[_Event] | None]]]:
        async def attempt(
            endpoint: str, _seconds: float | None
        ) -> tuple[bool, list[_Event] | None]:
            request = _WatchRequest(
                create_request=_WatchCreateRequest(
                    key=self._key, range_end=self._range_end, start_revision=self.position
                )
            )
            created = False
            try:
                async with self._gateway.stream(
                    endpoint,
                    "watch",
                    request,
                    _WatchResponse,
                    timeout=self._gateway.read_timeout,
                    headers=_HAS_LEADER,
                ) as stream:
                    while (message := await stream.next()) is not None:
                        created = True
                        found = self._take(message, wanted)
                        if not isinstance(found, _Nothing):
                            return False, found
            except (EtcdConnectionFailed, EtcdLeaderElectionInProgress):
                if not created:
                    raise  # the failover's to handle: this member, then the others
            if not created:
                raise EtcdConnectionFailed(f"the watch stream from {endpoint} ended")
            self._gateway.failover.pool.failed(endpoint)
            return True, None

        return attempt

    def _take(
        self, message: _WatchResponse, wanted: Callable[[_Event], bool]
    ) -> list[_Event] | _Nothing | None:
        if message.compact_revision:
            return None
        if message.canceled:
            raise EtcdInsufficientPermissions(
                f"etcd canceled the watch on {self._key!r}: {message.cancel_reason}"
            )
        fresh = [event for event in message.events if event.kv.mod_revision >= self.position]
        if fresh:
            # etcd never splits a revision across messages (no ``fragment`` asked for).
            self.position = fresh[-1].kv.mod_revision + 1
        found = [event for event in fresh if wanted(event)]
        return found if found else _NOTHING


class _Nothing:
    """No event of interest in a message."""


_NOTHING = _Nothing()


# -- one contender -----------------------------------------------------------------------


class _Contender:
    """One contender's key under a name, on a lease of its own kept alive in the
    background, and the task that notices when the key is lost."""

    def __init__(
        self,
        client: Etcd3Client,
        prefix: bytes,
        ttl: int,
        on_lost: list[Callable[[], object]],
    ) -> None:
        self._client = client
        self._gateway: Gateway = client._gateway
        self.prefix = prefix
        self.ttl = ttl
        self.lease: Lease | None = None
        self.key: bytes | None = None
        self.revision: int | None = None
        """The create revision of :attr:`key`: a fencing token."""
        self.first = False
        """Whether it holds the lock (leads); stays set after a loss, see :attr:`ended`."""
        self.ended = asyncio.Event()
        """Set once it stands no more: its key was lost, or it left."""
        self._on_lost = on_lost
        self._guard: asyncio.Task[None] | None = None

    @property
    def holding(self) -> bool:
        return self.first and not self.ended.is_set()

    async def contend(self, value: bytes, timeout: float | None) -> bool:
        """Join and wait to be first: ``True`` once first, ``False`` when ``timeout``
        passed. A contender that gives up, fails or is cancelled leaves (deletes its key
        and revokes its lease)."""
        try:
            await self._join(value)
            try:
                await bounded(self._wait_first(), timeout)
            except EtcdException:
                raise  # an EtcdTimedOut is a failure to report, not the end of the wait
            except asyncio.TimeoutError:
                await asyncio.shield(self.leave())
                return False
            if self.ended.is_set():  # lost just as its turn came
                raise EtcdLockExpired(f"{self.key!r} was lost while waiting")
        except BaseException:
            with contextlib.suppress(EtcdException):
                await asyncio.shield(self.leave())
            raise
        self.first = True
        return True

    async def _join(self, value: bytes) -> None:
        lease = self.lease = self._client.lease(self.ttl)
        await lease.grant()
        key = self.key = self.prefix + format(lease.id, "x").encode()
        txn = txn_request(
            [CreateRevision(key) == 0], [Op.put(key, value, lease=lease.id)], [Op.get(key)]
        )
        # Repeatable although it writes: the key is this lease's alone, so a repeat after a
        # first attempt that was applied finds the key through the failure branch.
        reply = await self._txn(txn, repeatable=True)
        if reply.succeeded:
            self.revision = reply.header.revision
        else:
            found = _range(reply, 0).kvs
            if not found:
                raise EtcdUnexpectedResponse(f"a txn on {key!r} failed, yet found no key")
            self.revision = found[0].create_revision
        self._guard = asyncio.ensure_future(self._guard_key())

    async def _wait_first(self) -> None:
        """Wait until no key of this name was created before this one's."""
        while True:
            before, revision = await self._predecessor()
            if before is None:
                return
            watcher = _Watcher(self._gateway, before, b"", revision + 1)
            await self._unless_lost(watcher.next(_deleted))

    async def _predecessor(self) -> tuple[bytes | None, int]:
        """The key created just before this one's (``None``: none is left), and the revision
        it was seen at. Raises :class:`EtcdLockExpired` if this one's key is gone."""
        assert self.key is not None and self.revision is not None
        reply = await self._txn(
            txn_request(
                [],
                [Op.get(self.key, keys_only=True), self._before(self.revision - 1)],
                [],
            ),
            repeatable=True,
        )
        own = _range(reply, 0).kvs
        if not own or own[0].create_revision != self.revision:
            self.lose()
            raise EtcdLockExpired(f"{self.key!r} expired or was deleted while waiting")
        found, revision = _range(reply, 1).kvs, reply.header.revision
        while found and self._nested(found[0].key):
            reply = await self._txn(
                txn_request([], [self._before(found[0].create_revision - 1)], []),
                repeatable=True,
            )
            found, revision = _range(reply, 0).kvs, reply.header.revision
        return (found[0].key if found else None), revision

    def _before(self, max_create_revision: int) -> RequestOp:
        return Op.get_prefix(
            self.prefix,
            max_create_revision=max_create_revision,
            sort_target="create",
            sort_order="descend",
            limit=1,
            keys_only=True,
        )

    def _nested(self, key: bytes) -> bool:
        """Whether ``key`` belongs to a nested name (``<name>/<sub>/<id>``), not this one."""
        return b"/" in key[len(self.prefix) :]

    async def _unless_lost(self, awaitable: Awaitable[object]) -> None:
        """``await awaitable``, unless the key is lost first (:class:`EtcdLockExpired`)."""
        task = asyncio.ensure_future(awaitable)
        ended = asyncio.ensure_future(self.ended.wait())
        try:
            await asyncio.wait({task, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pending in (task, ended):
                pending.cancel()
            await asyncio.wait({task, ended})
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            raise failure
        if not task.cancelled() and not self.ended.is_set():
            return
        raise EtcdLockExpired(f"{self.key!r} was lost while waiting")

    async def _guard_key(self) -> None:
        """Notice the loss of the key: its lease lost (expired, revoked, not renewed in
        time), or the key deleted."""
        assert self.lease is not None
        lease_lost = asyncio.ensure_future(self.lease.wait_lost())
        key_gone = asyncio.ensure_future(self._key_deleted())
        try:
            await asyncio.wait({lease_lost, key_gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (lease_lost, key_gone):
                task.cancel()
            await asyncio.wait({lease_lost, key_gone})
            for task in (lease_lost, key_gone):
                if not task.cancelled():
                    task.exception()  # how it ended matters no more: the key is lost
        self.lose()
        with contextlib.suppress(EtcdException):
            await self._revoke()  # a deleted key's lease is renewed for nothing

    async def _key_deleted(self) -> None:
        assert self.key is not None and self.revision is not None
        watcher = _Watcher(self._gateway, self.key, b"", self.revision + 1)
        while True:
            try:
                if await watcher.next(_deleted) is not None:
                    return
                # History compacted: read the key instead.
                reply = await self._txn(txn_request([], [Op.get(self.key)], []), repeatable=True)
            except EtcdException:
                await asyncio.sleep(_RETRY_PAUSE)  # the lease's keep-alive tells real loss
                continue
            own = _range(reply, 0).kvs
            if not own or own[0].create_revision != self.revision:
                return
            watcher.position = reply.header.revision + 1

    def lose(self) -> None:
        """The key is lost: end, and tell the callbacks if it was held."""
        if self.ended.is_set():
            return
        self.ended.set()
        if self.first:
            for callback in list(self._on_lost):
                callback()

    async def leave(self) -> None:
        """Revoke the lease, which deletes the key. Safe to call more than once; after a
        failure (etcd cannot be reached), calling it again tries again."""
        self.ended.set()
        guard, self._guard = self._guard, None
        if guard is not None:
            guard.cancel()
            await asyncio.wait({guard})  # (a cancellation of this task still propagates)
            if not guard.cancelled():
                guard.exception()
        await self._revoke()

    async def _revoke(self) -> None:
        lease = self.lease
        if lease is None:
            return
        if lease.alive:
            await lease.revoke()  # stops renewing first, even when revoking fails
        elif not lease.lost and lease.ttl:
            # An earlier revoke failed: the renewing stopped, the lease may live on.
            with contextlib.suppress(EtcdLeaseNotFound):
                await self._client.revoke_lease(lease.id)
        self.lease = None

    async def _txn(self, request: TxnRequest, *, repeatable: bool) -> TxnResponse:
        return await self._gateway.call(
            "kv/txn",
            request,
            TxnResponse,
            timeout=self._gateway.read_timeout,
            repeatable=repeatable,
        )


def _deleted(event: _Event) -> bool:
    return event.type == "DELETE"


def _range(reply: TxnResponse, index: int) -> RangeResponse:
    try:
        found = reply.responses[index].response_range
    except IndexError:
        found = None
    if found is None:
        raise EtcdUnexpectedResponse(f"a txn reply without range response {index}: {reply!r}")
    return found


def _prefix(name: object) -> bytes:
    """The keys of name ``name`` start with ``<name>/``, as Go's ``NewMutex`` makes them."""
    data = check.to_bytes(name, "name")
    if not data:
        raise EtcdValueError("name must not be empty")
    return data + b"/"


# -- the public recipes ------------------------------------------------------------------


class Lock:
    """A distributed lock, fair (first come, first served), that excludes ``etcdctl lock``
    and Go's ``concurrency.Mutex`` on the same name::

        async with client.lock("jobs") as lock:
            ...  # one holder at a time, across processes, machines and languages

    Creating it does no I/O. The lock's key is ``<name>/<lease id in hex>`` on a lease of
    ``ttl`` seconds that is renewed in the background; a holder that stops (a crashed
    process) loses the lock when the lease expires. A holder that cannot renew it in time,
    whose lease is revoked or whose key is deleted by anyone loses the lock:
    :attr:`is_acquired` turns ``False``, :meth:`wait_lost` returns and the :meth:`on_lost`
    callbacks are called. See :attr:`fencing_token` for what a lost holder may still do.
    """

    def __init__(self, client: Etcd3Client, name: KeyLike, *, ttl: int = DEFAULT_TTL) -> None:
        """
        Args:
            client: the client to run on.
            name: bytes, or text (UTF-8); not empty. Nested names (``"services/db"``)
                are separate locks.
            ttl: seconds the lock outlives a holder that stopped renewing it (etcd raises
                it to its minimum, about 2 s).

        Raises:
            EtcdValueError: an empty name, a ``ttl`` below 1.
        """
        self._client = client
        self._prefix = _prefix(name)
        self.ttl = ttl_seconds(ttl)
        self._contender: _Contender | None = None
        self._on_lost: list[Callable[[], object]] = []

    @property
    def name(self) -> bytes:
        return self._prefix[:-1]

    @property
    def is_acquired(self) -> bool:
        """Whether the lock is held now (``False`` once lost or released)."""
        return self._contender is not None and self._contender.holding

    @property
    def key(self) -> bytes | None:
        """The key this lock holds or waits with, e.g. ``b"jobs/694d7a0e5c51f604"``."""
        return None if self._contender is None else self._contender.key

    @property
    def fencing_token(self) -> int | None:
        """The revision the lock's key was created at (``None`` until it is); every later
        holder has a larger one.

        A holder that lost the lock without knowing (its process paused longer than the
        TTL) can still write. Guard what the lock protects with it::

            reply = await client.transaction(
                [CreateRevision(lock.key) == lock.fencing_token],
                [Op.put(b"/jobs/state", b"done")],
            )
            if not reply.succeeded:
                ...  # the lock was lost: nothing was written

        (etcd-io/etcd#10811; Go's ``Mutex.IsOwner()``).
        """
        return None if self._contender is None else self._contender.revision

    async def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock: ``True`` once held (at once if it is held already), ``False``
        when ``timeout`` seconds passed first.

        A contender that gives up, fails or is cancelled deletes its key and revokes its
        lease before returning.

        Raises:
            EtcdLockExpired: the key was lost while waiting (lease expired or revoked, key
                deleted).
            EtcdConnectionFailed: etcd could not be reached.
            RuntimeError: another task is acquiring this same :class:`Lock`.
        """
        seconds = None if timeout is None else check_timeout(timeout, None)
        if self.is_acquired:
            return True
        if self._contender is not None:
            if not self._contender.ended.is_set():
                raise RuntimeError("this lock is being acquired by another task")
            await self.release()  # what a lost lock left behind
        contender = self._contender = _Contender(
            self._client, self._prefix, self.ttl, self._on_lost
        )
        try:
            acquired = await contender.contend(b"", seconds)
        except BaseException:
            if contender.lease is None:
                self._contender = None
            raise
        if not acquired:
            self._contender = None
        return acquired

    async def release(self) -> None:
        """Give the lock up (or stop waiting for it): revoke the lease, which deletes the
        key. Safe when not held. When etcd cannot be reached, raises, and the next
        ``release()`` tries again (else the lease expires after ``ttl``)."""
        if self._contender is not None:
            await self._contender.leave()
            self._contender = None

    async def wait_lost(self) -> None:
        """Return once the lock is held no more: lost or released; at once when it is
        neither held nor being acquired."""
        if self._contender is not None:
            await self._contender.ended.wait()

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
        return f"<aio_etcd.v3.Lock {self.name!r} {state}>"


class Election:
    """Leader election, seen by ``etcdctl elect`` and Go's ``concurrency.Election`` on the
    same name::

        election = client.election("scheduler")
        await election.campaign(b"node-1:8080")   # returns once leading
        ...
        await election.resign()

        async for leader in client.election("scheduler").observe():
            print("the leader is now", leader)     # its value, or None

    Candidates queue as a :class:`Lock`'s contenders do; the first leads, and its key's
    value is the leader's value. A leader that stops renewing its lease (``ttl`` seconds)
    is replaced; one that learns it lost the lead says so through :attr:`is_leader`,
    :meth:`wait_lost` and :meth:`on_lost`.
    """

    def __init__(self, client: Etcd3Client, name: KeyLike, *, ttl: int = DEFAULT_TTL) -> None:
        """Arguments as :class:`Lock`'s."""
        self._client = client
        self._prefix = _prefix(name)
        self.ttl = ttl_seconds(ttl)
        self._contender: _Contender | None = None
        self._on_lost: list[Callable[[], object]] = []

    @property
    def name(self) -> bytes:
        return self._prefix[:-1]

    @property
    def is_leader(self) -> bool:
        """Whether this candidate leads now (``False`` after resigning or losing the lead)."""
        return self._contender is not None and self._contender.holding

    @property
    def key(self) -> bytes | None:
        """The key this candidate campaigns with (``None`` when it does not)."""
        return None if self._contender is None else self._contender.key

    @property
    def fencing_token(self) -> int | None:
        """The revision this candidate's key was created at; each later leader has a larger
        one. Guard writes with ``CreateRevision(election.key) == election.fencing_token``
        as :attr:`Lock.fencing_token` shows."""
        return None if self._contender is None else self._contender.revision

    async def campaign(self, value: KeyLike, timeout: float | None = None) -> bool:
        """Stand with ``value`` (bytes, or text as UTF-8) and wait to lead: ``True`` once
        leading, ``False`` when ``timeout`` seconds passed first. A candidate that gives
        up, fails or is cancelled leaves the queue. After a lost lead it may campaign again
        at once; while it campaigns or leads, it must :meth:`resign` first.

        Raises:
            EtcdLockExpired: the candidate's key was lost while waiting.
            EtcdConnectionFailed: etcd could not be reached.
            RuntimeError: this candidate campaigns or leads already.
        """
        data = check.to_bytes(value, "value")
        seconds = None if timeout is None else check_timeout(timeout, None)
        if self._contender is not None:
            if not self._contender.ended.is_set():
                raise RuntimeError("this candidate is already campaigning; resign() first")
            await self.resign()  # what a lost lead left behind
        contender = self._contender = _Contender(
            self._client, self._prefix, self.ttl, self._on_lost
        )
        try:
            leading = await contender.contend(data, seconds)
        except BaseException:
            if contender.lease is None:
                self._contender = None
            raise
        if not leading:
            self._contender = None
        return leading

    async def proclaim(self, value: KeyLike) -> None:
        """Announce a new ``value`` as the leader, without a new election: observers see it.

        Raises:
            EtcdLockExpired: the lead was lost (nothing was written).
            RuntimeError: this candidate does not lead.
            EtcdOutcomeUnknown: etcd failed before confirming the write.
        """
        data = check.to_bytes(value, "value")
        contender = self._contender
        if contender is None or not contender.first:
            raise RuntimeError("only the leader may proclaim: campaign() first")
        if contender.ended.is_set() or contender.lease is None:
            raise EtcdLockExpired(f"the lead of {self.name!r} was lost")
        assert contender.key is not None and contender.revision is not None
        reply = await contender._txn(
            txn_request(
                [CreateRevision(contender.key) == contender.revision],
                [Op.put(contender.key, data, lease=contender.lease.id)],
                [],
            ),
            repeatable=False,
        )
        if not reply.succeeded:
            contender.lose()
            raise EtcdLockExpired(f"the lead of {self.name!r} was lost")

    async def leader(self) -> bytes | None:
        """The leader's value, or ``None`` when nobody leads."""
        head, _ = await self._head()
        return None if head is None else head.value

    async def observe(self) -> AsyncGenerator[bytes | None, None]:
        """The leader's value now (``None`` while nobody leads), then each change: a new
        leader, a proclamation (even of the same value), and ``None`` when the last
        candidate leaves.

        After each change the leader is read again and what it is then is reported, so a
        term that began and ended in between is not.

        Raises:
            EtcdConnectionFailed: etcd could not be reached for the client's
                ``read_timeout``.
        """
        head, revision = await self._head()
        shown = _term(head)
        yield None if head is None else head.value
        gateway: Gateway = self._client._gateway
        watcher = _Watcher(gateway, self._prefix, check.prefix_end(self._prefix), revision + 1)
        while True:
            current = None if head is None else head.key

            def matters(event: _Event, current: bytes | None = current) -> bool:
                # Later candidates do not change who leads; only the leader's key, or any
                # key while nobody leads, does.
                key = event.kv.key
                nested = b"/" in key[len(self._prefix) :]
                return not nested and (current is None or key == current)

            found = await watcher.next(matters)
            head, revision = await self._head()
            if found is None:
                watcher = _Watcher(
                    gateway, self._prefix, check.prefix_end(self._prefix), revision + 1
                )
            else:
                watcher.position = max(watcher.position, revision + 1)
            term = _term(head)
            if term != shown:
                shown = term
                yield None if head is None else head.value

    async def resign(self) -> None:
        """Stop leading, or stop campaigning: revoke the lease, which deletes the key; the
        next candidate takes over. When etcd cannot be reached, raises, and the next
        ``resign()`` tries again."""
        if self._contender is not None:
            await self._contender.leave()
            self._contender = None

    async def wait_lost(self) -> None:
        """Return once this candidate leads no more: lost or resigned; at once when it
        neither leads nor campaigns."""
        if self._contender is not None:
            await self._contender.ended.wait()

    def on_lost(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` whenever the lead is lost, from now on (it may be given
        before :meth:`campaign`); not on resigning, which is no loss."""
        self._on_lost.append(callback)

    async def _head(self) -> tuple[KeyValue | None, int]:
        """The leader's key (the one of this name created first), and the revision read."""
        gateway: Gateway = self._client._gateway
        first_after = None
        while True:
            request = Op.get_prefix(
                self._prefix,
                min_create_revision=first_after,
                sort_target="create",
                sort_order="ascend",
                limit=1,
            ).request_range
            assert request is not None
            reply = await gateway.call(
                "kv/range",
                request,
                RangeResponse,
                timeout=gateway.read_timeout,
                repeatable=True,
            )
            found = reply.kvs
            if not found or b"/" not in found[0].key[len(self._prefix) :]:
                return (found[0] if found else None), reply.header.revision
            first_after = found[0].create_revision + 1

    def __repr__(self) -> str:
        state = "leading" if self.is_leader else "not leading"
        return f"<aio_etcd.v3.Election {self.name!r} {state}>"


def _term(head: KeyValue | None) -> tuple[bytes, int, int] | None:
    """What tells one term or proclamation from another."""
    return None if head is None else (head.key, head.create_revision, head.mod_revision)
