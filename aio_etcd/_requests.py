"""The typed requests every documented call is turned into.

They hold validated values and say nothing about the wire: a backend (``_v2``, or
``_v2on3`` for the v3 API) turns them into requests. Build them through the
:class:`~aio_etcd.Client` methods, which check the arguments first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteRequest:
    """Set, create, update or compare-and-swap a key, or append an in-order key."""

    key: str
    value: str | None = None
    ttl: int | None = None
    dir: bool = False
    append: bool = False
    prev_value: str | None = None
    prev_index: int | None = None
    prev_exist: bool | None = None
    refresh: bool = False
    timeout: float | None = None

    @property
    def idempotent(self) -> bool:
        """Whether applying it twice leaves the store as applying it once: an unconditional
        set of a value, or a refresh (which keeps the value; its conditions hold again).
        Not a create, an append, a directory, a compare, nor a refresh on ``prevIndex``
        (a refresh moves the index)."""
        if self.append or self.dir or self.prev_index is not None:
            return False
        if self.refresh:
            return self.prev_exist is not False
        return self.prev_value is None and self.prev_exist is None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadRequest:
    """Read a key or directory, or wait for its next change."""

    key: str
    recursive: bool = False
    sorted: bool = False
    quorum: bool = False
    wait: bool = False
    wait_index: int | None = None
    timeout: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteRequest:
    """Delete a key or directory, optionally only if it still holds a value or index."""

    key: str
    recursive: bool = False
    dir: bool = False
    prev_value: str | None = None
    prev_index: int | None = None
    timeout: float | None = None


KeysRequest: TypeAlias = "WriteRequest | ReadRequest | DeleteRequest"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSwitch:
    """Ask whether auth is on (``enable=None``), or turn it on or off."""

    enable: bool | None = None

    @property
    def reads(self) -> bool:
        return self.enable is None


@dataclass(frozen=True, slots=True, kw_only=True)
class UserCall:
    """One change or read of the users: ``list`` (every user), ``get``, ``create`` (with
    ``password`` and ``roles``), ``password``, ``grant`` and ``revoke`` (``roles``),
    ``delete``."""

    op: Literal["list", "get", "create", "password", "grant", "revoke", "delete"]
    name: str = ""
    password: str | None = field(default=None, repr=False)
    roles: tuple[str, ...] = ()

    @property
    def reads(self) -> bool:
        return self.op in ("list", "get")


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleCall:
    """One change or read of the roles: ``list``, ``get``, ``create`` (with its
    permissions), ``grant`` and ``revoke`` (of the key patterns in ``read`` and
    ``write``: a key, a prefix ending in ``*``, or ``*``), ``delete``."""

    op: Literal["list", "get", "create", "grant", "revoke", "delete"]
    name: str = ""
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()

    @property
    def reads(self) -> bool:
        return self.op in ("list", "get")


AuthRequest: TypeAlias = "AuthSwitch | UserCall | RoleCall"
"""A call of the auth admin API (``aio_etcd.auth``)."""
