"""Cluster messages of the v3 API (``etcdserverpb`` ``Cluster`` service, ``/v3/cluster/*``)."""

from __future__ import annotations

from pydantic import Field

from ._base import ResponseHeader, UInt64, V3Model, V3Request

__all__ = [
    "Member",
    "MemberAddRequest",
    "MemberAddResponse",
    "MemberListRequest",
    "MemberListResponse",
    "MemberPromoteRequest",
    "MemberPromoteResponse",
    "MemberRemoveRequest",
    "MemberRemoveResponse",
    "MemberUpdateRequest",
    "MemberUpdateResponse",
]


class Member(V3Model):
    """A member of the cluster (``etcdserverpb.Member``).

    A member that was added but has not started yet has only ``id`` and ``peer_urls``
    (and ``is_learner``): no name and no client URLs until it runs.
    """

    id: UInt64 = Field(0, alias="ID")
    """The member id, an unsigned 64-bit integer (decimal on the v3 wire)."""
    name: str = ""
    """The member's ``--name``; empty until it has started."""
    peer_urls: list[str] = Field(default_factory=list, alias="peerURLs")
    """Where the other members reach it."""
    client_urls: list[str] = Field(default_factory=list, alias="clientURLs")
    """Where clients reach it; empty until it has started."""
    is_learner: bool = Field(False, alias="isLearner")
    """A learner receives the log but does not vote, and serves no client requests but
    member list and status; :meth:`~aio_etcd.v3.Cluster.member_promote` makes it a voter."""

    @property
    def hex_id(self) -> str:
        """The id in lowercase hex without padding: how etcd's v2 API, ``etcdctl member
        list -w table`` and the server's logs write it (``etcdctl -w json`` prints it in
        decimal, as the v3 wire does)."""
        return format(self.id, "x")

    @property
    def started(self) -> bool:
        """Whether the member has ever run: one that was only added has no name yet."""
        return bool(self.name)


class MemberListRequest(V3Request):
    """``POST /v3/cluster/member/list``."""

    linearizable: bool = False
    """Ask the leader through raft (etcd >= 3.5) instead of the answering member's view."""


class MemberListResponse(V3Model):
    """Every member. ``header.revision`` is absent (0) in this reply."""

    header: ResponseHeader = ResponseHeader()
    members: list[Member] = Field(default_factory=list)


class MemberAddRequest(V3Request):
    """``POST /v3/cluster/member/add``."""

    peer_urls: list[str] = Field(default_factory=list, alias="peerURLs")
    is_learner: bool = Field(False, alias="isLearner")


class MemberAddResponse(V3Model):
    """The member added, and the members after adding it."""

    header: ResponseHeader = ResponseHeader()
    member: Member = Member()
    members: list[Member] = Field(default_factory=list)


class MemberRemoveRequest(V3Request):
    """``POST /v3/cluster/member/remove``."""

    id: UInt64 = Field(0, alias="ID")


class MemberRemoveResponse(V3Model):
    """The members left."""

    header: ResponseHeader = ResponseHeader()
    members: list[Member] = Field(default_factory=list)


class MemberUpdateRequest(V3Request):
    """``POST /v3/cluster/member/update``: new peer URLs for a member."""

    id: UInt64 = Field(0, alias="ID")
    peer_urls: list[str] = Field(default_factory=list, alias="peerURLs")


class MemberUpdateResponse(V3Model):
    """The members after the update."""

    header: ResponseHeader = ResponseHeader()
    members: list[Member] = Field(default_factory=list)


class MemberPromoteRequest(V3Request):
    """``POST /v3/cluster/member/promote`` (etcd >= 3.4): a learner becomes a voter."""

    id: UInt64 = Field(0, alias="ID")


class MemberPromoteResponse(V3Model):
    """The members after the promotion."""

    header: ResponseHeader = ResponseHeader()
    members: list[Member] = Field(default_factory=list)
