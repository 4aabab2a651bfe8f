"""Auth messages of the v3 API (``etcdserverpb`` ``Auth`` service)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ._base import B64Bytes, ResponseHeader, UInt64, V3Model, V3Request


class AuthenticateRequest(V3Request):
    """``POST /v3/auth/authenticate``: a user's name and password, for a token."""

    name: str = ""
    password: str = Field("", repr=False)
    """Never shown in a repr, a log line or an error message."""


class AuthenticateResponse(V3Model):
    """The token to send as ``Authorization: <token>`` (no scheme) with every request."""

    header: ResponseHeader = ResponseHeader()
    token: str = ""


# -- the admin API: auth on/off, users, roles ---------------------------------------------

PermType = Literal["READ", "WRITE", "READWRITE"]
"""What a permission allows on its keys (``authpb.Permission.Type``)."""


class AuthEnableRequest(V3Request):
    """``POST /v3/auth/enable``: needs a user ``root`` that has the role ``root``."""


class AuthEnableResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthDisableRequest(V3Request):
    """``POST /v3/auth/disable`` (as ``root``)."""


class AuthDisableResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthStatusRequest(V3Request):
    """``POST /v3/auth/status``."""


class AuthStatusResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    enabled: bool = False
    """Whether auth is on (etcd leaves the field out when it is off)."""
    auth_revision: UInt64 = Field(0, alias="authRevision")
    """Counts the changes made to users, roles and permissions."""


class UserAddOptions(V3Request):
    """``authpb.UserAddOptions``."""

    no_password: bool = False
    """The user has no password and can only authenticate with a TLS client certificate
    whose CommonName is the user name (etcd >= 3.4; not through the gateway)."""


class AuthUserAddRequest(V3Request):
    """``POST /v3/auth/user/add``."""

    name: str = ""
    password: str = Field("", repr=False)
    """Never shown in a repr, a log line or an error message."""
    options: UserAddOptions | None = None


class AuthUserAddResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthUserGetRequest(V3Request):
    """``POST /v3/auth/user/get``."""

    name: str = ""


class AuthUserGetResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    roles: list[str] = Field(default_factory=list)
    """The roles granted to the user, sorted by name."""


class AuthUserDeleteRequest(V3Request):
    """``POST /v3/auth/user/delete``."""

    name: str = ""


class AuthUserDeleteResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthUserChangePasswordRequest(V3Request):
    """``POST /v3/auth/user/changepw``."""

    name: str = ""
    password: str = Field("", repr=False)
    """Never shown in a repr, a log line or an error message."""


class AuthUserChangePasswordResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthUserGrantRoleRequest(V3Request):
    """``POST /v3/auth/user/grant``."""

    user: str = ""
    role: str = ""


class AuthUserGrantRoleResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthUserRevokeRoleRequest(V3Request):
    """``POST /v3/auth/user/revoke``."""

    name: str = ""
    role: str = ""


class AuthUserRevokeRoleResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthUserListRequest(V3Request):
    """``POST /v3/auth/user/list``."""


class AuthUserListResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    users: list[str] = Field(default_factory=list)
    """Every user's name, sorted."""


class AuthRoleAddRequest(V3Request):
    """``POST /v3/auth/role/add``."""

    name: str = ""


class AuthRoleAddResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class Permission(V3Model):
    """A permission of a role (``authpb.Permission``) over one key or a range of keys.

    ``range_end`` empty: the one key ``key``; the prefix end of ``key``: every key starting
    with ``key``; ``b"\\0"``: every key from ``key`` on; otherwise the keys in
    ``[key, range_end)``. ``key`` and ``range_end`` both ``b"\\0"`` cover every key.
    """

    perm_type: PermType = Field("READ", alias="permType")
    """``READ``, ``WRITE`` or ``READWRITE`` (etcd leaves it out for ``READ``)."""
    key: B64Bytes = b""
    range_end: B64Bytes = b""


class AuthRoleGetRequest(V3Request):
    """``POST /v3/auth/role/get``."""

    role: str = ""


class AuthRoleGetResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    perm: list[Permission] = Field(default_factory=list)
    """The role's permissions, sorted by key."""


class AuthRoleListRequest(V3Request):
    """``POST /v3/auth/role/list``."""


class AuthRoleListResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
    roles: list[str] = Field(default_factory=list)
    """Every role's name, sorted. etcd's built-in ``root`` role is not stored as a role:
    it is not listed and cannot be read, only granted."""


class AuthRoleDeleteRequest(V3Request):
    """``POST /v3/auth/role/delete``."""

    role: str = ""


class AuthRoleDeleteResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthRoleGrantPermissionRequest(V3Request):
    """``POST /v3/auth/role/grant``."""

    name: str = ""
    perm: Permission = Permission()


class AuthRoleGrantPermissionResponse(V3Model):
    header: ResponseHeader = ResponseHeader()


class AuthRoleRevokePermissionRequest(V3Request):
    """``POST /v3/auth/role/revoke``."""

    role: str = ""
    key: B64Bytes = b""
    range_end: B64Bytes = b""


class AuthRoleRevokePermissionResponse(V3Model):
    header: ResponseHeader = ResponseHeader()
