"""The v2 auth API's users and roles (``/v2/auth/*``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from ._base import EtcdModel


class KvPermissions(EtcdModel):
    read: list[str] = Field(default_factory=list)
    """Key patterns the role may read; a trailing ``*`` matches a prefix."""
    write: list[str] = Field(default_factory=list)
    """Key patterns the role may write."""

    @field_validator("read", "write", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class Permissions(EtcdModel):
    kv: KvPermissions = Field(default_factory=KvPermissions)


class Role(EtcdModel):
    """A role: which keys its users may read and write."""

    role: str
    permissions: Permissions = Field(default_factory=Permissions)


class User(EtcdModel):
    """A user and the names of its roles."""

    user: str
    roles: list[str] = Field(default_factory=list)

    @field_validator("roles", mode="before")
    @classmethod
    def _role_names(cls, value: Any) -> Any:
        # A read lists role objects; a write echoes role names.
        if value is None:
            return []
        return [item["role"] if isinstance(item, dict) else item for item in value]


class UserList(EtcdModel):
    users: list[User] = Field(default_factory=list)

    @field_validator("users", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class RoleList(EtcdModel):
    roles: list[Role] = Field(default_factory=list)

    @field_validator("roles", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


class AuthStatus(EtcdModel):
    enabled: bool
