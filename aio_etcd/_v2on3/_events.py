"""The v3 watch as the documented calls see it: ``POST /v3/watch`` read as v2 events.

One watch is one HTTP stream (etcd 3.4 and 3.5 through the JSON gateway, as they behave):

- The create request asks for ``start_revision`` = the index wanted, ``prev_kv`` and
  ``progress_notify``, with ``Grpc-Metadata-hasleader: true`` (clientv3's
  ``WithRequireLeader``: a member that loses its leader ends the stream). Its first message
  (``created``) carries the store's revision, the stream's ``etcd_index``.
- A recursive watch of ``K`` covers ``[K, K0)`` (``0`` follows ``/``) and keeps ``K`` and
  the keys below ``K/``; a key watch covers ``K`` and its directory marker ``K/``. Names
  starting with ``_`` below a recursively watched key are hidden, as v2 hides them.
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
from collections.abc import AsyncIterator, Sequence

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
    renewed = False
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
                    below=below.decode(errors="replace"),
                    recursive=recursive,
                    single=not stream,
                )
                return
        reason = first.cancel_reason or "no reason given"
        refused = any(marker in reason.lower() for marker in AUTH_REFUSED)
        tokens = gateway.tokens
        if refused and not renewed and tokens.username is not None:
            # A stale token is refused this way too: one new token, then again.
            renewed = True
            _, generation = tokens.headers()
            await tokens.renew(endpoint, gateway.authenticate, timeout, generation)
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
            actions = await self._actions(events)
            for position, (event, action) in enumerate(zip(events, actions, strict=True)):
                follows = events[position + 1] if position + 1 < len(events) else None
                continues = follows is not None and follows.revision == event.revision
                self._pending.append((self._result(event, action), continues))
        result, self.revision_continues = self._pending.popleft()
        self._given += 1
        return result

    def _wanted(self, event: WatchEvent) -> bool:
        name = event.kv.key.decode(errors="replace")
        if name in (self._key, self._below):
            return True
        if not self._recursive or not name.startswith(self._below):
            return False
        # v2 hides names starting with "_" below a recursively watched directory.
        return not any(part.startswith("_") for part in name[len(self._below) :].split("/"))

    async def _actions(self, events: Sequence[WatchEvent]) -> list[Action]:
        leases = {
            event.prev_kv.lease
            for event in events
            if event.type == "DELETE" and event.prev_kv is not None and event.prev_kv.lease
        }
        gone = dict(zip(leases, await asyncio.gather(*map(self._lease_gone, leases)), strict=True))
        actions: list[Action] = []
        for event in events:
            if event.type == "PUT":
                actions.append("create" if event.kv.version == 1 else "set")
            elif event.prev_kv is not None and gone.get(event.prev_kv.lease, False):
                actions.append("expire")
            else:
                actions.append("delete")
        return actions

    async def _lease_gone(self, lease: int) -> bool:
        """Whether ``lease`` no longer exists: then the delete was (most likely) its expiry.
        A user's delete followed by a revoke of the lease reads the same way."""
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
            return False  # not allowed to ask: a delete is what etcd reported
        return reply.ttl == -1

    def _result(self, event: WatchEvent, action: Action) -> EtcdResult:
        before = event.prev_kv
        if event.type == "PUT":
            node = _node(event.kv, with_value=True)
        else:
            node = _node(event.kv, with_value=False)
            node.created_index = before.create_revision if before is not None else 0
        return EtcdResult(
            action=action,
            node=node,
            prev_node=None if before is None else _node(before, with_value=True),
            etcd_index=self.etcd_index,
            raft_term=self._raft_term,
            cluster_id=self._cluster_id,
        )

    def _canceled(self, message: WatchResponse) -> EtcdException:
        if message.compact_revision:
            current = self.etcd_index
            why = (
                f"etcd compacted its history up to revision {message.compact_revision}, past "
                f"where the watch of {self._key!r} was ({self._endpoint})"
            )
            payload = ErrorPayload(
                error_code=401, message="The event in requested index is outdated and cleared",
                cause=why, index=current,
            )  # fmt: skip
            return EtcdCompacted(
                why, payload, status=200, compact_revision=message.compact_revision
            )
        reason = message.cancel_reason or "no reason given"
        return EtcdException(
            f"etcd canceled the watch of {self._key!r}: {reason} ({self._endpoint})",
            ErrorPayload(message=reason, cause=self._key),
            status=200,
        )


def _node(kv: KeyValue, *, with_value: bool) -> EtcdNode:
    """A v2 node of ``kv``: a directory marker ``D/`` is the directory ``D``."""
    name = kv.key.decode(errors="replace")
    if name.endswith("/") and len(name) > 1:
        return EtcdNode(
            key=name[:-1],
            dir=True,
            modified_index=kv.mod_revision,
            created_index=kv.create_revision,
        )
    return EtcdNode(
        key=name,
        value=kv.value.decode(errors="replace") if with_value else None,
        modified_index=kv.mod_revision,
        created_index=kv.create_revision,
    )
