"""The reply to a keys request: what happened, to which node, and at which index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal

from pydantic import Field

from ._base import EtcdModel
from .node import EtcdNode

Action = Literal[
    "get", "set", "create", "update", "compareAndSwap", "delete", "compareAndDelete", "expire"
]


class EtcdResult(EtcdModel):
    """What etcd answered to a read, write, delete or watch.

    The node's attributes are available on the result itself (``result.value``,
    ``result.modifiedIndex``, ...), as older clients offered them. ``value`` and ``ttl`` may
    be reassigned before passing the result to :meth:`aio_etcd.Client.update`.
    """

    action: Action | None = None
    """What etcd did: ``get``, ``set``, ``create``, ``update``, ``compareAndSwap``, ``delete``,
    ``compareAndDelete``, or ``expire`` (only ever seen by watches). etcd always sends it;
    ``None`` only in results built by hand, as older clients allowed."""
    node: EtcdNode
    """The node after the operation (for deletes: the deleted node, without its value)."""
    prev_node: EtcdNode | None = Field(None, alias="prevNode")
    """The node before the operation, when one was replaced, changed or deleted."""
    etcd_index: int | None = None
    """``X-Etcd-Index``: the store's index after the operation (for watches: when the watch
    began)."""
    raft_index: int | None = None
    """``X-Raft-Index``: the raft log's committed index."""
    raft_term: int | None = None
    """``X-Raft-Term``: the raft term of the member that answered."""
    cluster_id: str | None = None
    """``X-Etcd-Cluster-Id``: the id of the cluster that answered (hex)."""
    new_key: bool = False
    """Whether the operation created the key (etcd answered 201 Created)."""
    snapshot: bool = False
    """Set on the re-read a resyncing watch yields after falling out of etcd's history:
    the whole state of the watched key or tree (action ``get``). When nothing is stored
    there, its node has no value, no children and index 0."""

    @property
    def key(self) -> str:
        return self.node.key

    @property
    def value(self) -> str | None:
        return self.node.value

    @value.setter
    def value(self, value: str | float | None) -> None:
        self.node.value = None if value is None else str(value)

    @property
    def ttl(self) -> int | None:
        return self.node.ttl

    @ttl.setter
    def ttl(self, ttl: int | None) -> None:
        self.node.ttl = ttl

    @property
    def dir(self) -> bool:
        return self.node.dir

    @property
    def expiration(self) -> datetime | None:
        return self.node.expiration

    @property
    def modified_index(self) -> int:
        return self.node.modified_index

    @property
    def created_index(self) -> int:
        return self.node.created_index

    @property
    def modifiedIndex(self) -> int:
        return self.node.modified_index

    @property
    def createdIndex(self) -> int:
        return self.node.created_index

    @property
    def newKey(self) -> bool:
        return self.new_key

    @property
    def _prev_node(self) -> EtcdNode | None:
        return self.prev_node

    def get_subtree(self, leaves_only: bool = False) -> Iterator[EtcdNode]:
        """Walk the node and everything below it; see :meth:`EtcdNode.get_subtree`."""
        return self.node.get_subtree(leaves_only)

    @property
    def leaves(self) -> Iterator[EtcdNode]:
        """The nodes at the bottom of the tree; see :attr:`EtcdNode.leaves`."""
        return self.node.leaves

    @property
    def children(self) -> Iterator[EtcdNode]:
        """Same as :attr:`leaves`, the name older code uses."""
        return self.node.leaves
