"""The v3 watch as the documented calls see it: ``POST /v3/watch`` read as v2 events.

One watch is one HTTP stream (etcd 3.4 and 3.5 through the JSON gateway, as they behave):

- The create request asks for ``start_revision`` = the index wanted, ``prev_kv`` and
  ``progress_notify``, with ``Grpc-Metadata-hasleader: true`` (clientv3's
  ``WithRequireLeader``: a member that loses its leader ends the stream). Its first message
  (``created``) carries the store's revision, the stream's ``etcd_index``.
- A recursive watch of ``K`` covers ``[K, K0)`` (``0`` follows ``/``) and keeps ``K`` and
  the keys below ``K/``; a key watch covers ``K`` and its directory marker ``K/``. When the
  user may not read all of that range, the watch covers ``K`` alone, or ``[K/, K0)``: the
  v2 permissions ``K`` and ``K/*`` allow these watches. Names
  starting with ``_`` below a recursively watched key are hidden, as v2 hides them. A
  marker written again (each append does, in the same transaction) is no change.
- A v3 stream replays history and goes on (``ends_after_history`` is false). One revision
  may hold several events (a transaction, a range delete): each event says whether more of
  its revision follow (``revision_continues``), so that the watch resumes mid-revision.
- A message with a header and no event (progress notification), or one whose events were
  all filtered out, says every change up to its revision was sent: ``progress_index``.
- ``canceled`` with ``compact_revision`` raises :class:`~aio_etcd.EtcdCompacted` (an
  :class:`~aio_etcd.EtcdEventIndexCleared`); a refused permission (``cancel_reason``)
  raises :class:`~aio_etcd.EtcdInsufficientPermissions`, after one new token when the
  client has credentials. etcd leaves a canceled stream open: it is closed here.

Actions are inferred, as v3 events do not carry them (etcd ``api/mvccpb/kv.proto``): a PUT
of version 1 is ``create``, a later one ``set``; a DELETE is ``expire`` when the deleted
key had a lease that no longer exists (``lease/timetolive`` answers TTL -1), else
``delete``. A directory marker ``D/`` is reported as the directory ``D``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence

from .._aio import bounded
from .._backend import EventStream
from .._exceptions import (
    EtcdCompacted,
    EtcdConnectionFailed,
    EtcdException,
    EtcdInsufficientPermissions,
)
from .._v3._args import prefix_end
from .._v3._gateway import Gateway, GatewayStream
from .._v3._watch import AUTH_REFUSED, REQUIRE_LEADER
from ..models import ErrorPayload, EtcdNode, EtcdResult
from ..models.result import Action
from ..models.v3.kv import KeyValue
from ..models.v3.lease import LeaseTimeToLiveRequest, LeaseTimeToLiveResponse
from ..models.v3.watch import WatchCreateRequest, WatchEvent, WatchRequest, WatchResponse
from ._tree import file_node, text


@contextlib.asynccontextmanager
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
    """The changes of ``key`` (or the tree below it, ``recursive``) from ``wait_index`` on
    (``None``: from now), on ``endpoint`` only, as ``Backend.watch`` promises.

    ``timeout`` (seconds) bounds the start, until etcd confirmed the watch. ``stream=False``
    ends the stream after one event.

    Raises (on entering): :class:`~aio_etcd.EtcdInsufficientPermissions` when etcd refuses
    to watch the keys; :class:`~aio_etcd.EtcdConnectionFailed` when ``endpoint`` did not
    confirm the watch in time; what the gateway raises for etcd's answer otherwise.
    """
    name = key.encode()
    below = name if name.endswith(b"/") else name + b"/"
    # A key watch covers the key and its directory marker (``K/`` ends [K, K/\0)).
    end = prefix_end(below) if recursive else below + b"\x00"
    create = WatchCreateRequest(
        key=name,
        range_end=end,
        start_revision=wait_index or 0,
        progress_notify=True,
        prev_kv=True,
    )
    request = WatchRequest(create_request=create)
    renewed = narrowed = False
    while True:
        opened = gateway.stream(
            endpoint, "watch", request, WatchResponse, timeout=timeout, headers=REQUIRE_LEADER
        )
        async with opened as messages:
            try:
                # grpc-gateway sends the HTTP headers with the first message, ``created``.
                first = await bounded(messages.next(), timeout)
            except asyncio.TimeoutError as exc:
                if isinstance(exc, EtcdException):
                    raise
                raise EtcdConnectionFailed(
                    f"{endpoint} did not confirm the watch of {key!r} within {timeout} s",
                    cause=exc,
                ) from exc
            if first is None:
                raise EtcdConnectionFailed(f"{endpoint} ended the watch of {key!r} at once")
            if not first.canceled:
                yield _V3EventStream(
                    gateway,
                    endpoint,
                    messages,
                    first,
                    key=key,
                    below=text(below),
                    recursive=recursive,
                    single=not stream,
                )
                return
        if first.compact_revision:
            raise _compacted(key, endpoint, first.compact_revision, first.header.revision or None)
        reason = first.cancel_reason or "no reason given"
        refused = any(marker in reason.lower() for marker in AUTH_REFUSED)
        tokens = gateway.tokens
        if refused and not renewed and tokens.username is not None:
            # A stale token is refused this way too: one new token, then again.
            renewed = True
            _, generation = tokens.headers()
            await tokens.renew(endpoint, gateway.authenticate, timeout, generation)
            continue
        if refused and not narrowed:
            # The user may read the key, or the tree, and not their neighbours in the
            # range (v2 permissions: "K" alone, or "K/*"): the key alone, or the keys
            # below ``K/``.
            narrowed = True
            narrow = {"key": below} if recursive else {"range_end": b""}
            request = WatchRequest(create_request=create.model_copy(update=narrow))
            continue
        payload = ErrorPayload(error_code=110 if refused else None, message=reason, cause=key)
        if refused:
            raise EtcdInsufficientPermissions(
                f"etcd refused to watch {key!r}: {reason} ({endpoint})", payload, status=200
            )
        raise EtcdException(
            f"etcd canceled the watch of {key!r}: {reason} ({endpoint})", payload, status=200
        )


class _V3EventStream:
    """The events of one v3 watch stream, converted to v2 results one by one."""

    def __init__(
        self,
        gateway: Gateway,
        endpoint: str,
        messages: GatewayStream[WatchResponse],
        created: WatchResponse,
        *,
        key: str,
        below: str,
        recursive: bool,
        single: bool,
    ) -> None:
        self._gateway = gateway
        self._endpoint = endpoint
        self._messages = messages
        self._key = key
        self._below = below
        self._recursive = recursive
        self._single = single
        self._given = 0
        self.ends_after_history = False
        header = created.header
        self.etcd_index: int | None = header.revision
        self._raft_term = header.raft_term or None
        self._cluster_id = format(header.cluster_id, "x") if header.cluster_id else None
        self._pending: deque[tuple[EtcdResult, bool]] = deque()
        self.revision_continues = False
        """Whether more events of the revision of the event last given follow."""
        self.progress_index: int | None = None
        """A revision up to which every change was given (none pending)."""

    async def next_event(self) -> EtcdResult | None:
        if self._single and self._given:
            return None
        while not self._pending:
            message = await self._messages.next()
            if message is None:
                return None
            if message.canceled:
                raise self._canceled(message)
            events = [event for event in message.events if self._wanted(event)]
            if not events:
                # Nothing left to give up to here: a progress notification (or only
                # events of other keys); its revision is a safe place to resume from.
                last = message.events[-1].revision if message.events else message.header.revision
                if last:
                    self.progress_index = max(self.progress_index or 0, last)
                continue
            ttls = await self._ttls(events)
            for position, event in enumerate(events):
                follows = events[position + 1] if position + 1 < len(events) else None
                continues = follows is not None and follows.revision == event.revision
                self._pending.append((self._result(event, ttls), continues))
        result, self.revision_continues = self._pending.popleft()
        self._given += 1
        return result

    def _wanted(self, event: WatchEvent) -> bool:
        name = text(event.kv.key)
        if event.type == "PUT" and event.kv.version > 1 and name.endswith("/"):
            return False  # a directory marker written again: bookkeeping of an append
        if name in (self._key, self._below):
            return True
        if not self._recursive or not name.startswith(self._below):
            return False
        # v2 hides names starting with "_" below a recursively watched directory.
        return not any(part.startswith("_") for part in name[len(self._below) :].split("/"))

    async def _ttls(self, events: Sequence[WatchEvent]) -> dict[int, int]:
        """Seconds left of the leases of ``events``' keys (-1: the lease is gone), one
        ``lease/timetolive`` each, concurrently; leases etcd would not tell about are left
        out."""
        leases = {event.kv.lease for event in events if event.kv.lease} | {
            event.prev_kv.lease
            for event in events
            if event.type == "DELETE" and event.prev_kv is not None and event.prev_kv.lease
        }
        found = await asyncio.gather(*map(self._ttl, leases))
        return {lease: ttl for lease, ttl in zip(leases, found, strict=True) if ttl is not None}

    async def _ttl(self, lease: int) -> int | None:
        try:
            reply = await self._gateway.call_on(
                self._endpoint,
                "lease/timetolive",
                LeaseTimeToLiveRequest(id=lease),
                LeaseTimeToLiveResponse,
                timeout=self._gateway.read_timeout,
            )
        except EtcdConnectionFailed:
            raise  # the member went away: the watch goes on elsewhere, from this event
        except EtcdException:
            return None  # not allowed to ask
        return reply.ttl

    def _result(self, event: WatchEvent, ttls: Mapping[int, int]) -> EtcdResult:
        before = event.prev_kv
        action: Action
        if event.type == "PUT":
            action = "create" if event.kv.version == 1 else "set"
            node = _node(event.kv, ttls)
        else:
            # A deleted key whose lease is gone most likely expired with it (a user's
            # delete followed by a revoke of the lease reads the same way).
            lost = before is not None and before.lease and ttls.get(before.lease) == -1
            action = "expire" if lost else "delete"
            node = _node(event.kv, {})
            node.value = None
            node.created_index = before.create_revision if before is not None else 0
        return EtcdResult(
            action=action,
            node=node,
            prev_node=None if before is None else _node(before, ttls),
            etcd_index=self.etcd_index,
            raft_term=self._raft_term,
            cluster_id=self._cluster_id,
        )

    def _canceled(self, message: WatchResponse) -> EtcdException:
        if message.compact_revision:
            return _compacted(self._key, self._endpoint, message.compact_revision, self.etcd_index)
        reason = message.cancel_reason or "no reason given"
        return EtcdException(
            f"etcd canceled the watch of {self._key!r}: {reason} ({self._endpoint})",
            ErrorPayload(message=reason, cause=self._key),
            status=200,
        )


def _compacted(
    key: str, endpoint: str, compact_revision: int, current: int | None
) -> EtcdCompacted:
    """etcd compacted away revisions the watch of ``key`` was to report: v2's 401, with the
    store's revision when the watch began as the index."""
    why = (
        f"etcd compacted its history up to revision {compact_revision}, past where the "
        f"watch of {key!r} was ({endpoint})"
    )
    payload = ErrorPayload(
        error_code=401,
        message="The event in requested index is outdated and cleared",
        cause=why,
        index=current,
    )
    return EtcdCompacted(why, payload, status=200, compact_revision=compact_revision)


def _node(kv: KeyValue, ttls: Mapping[int, int]) -> EtcdNode:
    """A v2 node of ``kv``: a directory marker ``D/`` is the directory ``D``."""
    name = text(kv.key)
    if name.endswith("/") and len(name) > 1:
        return EtcdNode(
            key=name[:-1],
            dir=True,
            modified_index=kv.mod_revision,
            created_index=kv.create_revision,
        )
    return file_node(name, kv, ttls)
