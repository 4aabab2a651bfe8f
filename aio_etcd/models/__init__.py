"""Validated models of what etcd sends."""

from ._base import EtcdModel
from .cluster import Health, Member, MemberList, VersionInfo
from .error import ErrorPayload
from .node import EtcdNode
from .result import Action, EtcdResult
from .stats import (
    Counts,
    FollowerStats,
    Latency,
    LeaderInfo,
    LeaderStats,
    SelfStats,
    StoreStats,
)

__all__ = [
    "Action",
    "Counts",
    "ErrorPayload",
    "EtcdModel",
    "EtcdNode",
    "EtcdResult",
    "FollowerStats",
    "Health",
    "Latency",
    "LeaderInfo",
    "LeaderStats",
    "Member",
    "MemberList",
    "SelfStats",
    "StoreStats",
    "VersionInfo",
]
