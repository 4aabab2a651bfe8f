"""Key-value messages of the v3 API (``etcdserverpb`` ``KV`` service: ``/v3/kv/*``).

Fields follow etcd-io/etcd ``api/etcdserverpb/rpc.proto`` and ``api/mvccpb/kv.proto``; every
field is optional on the wire and absent when zero (as etcd 3.4.23 and 3.5.1 behave).
Keys and values are ``bytes``.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from ._base import B64Bytes, Int64, ResponseHeader, V3Model, V3Request


class SortOrder(str, Enum):
    """``RangeRequest.SortOrder``."""

    NONE = "NONE"
    ASCEND = "ASCEND"
    DESCEND = "DESCEND"


class SortTarget(str, Enum):
    """``RangeRequest.SortTarget``: what a range is sorted by."""

    KEY = "KEY"
    VERSION = "VERSION"
    CREATE = "CREATE"
    MOD = "MOD"
    VALUE = "VALUE"


class KeyValue(V3Model):
    """A key and its value at some revision (``mvccpb.KeyValue``)."""

    key: B64Bytes = b""
    create_revision: Int64 = 0
    """The revision of the key's last creation."""
    mod_revision: Int64 = 0
    """The revision of the key's last modification."""
    version: Int64 = 0
    """Modifications since creation: 1 when created; deleting resets it to 0."""
    value: B64Bytes = b""
    lease: Int64 = 0
    """The id of the lease attached to the key; 0 for none."""

    @property
    def key_text(self) -> str:
        """``key`` decoded as UTF-8. Raises :class:`UnicodeDecodeError` for other bytes:
        nothing is replaced silently."""
        return self.key.decode()

    @property
    def value_text(self) -> str:
        """``value`` decoded as UTF-8, strictly (:class:`UnicodeDecodeError` otherwise)."""
        return self.value.decode()


class RangeRequest(V3Request):
    """``POST /v3/kv/range``: the keys in ``[key, range_end)``.

    ``range_end`` empty: ``key`` alone; ``b"\\x00"``: every key from ``key`` on; the prefix
    end of ``key``: every key starting with ``key``.
    """

    key: B64Bytes = b""
    range_end: B64Bytes = b""
    limit: Int64 = 0
    """At most this many keys; 0 for no limit."""
    revision: Int64 = 0
    """Read at this revision (0 or less: the latest)."""
    sort_order: SortOrder = SortOrder.NONE
    sort_target: SortTarget = SortTarget.KEY
    serializable: bool = False
    """Answer from the member's local copy, without consensus (may be stale)."""
    keys_only: bool = False
    count_only: bool = False
    min_mod_revision: Int64 = 0
    max_mod_revision: Int64 = 0
    min_create_revision: Int64 = 0
    max_create_revision: Int64 = 0


class RangeResponse(V3Model):
    """The keys found, sorted by key unless asked otherwise."""

    header: ResponseHeader = ResponseHeader()
    kvs: list[KeyValue] = Field(default_factory=list)
    more: bool = False
    """Whether ``limit`` left keys out."""
    count: Int64 = 0
    """Every key in the range, ignoring ``limit`` and the revision filters."""


class PutRequest(V3Request):
    """``POST /v3/kv/put``."""

    key: B64Bytes = b""
    value: B64Bytes = b""
    lease: Int64 = 0
    """Attach this lease (0: none; a put without a lease detaches the key's lease)."""
    prev_kv: bool = False
    """Return the key as it was."""
    ignore_value: bool = False
    """Keep the current value (the key must exist)."""
    ignore_lease: bool = False
    """Keep the current lease (the key must exist)."""


class PutResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    prev_kv: KeyValue | None = None
    """The key before the put, when asked for and it existed."""


class DeleteRangeRequest(V3Request):
    """``POST /v3/kv/deleterange``: delete ``[key, range_end)`` (see :class:`RangeRequest`)."""

    key: B64Bytes = b""
    range_end: B64Bytes = b""
    prev_kv: bool = False


class DeleteRangeResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    deleted: Int64 = 0
    """How many keys were deleted."""
    prev_kvs: list[KeyValue] = Field(default_factory=list)
    """The deleted keys as they were (when asked for), sorted by key."""


class CompactionRequest(V3Request):
    """``POST /v3/kv/compaction``: forget history before ``revision``."""

    revision: Int64 = 0
    physical: bool = False
    """Return only once the compaction is applied to the backend."""


class CompactionResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
