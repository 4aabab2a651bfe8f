"""Watch messages of the v3 API (``etcdserverpb`` ``Watch`` service: ``POST /v3/watch``).

Fields follow etcd-io/etcd ``api/etcdserverpb/rpc.proto`` (``WatchCreateRequest``,
``WatchResponse``) and ``api/mvccpb/kv.proto`` (``Event``); absent fields are zero.
:class:`WatchSnapshot` and :class:`WatchProgress` are not on the wire:
:class:`~aio_etcd.v3.Watch` yields them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import B64Bytes, Int64, ResponseHeader, V3Model, V3Request
from .kv import KeyValue

WatchFilter = Literal["NOPUT", "NODELETE"]
"""``WatchCreateRequest.FilterType``: leave out PUT or DELETE events."""


class WatchCreateRequest(V3Request):
    """Start watching a key or a range of keys."""

    key: B64Bytes = b""
    range_end: B64Bytes = b""
    """The end of the range, exclusive; empty for ``key`` alone, ``b"\\x00"`` for every
    key from ``key`` on."""
    start_revision: Int64 = 0
    """The first revision to report (history included); 0: from the next change on."""
    progress_notify: bool = False
    """Ask for a message with only a header when the watch has been idle for etcd's
    progress interval (``--experimental-watch-progress-notify-interval``, 10 minutes by
    default)."""
    filters: list[WatchFilter] = Field(default_factory=list)
    prev_kv: bool = False
    """Send each event's previous key-value pair as well."""
    watch_id: Int64 = 0
    fragment: bool = False
    """Split revisions larger than the server's message limit (never sent by aio_etcd:
    the gateway's HTTP stream takes messages of any size)."""


class WatchRequest(V3Request):
    """The body of ``POST /v3/watch``: one create request (a POST stream cannot send a
    cancel or progress request later)."""

    create_request: WatchCreateRequest


class WatchEvent(V3Model):
    """One change of one key (``mvccpb.Event``).

    Every event of a revision shares ``kv.mod_revision``: a transaction that writes three
    keys gives three events, a range delete one DELETE per key.
    """

    type: Literal["PUT", "DELETE"] = "PUT"
    """``"PUT"`` (absent on the wire) or ``"DELETE"``. A lease expiring deletes its keys:
    a DELETE whose ``prev_kv.lease`` is not 0 may be one."""
    kv: KeyValue = KeyValue()
    """The key after the change. For a DELETE only ``key`` and ``mod_revision`` (the
    revision of the delete) are set."""
    prev_kv: KeyValue | None = None
    """The key before the change, when the watch asked for ``prev_kv`` and there was one."""

    @property
    def key(self) -> bytes:
        return self.kv.key

    @property
    def revision(self) -> int:
        """The revision of the change (``kv.mod_revision``)."""
        return self.kv.mod_revision


class WatchResponse(V3Model):
    """One message of a watch stream (``etcdserverpb.WatchResponse``)."""

    header: ResponseHeader = ResponseHeader()
    """``revision`` is the store's revision when the message was sent, which is past the
    events of a history replay; 0 in a message canceled by compaction."""
    watch_id: Int64 = 0
    created: bool = False
    """The first message of a watch."""
    canceled: bool = False
    """The server ended the watch (compaction, permission); the HTTP stream stays open."""
    compact_revision: Int64 = 0
    """Set when the watch asked for a revision older than this, the oldest one left."""
    cancel_reason: str = ""
    fragment: bool = False
    events: list[WatchEvent] = Field(default_factory=list)
    """Whole revisions, in order; empty in a progress notification."""


class WatchSnapshot(V3Model):
    """What a watch with ``resync=True`` yields when etcd compacted away revisions it had
    yet to report: the watched keys as they are at ``revision``. Replace what you built
    from earlier events with ``kvs``; the events that follow start at ``revision + 1``."""

    revision: int
    """The store's revision the snapshot was read at."""
    kvs: list[KeyValue] = Field(default_factory=list)
    """Every watched key that exists at ``revision``, sorted by key (one linearizable
    range, not paged: a range of many megabytes arrives whole)."""
    compact_revision: int
    """The oldest revision etcd still had when it canceled the watch."""


class WatchProgress(V3Model):
    """What a watch with ``report_progress=True`` yields for a progress notification:
    every change up to ``revision`` has been yielded."""

    revision: int
