"""What every v3 model shares: one base, and the wire's scalar types.

etcd's JSON gateway (grpc-gateway over ``api/etcdserverpb/rpc.proto``) encodes ``int64`` and
``uint64`` as decimal strings, ``bytes`` as standard padded base64, and leaves out every field
whose value is zero, false or empty. So every field here has a default that means "absent",
integers parse from strings, and bytes fields decode base64 when they come from the wire.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, ValidationInfo

__all__ = ["WIRE", "B64Bytes", "Int64", "ResponseHeader", "UInt64", "V3Model", "V3Request"]

WIRE: dict[str, bool] = {"wire": True}
"""Validation context for a dict that came from the wire (already ``json.loads``-ed):
strings in bytes fields are base64 there, as with ``model_validate_json``."""

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT64_MAX = 2**64 - 1


def _from_wire(info: ValidationInfo) -> bool:
    return info.mode == "json" or bool(info.context and info.context.get("wire"))


def _integer(value: Any, low: int, high: int) -> int:
    if type(value) is str and value.isascii() and value.isdigit():
        # The wire's form, checked first: every reply carries several.
        number = int(value)
        if low <= number <= high:
            return number
    if isinstance(value, bool):
        raise ValueError("a bool is not an integer")
    if isinstance(value, str):
        text = value.strip()
        if not text or not text.lstrip("-").isdigit():
            raise ValueError(f"{value!r} is not a decimal integer")
        value = int(text)
    if not isinstance(value, int):
        raise ValueError(f"an integer is required, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}..{high}")
    return value


def _int64(value: Any) -> int:
    return _integer(value, INT64_MIN, INT64_MAX)


def _uint64(value: Any) -> int:
    return _integer(value, 0, UINT64_MAX)


Int64 = Annotated[
    int,
    PlainValidator(_int64),
    PlainSerializer(str, return_type=str, when_used="json"),
]
"""An ``int64``: parsed from ``"123"`` or ``123``; sent as a decimal string, as protojson does
(the gateway accepts both)."""

UInt64 = Annotated[
    int,
    PlainValidator(_uint64),
    PlainSerializer(str, return_type=str, when_used="json"),
]
"""A ``uint64`` (member and cluster ids): like :data:`Int64`, from 0 to 2**64-1. Ids are
decimal on the v3 wire, where v2 wrote them in hex."""


def _bytes(value: Any, info: ValidationInfo) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        if _from_wire(info):
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"not standard padded base64: {exc}") from None
        try:
            return value.encode()
        except UnicodeEncodeError as exc:
            raise ValueError(f"a lone surrogate at position {exc.start} has no UTF-8") from None
    raise ValueError(f"bytes or str is required, not {type(value).__name__}")


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


B64Bytes = Annotated[
    bytes,
    PlainValidator(_bytes),
    PlainSerializer(_b64, return_type=str, when_used="json"),
]
"""A ``bytes`` field: standard padded base64 on the wire (etcd 3.5 refuses unpadded input),
``bytes`` in Python. Built in Python, a ``str`` is taken as its UTF-8 bytes."""


class V3Model(BaseModel):
    """A message of etcd's v3 API as the JSON gateway sends it.

    Replies ignore fields they do not know (newer servers add some), and every field has a
    default, because the gateway omits zero values.
    """

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class V3Request(V3Model):
    """A request message. Unknown fields are refused here: etcd would silently ignore a
    misspelled one (``{"ttl": 7}`` grants a lease of the server's minimum TTL)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid", frozen=True)

    def wire(self) -> bytes:
        """The JSON body: wire names, zero values left out as the server would."""
        return self.model_dump_json(by_alias=True, exclude_defaults=True).encode()


class ResponseHeader(V3Model):
    """The ``header`` of every reply (``etcdserverpb.ResponseHeader``)."""

    cluster_id: UInt64 = 0
    """The cluster's id, in decimal (v2 showed it in hex)."""
    member_id: UInt64 = 0
    """The id of the member that answered."""
    revision: Int64 = 0
    """The key-value store's revision when the request was served; 0 where etcd omits it
    (a member list, a watch canceled by compaction, a nested txn reply's header)."""
    raft_term: Int64 = 0
    """The raft term when the request was served."""
