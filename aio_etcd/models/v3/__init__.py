"""Validated models of etcd's v3 API, as its JSON gateway speaks it.

Field names are the proto's (``api/etcdserverpb/rpc.proto``), in snake_case for Python, with
aliases for the wire's odd spellings (``TTL``, ``ID``, ``grantedTTL``). Replies ignore unknown
fields; requests refuse them.
"""

from ._base import B64Bytes, Int64, ResponseHeader, UInt64, V3Model, V3Request
from .auth import AuthenticateRequest, AuthenticateResponse
from .error import GatewayError
from .kv import (
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
from .lease import (
    LeaseGrantRequest,
    LeaseGrantResponse,
    LeaseKeepAliveRequest,
    LeaseKeepAliveResponse,
    LeaseLeasesRequest,
    LeaseLeasesResponse,
    LeaseRevokeRequest,
    LeaseRevokeResponse,
    LeaseStatus,
    LeaseTimeToLiveRequest,
    LeaseTimeToLiveResponse,
)
from .txn import (
    Compare,
    CompareResult,
    CompareTarget,
    RequestOp,
    ResponseOp,
    TxnRequest,
    TxnResponse,
)
from .watch import (
    WatchCreateRequest,
    WatchEvent,
    WatchFilter,
    WatchProgress,
    WatchRequest,
    WatchResponse,
    WatchSnapshot,
)

__all__ = [
    "AuthenticateRequest",
    "AuthenticateResponse",
    "B64Bytes",
    "CompactionRequest",
    "CompactionResponse",
    "Compare",
    "CompareResult",
    "CompareTarget",
    "DeleteRangeRequest",
    "DeleteRangeResponse",
    "GatewayError",
    "Int64",
    "KeyValue",
    "LeaseGrantRequest",
    "LeaseGrantResponse",
    "LeaseKeepAliveRequest",
    "LeaseKeepAliveResponse",
    "LeaseLeasesRequest",
    "LeaseLeasesResponse",
    "LeaseRevokeRequest",
    "LeaseRevokeResponse",
    "LeaseStatus",
    "LeaseTimeToLiveRequest",
    "LeaseTimeToLiveResponse",
    "PutRequest",
    "PutResponse",
    "RangeRequest",
    "RangeResponse",
    "RequestOp",
    "ResponseHeader",
    "ResponseOp",
    "SortOrder",
    "SortTarget",
    "TxnRequest",
    "TxnResponse",
    "UInt64",
    "V3Model",
    "V3Request",
    "WatchCreateRequest",
    "WatchEvent",
    "WatchFilter",
    "WatchProgress",
    "WatchRequest",
    "WatchResponse",
    "WatchSnapshot",
]
