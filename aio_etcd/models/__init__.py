"""Validated models of what etcd sends."""

from ._base import EtcdModel
from .cluster import Member, VersionInfo
from .error import ErrorPayload
from .node import EtcdNode
from .result import Action, EtcdResult

__all__ = ["Action", "ErrorPayload", "EtcdModel", "EtcdNode", "EtcdResult", "Member", "VersionInfo"]
