"""Validated models of what etcd sends."""

from ._base import EtcdModel
from .auth import AuthStatus, KvPermissions, Permissions, Role, RoleList, User, UserList
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
    "AuthStatus",
    "Counts",
    "ErrorPayload",
    "EtcdModel",
    "EtcdNode",
    "EtcdResult",
    "FollowerStats",
    "Health",
    "KvPermissions",
    "Latency",
    "LeaderInfo",
    "LeaderStats",
    "Member",
    "MemberList",
    "Permissions",
    "Role",
    "RoleList",
    "SelfStats",
    "StoreStats",
    "User",
    "UserList",
    "VersionInfo",
]
