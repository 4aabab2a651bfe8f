"""What the cluster says about itself: versions and members."""

from __future__ import annotations

from pydantic import Field

from ._base import EtcdModel


class VersionInfo(EtcdModel):
    """The reply of ``GET /version``."""

    server: str = Field(alias="etcdserver")
    """The version of the member that answered, e.g. ``3.5.1``."""
    cluster: str = Field(alias="etcdcluster")
    """The version the whole cluster runs at, or ``not_decided`` right after start."""


class Member(EtcdModel):
    """A member of the cluster."""

    id: str
    """The member id, lowercase hex without zero padding."""
    name: str = ""
    """The member's name; empty for a member that was added but never started."""
    peer_urls: list[str] = Field(default_factory=list, alias="peerURLs")
    """Where the other members reach it."""
    client_urls: list[str] = Field(default_factory=list, alias="clientURLs")
    """Where clients reach it; empty for a member that was added but never started."""


class MemberList(EtcdModel):
    """The reply of ``GET /v2/members``."""

    members: list[Member] = Field(default_factory=list)


class Health(EtcdModel):
    """The reply of ``GET /health``; ``bool(health)`` says whether the member is healthy."""

    health: bool
    """Whether the member has a leader and can serve (etcd sends ``"true"``/``"false"``)."""
    reason: str = ""
    """Why not (etcd 3.5 only), e.g. ``RAFT NO LEADER``."""

    def __bool__(self) -> bool:
        return self.health
