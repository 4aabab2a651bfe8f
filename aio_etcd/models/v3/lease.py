"""Lease messages of the v3 API (``etcdserverpb`` ``Lease`` service: ``/v3/lease/*``).

The wire names are the proto's: ``ID``, ``TTL``, ``grantedTTL``. TTLs are whole seconds.
"""

from __future__ import annotations

from pydantic import Field

from ._base import B64Bytes, Int64, ResponseHeader, V3Model, V3Request


class LeaseGrantRequest(V3Request):
    """``POST /v3/lease/grant``."""

    ttl: Int64 = Field(0, alias="TTL")
    """Seconds; the server raises it to its minimum (about 2 s with default settings)."""
    id: Int64 = Field(0, alias="ID")
    """The lease id to use; 0 lets the server choose."""


class LeaseGrantResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    id: Int64 = Field(0, alias="ID")
    ttl: Int64 = Field(0, alias="TTL")
    """The TTL granted, seconds."""
    error: str = ""


class LeaseRevokeRequest(V3Request):
    """``POST /v3/lease/revoke``: end the lease and delete its keys."""

    id: Int64 = Field(0, alias="ID")


class LeaseRevokeResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class LeaseKeepAliveRequest(V3Request):
    """``POST /v3/lease/keepalive`` (one message: one renewal)."""

    id: Int64 = Field(0, alias="ID")


class LeaseKeepAliveResponse(V3Model):
    """``ttl`` 0 (absent on the wire) means the lease was not found: it expired or was
    revoked (as etcd 3.4.23 and 3.5.1 behave)."""

    header: ResponseHeader = ResponseHeader()
    id: Int64 = Field(0, alias="ID")
    ttl: Int64 = Field(0, alias="TTL")
    """The renewed TTL, seconds."""


class LeaseTimeToLiveRequest(V3Request):
    """``POST /v3/lease/timetolive``."""

    id: Int64 = Field(0, alias="ID")
    keys: bool = False
    """Also list the keys attached to the lease."""


class LeaseTimeToLiveResponse(V3Model):
    """``ttl`` is -1 when the lease does not exist (expired or revoked)."""

    header: ResponseHeader = ResponseHeader()
    id: Int64 = Field(0, alias="ID")
    ttl: Int64 = Field(0, alias="TTL")
    """Seconds left."""
    granted_ttl: Int64 = Field(0, alias="grantedTTL")
    """The TTL the lease was granted (or last renewed) with, seconds."""
    keys: list[B64Bytes] = Field(default_factory=list)


class LeaseLeasesRequest(V3Request):
    """``POST /v3/lease/leases``: every lease (it has no fields)."""


class LeaseStatus(V3Model):
    id: Int64 = Field(0, alias="ID")


class LeaseLeasesResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    leases: list[LeaseStatus] = Field(default_factory=list)
