"""Keys, ranges, transactions and compaction: the ``KV`` service (``/v3/kv/*``).

Follows etcd-io/etcd ``api/etcdserverpb/rpc.proto`` and etcd's API reference
(etcd.io/docs/v3.5/learning/api). Keys and values are ``bytes``; ``str`` is taken as UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, TypedDict, TypeVar

from typing_extensions import Unpack

from .._exceptions import EtcdValueError
from .._types import NOT_GIVEN, Timeout
from ..models.v3.kv import (
    CompactionRequest,
    CompactionResponse,
    DeleteRangeRequest,
    DeleteRangeResponse,
    KeyValue,
    PutRequest,
    PutResponse,
    RangeRequest,
    RangeResponse,
    SortOrder,
    SortTarget,
)
from ..models.v3.txn import (
    Compare,
    CompareResult,
    CompareTarget,
    RequestOp,
    TxnRequest,
    TxnResponse,
)
from . import _args as check
from ._args import KeyLike
from ._gateway import Part
from ._lease import LeaseLike, lease_id

SortOrderLike = SortOrder | Literal["none", "ascend", "descend"]
SortTargetLike = SortTarget | Literal["key", "version", "create", "mod", "value"]


class RangeOptions(TypedDict, total=False):
    """The options of every range read (``RangeRequest`` fields), by keyword."""

    limit: int | None
    """At most this many keys (``None``: all)."""
    revision: int | None
    """Read the store as it was at this revision (``None``: now). Raises
    :class:`~aio_etcd.EtcdCompacted` below the compaction point and
    :class:`~aio_etcd.EtcdFutureRevision` above the current revision."""
    sort_order: SortOrderLike
    """``"none"`` (by key, ascending), ``"ascend"`` or ``"descend"``."""
    sort_target: SortTargetLike
    """What to sort by: ``"key"``, ``"version"``, ``"create"``, ``"mod"`` or ``"value"``."""
    keys_only: bool
    """Leave values out."""
    count_only: bool
    """Return only ``count``."""
    serializable: bool
    """Answer from the member's local copy, without consensus: faster, may be stale."""
    min_mod_revision: int | None
    max_mod_revision: int | None
    min_create_revision: int | None
    max_create_revision: int | None


def range_request(key: bytes, range_end: bytes, options: RangeOptions) -> RangeRequest:
    """A checked :class:`RangeRequest` (raises ``TypeError``/``EtcdValueError`` naming the
    option)."""
    unknown = set(options) - set(RangeOptions.__annotations__)
    if unknown:
        raise TypeError(f"unknown range option(s): {', '.join(sorted(unknown))}")
    revs = {
        name: check.optional(options.get(name), name, low=1)
        for name in (
            "min_mod_revision",
            "max_mod_revision",
            "min_create_revision",
            "max_create_revision",
        )
    }
    return RangeRequest(
        key=key,
        range_end=range_end,
        limit=check.optional(options.get("limit"), "limit", low=1),
        revision=check.optional(options.get("revision"), "revision", low=1),
        sort_order=_enum(SortOrder, options.get("sort_order", SortOrder.NONE), "sort_order"),
        sort_target=_enum(SortTarget, options.get("sort_target", SortTarget.KEY), "sort_target"),
        keys_only=check.flag(options.get("keys_only", False), "keys_only"),
        count_only=check.flag(options.get("count_only", False), "count_only"),
        serializable=check.flag(options.get("serializable", False), "serializable"),
        **revs,
    )


E = TypeVar("E", SortOrder, SortTarget)


def _enum(cls: type[E], value: object, name: str) -> E:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        try:
            return cls(value.upper())
        except ValueError:
            pass
        names = ", ".join(repr(member.value.lower()) for member in cls)
        raise EtcdValueError(f"{name} must be one of {names}, not {value!r}")
    raise TypeError(f"{name} must be a {cls.__name__} or str, not {type(value).__name__}")


def key_range(key: object, range_end: object) -> tuple[bytes, bytes]:
    """A checked ``[key, range_end)``: ``range_end`` must sort after ``key``, or be
    ``b"\\x00"`` (every key from ``key`` on)."""
    start = check.key(key)
    end = check.to_bytes(range_end, "range_end")
    if end != b"\x00" and end <= start:
        raise EtcdValueError(
            f"range_end {end!r} must sort after key {start!r} (or be b'\\x00' for no end)"
        )
    return start, end


def prefix_range(prefix: object) -> tuple[bytes, bytes]:
    """``[prefix, prefix end)``; an empty prefix is every key."""
    start = check.to_bytes(prefix, "prefix")
    if not start:
        return b"\x00", b"\x00"
    return start, check.prefix_end(start)


def put_request(
    key: object,
    value: object,
    *,
    lease: LeaseLike | None,
    prev_kv: bool,
    ignore_value: bool,
    ignore_lease: bool,
) -> PutRequest:
    ignores_value = check.flag(ignore_value, "ignore_value")
    data = check.to_bytes(value, "value")
    if ignores_value and data:
        raise EtcdValueError("value must be empty with ignore_value=True")
    ignores_lease = check.flag(ignore_lease, "ignore_lease")
    lease_number = 0 if lease is None else lease_id(lease)
    if ignores_lease and lease_number:
        raise EtcdValueError("lease must be None with ignore_lease=True")
    return PutRequest(
        key=check.key(key),
        value=data,
        lease=lease_number,
        prev_kv=check.flag(prev_kv, "prev_kv"),
        ignore_value=ignores_value,
        ignore_lease=ignores_lease,
    )


class KV(Part):
    """The key-value calls of :class:`~aio_etcd.Etcd3Client`."""

    async def get(
        self,
        key: KeyLike,
        *,
        serializable: bool = False,
        revision: int | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> KeyValue | None:
        """The key and its value, or ``None`` when it does not exist.

        Args:
            key: bytes, or text (UTF-8).
            serializable: answer from the member's local copy (may be stale).
            revision: read the key as it was at this revision.
            timeout: seconds; ``None`` for no limit; by default the client's ``read_timeout``.

        Raises:
            EtcdCompacted: ``revision`` was compacted away.
            EtcdFutureRevision: ``revision`` is ahead of the store.
        """
        request = range_request(
            check.key(key), b"", {"serializable": serializable, "revision": revision}
        )
        reply = await self._range(request, timeout)
        return reply.kvs[0] if reply.kvs else None

    async def get_range(
        self,
        key: KeyLike,
        range_end: KeyLike,
        *,
        timeout: Timeout = NOT_GIVEN,
        **options: Unpack[RangeOptions],
    ) -> RangeResponse:
        """Every key in ``[key, range_end)`` (``range_end`` ``b"\\x00"``: every key from
        ``key`` on), with the options of :class:`RangeOptions`.

        ``count`` counts every key in the range, ignoring ``limit`` and the revision
        filters; ``more`` says whether ``limit`` left keys out.
        """
        start, end = key_range(key, range_end)
        return await self._range(range_request(start, end, options), timeout)

    async def get_prefix(
        self, prefix: KeyLike, *, timeout: Timeout = NOT_GIVEN, **options: Unpack[RangeOptions]
    ) -> RangeResponse:
        """Every key starting with ``prefix`` (all keys for an empty one); see
        :meth:`get_range`."""
        start, end = prefix_range(prefix)
        return await self._range(range_request(start, end, options), timeout)

    async def get_all(
        self, *, timeout: Timeout = NOT_GIVEN, **options: Unpack[RangeOptions]
    ) -> RangeResponse:
        """Every key; see :meth:`get_range`."""
        return await self._range(range_request(b"\x00", b"\x00", options), timeout)

    async def put(
        self,
        key: KeyLike,
        value: KeyLike,
        *,
        lease: LeaseLike | None = None,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
        timeout: Timeout = NOT_GIVEN,
    ) -> PutResponse:
        """Set ``key`` to ``value``.

        Args:
            lease: attach this lease (an id or a :class:`~aio_etcd.v3.Lease`); the key is
                deleted when the lease ends. A put without ``lease`` (nor ``ignore_lease``)
                detaches the key from its lease.
            prev_kv: return the key as it was in ``prev_kv``.
            ignore_value: keep the current value (give ``value=b""``); the key must exist.
            ignore_lease: keep the current lease; the key must exist.

        Raises:
            EtcdLeaseNotFound: the lease does not exist (expired or revoked).
            EtcdKeyNotFound: ``ignore_value`` or ``ignore_lease`` on a missing key.
            EtcdOutcomeUnknown: the member failed before confirming; the put may have
                been applied.
            EtcdNoSpace: the database is full.
        """
        request = put_request(
            key,
            value,
            lease=lease,
            prev_kv=prev_kv,
            ignore_value=ignore_value,
            ignore_lease=ignore_lease,
        )
        return await self._gateway.call(
            "kv/put", request, PutResponse, timeout=self._seconds(timeout), repeatable=False
        )

    async def delete(
        self, key: KeyLike, *, prev_kv: bool = False, timeout: Timeout = NOT_GIVEN
    ) -> DeleteRangeResponse:
        """Delete ``key``; ``deleted`` is 0 when it did not exist. ``prev_kv``: return it
        as it was in ``prev_kvs``."""
        return await self._delete(check.key(key), b"", prev_kv, timeout)

    async def delete_range(
        self,
        key: KeyLike,
        range_end: KeyLike,
        *,
        prev_kv: bool = False,
        timeout: Timeout = NOT_GIVEN,
    ) -> DeleteRangeResponse:
        """Delete every key in ``[key, range_end)`` in one revision (watchers see one
        DELETE per key at that revision); ``prev_kvs`` come sorted by key."""
        start, end = key_range(key, range_end)
        return await self._delete(start, end, prev_kv, timeout)

    async def delete_prefix(
        self, prefix: KeyLike, *, prev_kv: bool = False, timeout: Timeout = NOT_GIVEN
    ) -> DeleteRangeResponse:
        """Delete every key starting with ``prefix`` (which must not be empty)."""
        start = check.key(prefix, "prefix")
        return await self._delete(start, check.prefix_end(start), prev_kv, timeout)

    async def replace(
        self,
        key: KeyLike,
        initial_value: KeyLike,
        new_value: KeyLike,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> bool:
        """Set ``key`` to ``new_value`` if its value is ``initial_value`` (atomically);
        ``True`` if it did. ``False`` when the value differs or the key does not exist."""
        compare = Value(key) == initial_value
        reply = await self.transaction([compare], [Op.put(key, new_value)], [], timeout=timeout)
        return reply.succeeded

    async def transaction(
        self,
        compare: Iterable[Compare],
        success: Iterable[RequestOp] = (),
        failure: Iterable[RequestOp] = (),
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> TxnResponse:
        """If every compare holds, run ``success``, else ``failure``, atomically::

            from aio_etcd.v3 import ModRevision, Op, Value

            reply = await client.transaction(
                [Value(b"/cfg") == b"old", ModRevision(b"/cfg") < 100],
                [Op.put(b"/cfg", b"new")],
                [Op.get(b"/cfg")],
            )
            if not reply.succeeded:
                current = reply.responses[0].response_range

        ``reply.succeeded`` says which branch ran; ``reply.responses`` has one typed
        response per operation of it (``response_range``, ``response_put``,
        ``response_delete_range`` or ``response_txn``). On a missing key every ``Value``
        compare is false, whatever the operator; the others compare as 0.

        A transaction with only reads is retried on another member like a read; one that
        writes is not repeated when it may have been applied
        (:class:`~aio_etcd.EtcdOutcomeUnknown`).

        Raises:
            EtcdValueError: a key put or deleted twice, more than 128 operations (etcd's
                ``--max-txn-ops`` default).
        """
        request = txn_request(compare, success, failure)
        return await self._gateway.call(
            "kv/txn",
            request,
            TxnResponse,
            timeout=self._seconds(timeout),
            repeatable=request.read_only,
        )

    async def compact(
        self, revision: int, *, physical: bool = False, timeout: Timeout = NOT_GIVEN
    ) -> CompactionResponse:
        """Forget the history before ``revision``: reads and watches of older revisions
        raise :class:`~aio_etcd.EtcdCompacted` from then on.

        Args:
            physical: return only once the compaction is applied to the backend.

        Raises:
            EtcdCompacted: ``revision`` is at or below the last compaction.
            EtcdFutureRevision: ``revision`` is ahead of the store.
        """
        request = CompactionRequest(
            revision=check.integer(revision, "revision", low=1),
            physical=check.flag(physical, "physical"),
        )
        return await self._gateway.call(
            "kv/compaction",
            request,
            CompactionResponse,
            timeout=self._seconds(timeout),
            repeatable=True,  # compacting twice to the same revision changes nothing more
        )

    async def _range(self, request: RangeRequest, timeout: Timeout) -> RangeResponse:
        return await self._gateway.call(
            "kv/range", request, RangeResponse, timeout=self._seconds(timeout), repeatable=True
        )

    async def _delete(
        self, key: bytes, range_end: bytes, prev_kv: bool, timeout: Timeout
    ) -> DeleteRangeResponse:
        request = DeleteRangeRequest(
            key=key, range_end=range_end, prev_kv=check.flag(prev_kv, "prev_kv")
        )
        return await self._gateway.call(
            "kv/deleterange",
            request,
            DeleteRangeResponse,
            timeout=self._seconds(timeout),
            repeatable=False,
        )


def txn_request(
    compare: Iterable[Compare], success: Iterable[RequestOp], failure: Iterable[RequestOp]
) -> TxnRequest:
    """A checked :class:`TxnRequest`."""
    return TxnRequest(
        compare=_items(compare, Compare, "compare", "Value(key) == b'x'"),
        success=_items(success, RequestOp, "success", "Op.put(key, value)"),
        failure=_items(failure, RequestOp, "failure", "Op.put(key, value)"),
    )


def _items(values: object, cls: type[Compare] | type[RequestOp], name: str, hint: str) -> list:  # type: ignore[type-arg]
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list of {cls.__name__}, not {type(values).__name__}")
    items = list(values)
    for item in items:
        if not isinstance(item, cls):
            raise TypeError(
                f"{name} must hold {cls.__name__} objects (e.g. {hint}), not {type(item).__name__}"
            )
    return items


# -- compares ----------------------------------------------------------------------------


class _Target:
    """The left side of a compare: ``Value(key) == b"x"`` gives a :class:`Compare`.

    ``range_end`` compares every key in ``[key, range_end)`` (all must satisfy it).
    """

    _target: CompareTarget
    _field: str

    __hash__ = None  # type: ignore[assignment]  # == builds a compare, so no hashing

    def __init__(self, key: KeyLike, *, range_end: KeyLike | None = None) -> None:
        if range_end is None:
            self.key, self.range_end = check.key(key), b""
        else:
            self.key, self.range_end = key_range(key, range_end)

    def _operand(self, value: object) -> object:
        return check.integer(value, f"the operand of {type(self).__name__}", low=-(2**63))

    def _compare(self, result: CompareResult, value: object) -> Compare:
        fields: dict[str, Any] = {self._field: self._operand(value)}
        return Compare(
            result=result, target=self._target, key=self.key, range_end=self.range_end, **fields
        )

    def __eq__(self, value: object) -> Compare:  # type: ignore[override]
        return self._compare(CompareResult.EQUAL, value)

    def __ne__(self, value: object) -> Compare:  # type: ignore[override]
        return self._compare(CompareResult.NOT_EQUAL, value)

    def __lt__(self, value: object) -> Compare:
        return self._compare(CompareResult.LESS, value)

    def __gt__(self, value: object) -> Compare:
        return self._compare(CompareResult.GREATER, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key!r})"


class Value(_Target):
    """Compare a key's value (bytes, or text as UTF-8): ``Value(key) == b"x"``. On a
    missing key it is false whatever the operator."""

    _target = CompareTarget.VALUE
    _field = "value"

    def _operand(self, value: object) -> object:
        return check.to_bytes(value, "the operand of Value")


class Version(_Target):
    """Compare a key's version (modifications since creation; 0 when missing):
    ``Version(key) > 0`` means "exists"."""

    _target = CompareTarget.VERSION
    _field = "version"


class CreateRevision(_Target):
    """Compare the revision a key was created at (0 when missing): ``CreateRevision(key)
    == 0`` means "does not exist"."""

    _target = CompareTarget.CREATE
    _field = "create_revision"


class ModRevision(_Target):
    """Compare the revision a key was last modified at (0 when missing)."""

    _target = CompareTarget.MOD
    _field = "mod_revision"


class LeaseId(_Target):
    """Compare the id of the lease attached to a key (0 for none or when missing); the
    operand is a lease id, a lease, or 0/``None`` for none."""

    _target = CompareTarget.LEASE
    _field = "lease"

    def _operand(self, value: object) -> object:
        if value is None or value == 0:  # no lease
            return 0
        return lease_id(value)  # type: ignore[arg-type]


# -- operations --------------------------------------------------------------------------


class Op:
    """Operations of a transaction, each a typed :class:`RequestOp`::

    Op.put(b"/k", b"v"), Op.get(b"/k"), Op.delete_prefix(b"/dir/"), Op.txn([...], [...])
    """

    @staticmethod
    def get(key: KeyLike, **options: Unpack[RangeOptions]) -> RequestOp:
        """Read ``key``; the options of :class:`RangeOptions`."""
        return RequestOp(request_range=range_request(check.key(key), b"", options))

    @staticmethod
    def get_range(key: KeyLike, range_end: KeyLike, **options: Unpack[RangeOptions]) -> RequestOp:
        """Read ``[key, range_end)``."""
        start, end = key_range(key, range_end)
        return RequestOp(request_range=range_request(start, end, options))

    @staticmethod
    def get_prefix(prefix: KeyLike, **options: Unpack[RangeOptions]) -> RequestOp:
        """Read every key starting with ``prefix``."""
        start, end = prefix_range(prefix)
        return RequestOp(request_range=range_request(start, end, options))

    @staticmethod
    def put(
        key: KeyLike,
        value: KeyLike,
        *,
        lease: LeaseLike | None = None,
        prev_kv: bool = False,
        ignore_value: bool = False,
        ignore_lease: bool = False,
    ) -> RequestOp:
        """Set ``key`` to ``value``; the options of :meth:`KV.put`."""
        return RequestOp(
            request_put=put_request(
                key,
                value,
                lease=lease,
                prev_kv=prev_kv,
                ignore_value=ignore_value,
                ignore_lease=ignore_lease,
            )
        )

    @staticmethod
    def delete(key: KeyLike, *, prev_kv: bool = False) -> RequestOp:
        """Delete ``key``."""
        return RequestOp(
            request_delete_range=DeleteRangeRequest(
                key=check.key(key), prev_kv=check.flag(prev_kv, "prev_kv")
            )
        )

    @staticmethod
    def delete_range(key: KeyLike, range_end: KeyLike, *, prev_kv: bool = False) -> RequestOp:
        """Delete ``[key, range_end)``."""
        start, end = key_range(key, range_end)
        return RequestOp(
            request_delete_range=DeleteRangeRequest(
                key=start, range_end=end, prev_kv=check.flag(prev_kv, "prev_kv")
            )
        )

    @staticmethod
    def delete_prefix(prefix: KeyLike, *, prev_kv: bool = False) -> RequestOp:
        """Delete every key starting with ``prefix`` (not empty)."""
        start = check.key(prefix, "prefix")
        return RequestOp(
            request_delete_range=DeleteRangeRequest(
                key=start, range_end=check.prefix_end(start), prev_kv=check.flag(prev_kv, "prev_kv")
            )
        )

    @staticmethod
    def txn(
        compare: Iterable[Compare],
        success: Iterable[RequestOp] = (),
        failure: Iterable[RequestOp] = (),
    ) -> RequestOp:
        """A nested transaction (etcd ≥ 3.3); its result is a ``response_txn``."""
        return RequestOp(request_txn=txn_request(compare, success, failure))
