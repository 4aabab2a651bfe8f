"""A node of the v2 key tree: a file (a key with a value) or a directory."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from pydantic import Field

from ._base import EtcdModel


class EtcdNode(EtcdModel):
    """One key or directory as etcd reports it."""

    key: str = "/"
    """The full path, always starting with ``/``; etcd omits it for the root, read as ``/``."""
    value: str | None = None
    """The value of a file; ``None`` for directories and for the node of delete/expire events."""
    dir: bool = False
    """Whether this node is a directory."""
    ttl: int | None = None
    """Whole seconds left to live (rounded up), or ``None`` for a permanent key."""
    expiration: datetime | None = None
    """When the key expires (UTC), or ``None`` for a permanent key."""
    modified_index: int = Field(0, alias="modifiedIndex")
    """The etcd index of the last change. ``0`` only for the root, which has no index."""
    created_index: int = Field(0, alias="createdIndex")
    """The etcd index at which this node was created. ``0`` only for the root."""
    nodes: list[EtcdNode] | None = None
    """A directory's children (only direct ones unless read with ``recursive=True``)."""

    # The spellings older code uses.
    @property
    def modifiedIndex(self) -> int:
        return self.modified_index

    @property
    def createdIndex(self) -> int:
        return self.created_index

    def get_subtree(self, leaves_only: bool = False) -> Iterator[EtcdNode]:
        """Walk this node and everything below it, depth first.

        With ``leaves_only`` only the nodes without children are yielded.
        """
        if not self.nodes:
            yield self
            return
        if not leaves_only:
            yield self
        for child in self.nodes:
            yield from child.get_subtree(leaves_only)

    @property
    def leaves(self) -> Iterator[EtcdNode]:
        """The nodes without children below this one, depth first, as python-etcd yields
        them: files, empty directories, and directories read without their contents (a
        listing that is not recursive shows child directories that way).

        A file is its own only leaf. This node itself, when it is a directory without
        children, yields nothing (python-etcd yielded the directory itself).
        """
        if self.dir and not self.nodes:
            return iter(())
        return self.get_subtree(leaves_only=True)

    @property
    def children(self) -> Iterator[EtcdNode]:
        """Same as :attr:`leaves`, the name older code uses."""
        return self.leaves
