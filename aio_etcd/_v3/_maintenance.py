"""Maintenance: the ``Maintenance`` service (``/v3/maintenance/*``).

The calls of Go's ``clientv3.Maintenance`` (etcd-io/etcd ``client/v3/maintenance.go``):
status, alarms, defragment, hash, hashkv and snapshot. Calls about one member take
``endpoint=`` (``"http://host:port"``, as :attr:`~aio_etcd.Etcd3Client.endpoints` lists them)
and go to that member only; without it they go to the member in use, with failover.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from typing import BinaryIO
from urllib.parse import urlsplit

from .. import _aio
from .._exceptions import (
    EtcdAPIUnavailable,
    EtcdException,
    EtcdTimedOut,
    EtcdUnexpectedResponse,
    EtcdValueError,
)
from .._types import NOT_GIVEN, Timeout
from ..models.v3._base import V3Request
from ..models.v3.maintenance import (
    AlarmMember,
    AlarmRequest,
    AlarmResponse,
    DefragmentRequest,
    DefragmentResponse,
    HashKVRequest,
    HashKVResponse,
    HashRequest,
    HashResponse,
    SnapshotRequest,
    SnapshotResponse,
    StatusRequest,
    StatusResponse,
)
from . import _args as check
from ._gateway import Gateway, Part, R

_Attempt = Callable[[str, "float | None"], Awaitable[int]]

CHECKSUM_SIZE = 32
"""etcd ends a snapshot with the SHA-256 of the database before it; ``etcdutl snapshot
restore`` checks it (etcd-io/etcd ``server/etcdserver/api/v3rpc/maintenance.go``)."""


class Maintenance(Part):
    """``client.maintenance``: the state of each member, and keeping its database healthy."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def status(
        self, endpoint: str | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> StatusResponse:
        """What one member says about itself, as ``etcdctl endpoint status`` shows it:
        version, database size and size in use (bytes), leader, raft index and term,
        errors (alarms, ``no leader``), whether it is a learner.

        Args:
            endpoint: the member to ask (``"http://host:port"``); by default the member in
                use, with failover.
            timeout: seconds, retries included; ``None`` for no limit; by default the
                client's ``read_timeout``.
        """
        return await self._ask(
            endpoint, "maintenance/status", StatusRequest(), StatusResponse, timeout
        )

    async def alarms(self, *, timeout: Timeout = NOT_GIVEN) -> list[AlarmMember]:
        """The alarms raised in the cluster (``NOSPACE``, ``CORRUPT``), empty when none."""
        reply = await self._ask(None, "maintenance/alarm", AlarmRequest(), AlarmResponse, timeout)
        return reply.alarms

    async def disarm(
        self, alarm: AlarmMember | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> list[AlarmMember]:
        """Clear ``alarm`` (one of :meth:`alarms`), or every alarm raised; returns the
        alarms cleared. Clear ``NOSPACE`` only after freeing space (compact, then
        :meth:`defragment`), or etcd raises it again.
        """
        if alarm is None:
            cleared: list[AlarmMember] = []
            for raised in await self.alarms(timeout=timeout):
                cleared += await self.disarm(raised, timeout=timeout)
            return cleared
        if not isinstance(alarm, AlarmMember):
            raise TypeError(f"alarm must be an AlarmMember, not {type(alarm).__name__}")
        request = AlarmRequest(action="DEACTIVATE", member_id=alarm.member_id, alarm=alarm.alarm)
        reply = await self._ask(None, "maintenance/alarm", request, AlarmResponse, timeout)
        return reply.alarms

    async def defragment(
        self, endpoint: str | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> None:
        """Give the free space of one member's database back to the file system. The member
        answers nothing else meanwhile, so defragment members one at a time.

        Args:
            endpoint: the member (``"http://host:port"``); by default the member in use.
        """
        await self._ask(
            endpoint, "maintenance/defragment", DefragmentRequest(), DefragmentResponse, timeout
        )

    async def hash(
        self, endpoint: str | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> HashResponse:
        """A hash of one member's whole database file. Member-local data is in it, so
        members differ: compare members with :meth:`hashkv`."""
        return await self._ask(endpoint, "maintenance/hash", HashRequest(), HashResponse, timeout)

    async def hashkv(
        self,
        revision: int | None = None,
        *,
        endpoint: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> HashKVResponse:
        """A hash of one member's keys and values up to ``revision`` (default: the latest);
        members agree on it at the same revision and compaction.

        Raises:
            EtcdAPIUnavailable: the server does not route ``/v3/maintenance/hashkv``. Before
                etcd 3.5.10 (and in every 3.4) the gateway registered HashKV on the path of
                Hash, so HashKV is unreachable through it (etcd PR #16490); a Hash reply is
                never passed off as a HashKV one.
            EtcdCompacted: ``revision`` was compacted away.
            EtcdFutureRevision: ``revision`` is ahead of the store.
        """
        request = HashKVRequest(revision=check.optional(revision, "revision", low=1))
        try:
            return await self._ask(endpoint, "maintenance/hashkv", request, HashKVResponse, timeout)
        except EtcdAPIUnavailable as error:
            raise EtcdAPIUnavailable(
                "hashkv needs etcd >= 3.5.10 over the JSON gateway: older versions route "
                f"no /v3/maintenance/hashkv ({error})",
                error.payload,
                status=error.status,
            ) from error

    async def snapshot(
        self,
        destination: str | os.PathLike[str] | BinaryIO,
        *,
        endpoint: str | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> int:
        """Save one member's database, as ``etcdctl snapshot save`` does; returns the bytes
        written.

        The database is written as it arrives. To a path, it goes to ``<path>.part``,
        synced to disk and then renamed, so ``path`` never holds half a snapshot. To a
        binary file object, it is written from the current position and flushed (and
        synced, when the object has a file descriptor). The file ends with etcd's SHA-256
        of the database, which is checked here and by ``etcdutl snapshot restore``.

        Args:
            destination: a file path, or a binary file object open for writing.
            endpoint: the member (``"http://host:port"``); by default the member in use,
                with failover while nothing has been written.
            timeout: seconds for the whole transfer; ``None`` for no limit; by default the
                client's ``read_timeout``.

        Raises:
            EtcdUnexpectedResponse: the stream ended early or its checksum is wrong; a path
                is then left untouched.
            EtcdTimedOut: the transfer took longer than ``timeout``.
        """
        seconds = self._seconds(timeout)
        target = None if endpoint is None else _endpoint(endpoint)
        if isinstance(destination, str | os.PathLike):
            return await self._snapshot_to_path(os.fspath(destination), target, seconds)
        if not callable(getattr(destination, "write", None)):
            raise TypeError(
                f"destination must be a path or a binary file, not {type(destination).__name__}"
            )
        file = destination

        async def attempt(member: str, left: float | None) -> int:
            written = [0]
            try:
                size = await self._stream(member, file, left, written)
            except EtcdException as error:
                if not written[0]:
                    raise  # nothing written yet: another member may be asked
                raise EtcdUnexpectedResponse(
                    f"the snapshot from {member} broke off after {written[0]} bytes had "
                    f"been written to the file: {error}",
                    error.payload,
                    status=error.status,
                ) from error
            file.flush()
            with contextlib.suppress(AttributeError, OSError, ValueError):
                fileno = file.fileno()  # io.BytesIO has none
                await asyncio.to_thread(os.fsync, fileno)
            return size

        return await self._run(attempt, target, seconds)

    async def _snapshot_to_path(
        self, path: str, endpoint: str | None, seconds: float | None
    ) -> int:
        part = path + ".part"

        async def attempt(member: str, left: float | None) -> int:
            with open(part, "wb") as out:  # noqa: ASYNC230 - small sequential writes
                size = await self._stream(member, out, left, [0])
                out.flush()
                await asyncio.to_thread(os.fsync, out.fileno())
            return size

        try:
            size = await self._run(attempt, endpoint, seconds)
            os.replace(part, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(part)
            raise
        return size

    async def _run(
        self,
        attempt: _Attempt,
        endpoint: str | None,
        seconds: float | None,
    ) -> int:
        if endpoint is not None:
            return await attempt(endpoint, seconds)
        # Each member gets all the time left: a big database takes long on any of them.
        return await self._gateway.failover.run(
            attempt, timeout=seconds, repeatable=True, long_poll=True
        )

    async def _stream(
        self, endpoint: str, out: BinaryIO, seconds: float | None, written: list[int]
    ) -> int:
        """Write the snapshot stream of ``endpoint`` to ``out``; check its checksum."""
        try:
            return await _aio.bounded(self._copy(endpoint, out, seconds, written), seconds)
        except asyncio.TimeoutError:
            raise EtcdTimedOut(
                f"the snapshot from {endpoint} took longer than {seconds} s"
            ) from None

    async def _copy(
        self, endpoint: str, out: BinaryIO, seconds: float | None, written: list[int]
    ) -> int:
        digest = hashlib.sha256()
        tail = b""  # the last bytes so far, which may be the checksum
        size = 0
        async with self._gateway.stream(
            endpoint, "maintenance/snapshot", SnapshotRequest(), SnapshotResponse, timeout=seconds
        ) as stream:
            while (message := await stream.next()) is not None:
                if not message.blob:
                    continue
                out.write(message.blob)
                size += len(message.blob)
                written[0] = size
                data = tail + message.blob
                digest.update(data[:-CHECKSUM_SIZE])
                tail = data[-CHECKSUM_SIZE:]
        if size < CHECKSUM_SIZE or digest.digest() != tail:
            raise EtcdUnexpectedResponse(
                f"the snapshot from {endpoint} ended after {size} bytes without a valid "
                "SHA-256: it is cut short or damaged"
            )
        return size

    async def _ask(
        self,
        endpoint: str | None,
        path: str,
        request: V3Request,
        reply: type[R],
        timeout: Timeout,
    ) -> R:
        seconds = self._seconds(timeout)
        if endpoint is None:
            return await self._gateway.call(path, request, reply, timeout=seconds, repeatable=True)
        return await self._gateway.call_on(
            _endpoint(endpoint), path, request, reply, timeout=seconds
        )


def _endpoint(value: object) -> str:
    """``http(s)://host:port`` of one member, without a trailing slash."""
    if not isinstance(value, str):
        raise TypeError(f"endpoint must be a str, not {type(value).__name__}")
    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        raise EtcdValueError(f"endpoint must be an http(s)://host:port URL, not {value!r}")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise EtcdValueError(f"endpoint must not have a path, not {value!r}")
    return value.rstrip("/")
