"""Transactions (``POST /v3/kv/txn``): compares, then one list of operations or the other.

Fields follow etcd-io/etcd ``api/etcdserverpb/rpc.proto`` (``Compare``, ``RequestOp``,
``ResponseOp``, ``TxnRequest``, ``TxnResponse``). Build compares and operations with
:class:`aio_etcd.v3.Compare` and :class:`aio_etcd.v3.Op` rather than by hand: etcd compares a
``Compare`` whose operand field does not match its ``target`` against 0, with no error.
"""

from __future__ import annotations

from enum import Enum

from pydantic import Field, model_validator

from ._base import B64Bytes, Int64, ResponseHeader, V3Model, V3Request
from .kv import (
    DeleteRangeRequest,
    DeleteRangeResponse,
    PutRequest,
    PutResponse,
    RangeRequest,
    RangeResponse,
)


class CompareResult(str, Enum):
    """``Compare.CompareResult``: the operator."""

    EQUAL = "EQUAL"
    GREATER = "GREATER"
    LESS = "LESS"
    NOT_EQUAL = "NOT_EQUAL"


class CompareTarget(str, Enum):
    """``Compare.CompareTarget``: what of the key is compared."""

    VERSION = "VERSION"
    CREATE = "CREATE"
    MOD = "MOD"
    VALUE = "VALUE"
    LEASE = "LEASE"


class Compare(V3Request):
    """One condition of a transaction (``etcdserverpb.Compare``).

    On a missing key, every ``VALUE`` compare is false whatever the operator; ``VERSION``,
    ``CREATE``, ``MOD`` and ``LEASE`` compare as 0 (as etcd 3.4.23 and 3.5.1 behave).
    """

    result: CompareResult = CompareResult.EQUAL
    target: CompareTarget = CompareTarget.VERSION
    key: B64Bytes = b""
    range_end: B64Bytes = b""
    """Compare every key in ``[key, range_end)``; all must satisfy it."""
    version: Int64 = 0
    create_revision: Int64 = 0
    mod_revision: Int64 = 0
    value: B64Bytes = b""
    lease: Int64 = 0

    @model_validator(mode="after")
    def _operand_matches_target(self) -> Compare:
        # etcd compares a field that does not match the target as 0, silently.
        for target, field in _OPERANDS.items():
            if target != self.target and getattr(self, field) != _ZERO[field]:
                raise ValueError(
                    f"a {self.target.value} compare takes its operand in "
                    f"{_OPERANDS[self.target]!r}, not {field!r}"
                )
        return self


_OPERANDS = {
    CompareTarget.VERSION: "version",
    CompareTarget.CREATE: "create_revision",
    CompareTarget.MOD: "mod_revision",
    CompareTarget.VALUE: "value",
    CompareTarget.LEASE: "lease",
}
"""The field that holds the operand of each target (``Compare.target_union``)."""
_ZERO: dict[str, object] = {
    "version": 0, "create_revision": 0, "mod_revision": 0, "value": b"", "lease": 0
}  # fmt: skip


class RequestOp(V3Request):
    """One operation of a transaction: exactly one field is set."""

    request_range: RangeRequest | None = None
    request_put: PutRequest | None = None
    request_delete_range: DeleteRangeRequest | None = None
    request_txn: TxnRequest | None = None


class TxnRequest(V3Request):
    """``POST /v3/kv/txn``: if every compare holds, run ``success``, else ``failure``."""

    compare: list[Compare] = Field(default_factory=list)
    success: list[RequestOp] = Field(default_factory=list)
    failure: list[RequestOp] = Field(default_factory=list)

    @property
    def read_only(self) -> bool:
        """Whether every operation of both branches only reads: etcd serves such a
        transaction without raft, as a read."""
        return all(
            op.request_range is not None
            or (op.request_txn is not None and op.request_txn.read_only)
            for op in (*self.success, *self.failure)
        )


class ResponseOp(V3Model):
    """The result of one operation, in the field of its kind."""

    response_range: RangeResponse | None = None
    response_put: PutResponse | None = None
    response_delete_range: DeleteRangeResponse | None = None
    response_txn: TxnResponse | None = None


class TxnResponse(V3Model):
    """What a transaction did: which branch, and one response per operation of it."""

    header: ResponseHeader = ResponseHeader()
    succeeded: bool = False
    """Whether every compare held (so ``success`` ran)."""
    responses: list[ResponseOp] = Field(default_factory=list)


RequestOp.model_rebuild()
ResponseOp.model_rebuild()
