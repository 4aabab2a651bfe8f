"""Maintenance messages of the v3 API (``etcdserverpb`` ``Maintenance`` service,
``/v3/maintenance/*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import B64Bytes, Int64, ResponseHeader, UInt64, V3Model, V3Request

__all__ = [
    "AlarmAction",
    "AlarmMember",
    "AlarmRequest",
    "AlarmResponse",
    "DefragmentRequest",
    "DefragmentResponse",
    "HashKVRequest",
    "HashKVResponse",
    "HashRequest",
    "HashResponse",
    "SnapshotRequest",
    "SnapshotResponse",
    "StatusRequest",
    "StatusResponse",
]

AlarmAction = Literal["GET", "ACTIVATE", "DEACTIVATE"]


class AlarmMember(V3Model):
    """An alarm raised on one member (``etcdserverpb.AlarmMember``)."""

    member_id: UInt64 = Field(0, alias="memberID")
    """The member the alarm is on."""
    alarm: str = "NONE"
    """``NOSPACE`` (the database reached its quota: writes are refused), ``CORRUPT`` (the
    member's data differs from the others'), or a newer kind by name."""


class AlarmRequest(V3Request):
    """``POST /v3/maintenance/alarm``."""

    action: AlarmAction = "GET"
    member_id: UInt64 = Field(0, alias="memberID")
    alarm: str = "NONE"


class AlarmResponse(V3Model):
    """The alarms raised (``GET``), or those just cleared (``DEACTIVATE``)."""

    header: ResponseHeader = ResponseHeader()
    alarms: list[AlarmMember] = Field(default_factory=list)


class StatusRequest(V3Request):
    """``POST /v3/maintenance/status``."""


class StatusResponse(V3Model):
    """What one member says about itself (``etcdctl endpoint status``)."""

    header: ResponseHeader = ResponseHeader()
    """``header.member_id`` is the member that answered."""
    version: str = ""
    """Its etcd version, e.g. ``3.5.1``."""
    db_size: Int64 = Field(0, alias="dbSize")
    """Bytes of its database file on disk."""
    leader: UInt64 = 0
    """The id of the leader it follows; 0 when it has none (quorum lost)."""
    raft_index: UInt64 = Field(0, alias="raftIndex")
    raft_term: UInt64 = Field(0, alias="raftTerm")
    raft_applied_index: UInt64 = Field(0, alias="raftAppliedIndex")
    """The last raft index applied to its store (etcd >= 3.4)."""
    errors: list[str] = Field(default_factory=list)
    """What is wrong with it: alarms (``memberID:… alarm:NOSPACE``), ``etcdserver: no
    leader`` (etcd >= 3.4)."""
    db_size_in_use: Int64 = Field(0, alias="dbSizeInUse")
    """Bytes of the database in use; the rest is free space a defragment gives back
    (etcd >= 3.4)."""
    is_learner: bool = Field(False, alias="isLearner")
    """Whether it is a learner (etcd >= 3.4)."""

    @property
    def member_id(self) -> int:
        """The id of the member that answered."""
        return self.header.member_id

    @property
    def is_leader(self) -> bool:
        """Whether the member that answered leads the cluster."""
        return self.leader != 0 and self.leader == self.header.member_id


class DefragmentRequest(V3Request):
    """``POST /v3/maintenance/defragment``."""


class DefragmentResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class HashRequest(V3Request):
    """``POST /v3/maintenance/hash``: a hash of the member's whole backend database."""


class HashResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    hash: int = 0
    """CRC-32 (Castagnoli) of the database; members compare only when at the same
    revision, and their databases also hold member-local buckets, so use
    :meth:`~aio_etcd.v3.Maintenance.hashkv` to compare members."""


class HashKVRequest(V3Request):
    """``POST /v3/maintenance/hashkv`` (served by the gateway from etcd 3.5.10)."""

    revision: Int64 = 0
    """Hash the key-value store up to this revision; 0 for the latest."""


class HashKVResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    hash: int = 0
    """CRC-32 (Castagnoli) of the keys and values up to ``revision``."""
    compact_revision: Int64 = 0
    """The revision of the last compaction the hash starts from."""
    hash_revision: Int64 = 0
    """The revision the hash was computed at (etcd >= 3.5.8)."""


class SnapshotRequest(V3Request):
    """``POST /v3/maintenance/snapshot``: the member's database, streamed."""


class SnapshotResponse(V3Model):
    """One message of the snapshot stream."""

    header: ResponseHeader = ResponseHeader()
    remaining_bytes: UInt64 = 0
    """Bytes still to come after this message (not sent by every version)."""
    blob: B64Bytes = b""
    """The next piece of the database file; the last 32 bytes of the whole stream are the
    SHA-256 of what precedes them."""
    version: str = ""
    """The storage version of the snapshot (etcd >= 3.6)."""
