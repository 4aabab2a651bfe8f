"""Auth administration: the ``Auth`` service (``/v3/auth/*``) but ``authenticate``.

The calls of Go's ``clientv3.Auth`` (etcd-io/etcd ``client/v3/auth.go``): turning auth on and
off, users, roles and their key permissions. The token of the client itself is handled by
``_auth.TokenManager`` in the gateway. Passwords never appear in a repr, a message or a log.
"""

from __future__ import annotations

from .._exceptions import EtcdAPIUnavailable, EtcdValueError
from .._types import NOT_GIVEN, Timeout
from ..models.v3._base import V3Model, V3Request
from ..models.v3.auth import (
    AuthDisableRequest,
    AuthDisableResponse,
    AuthEnableRequest,
    AuthEnableResponse,
    AuthRoleAddRequest,
    AuthRoleAddResponse,
    AuthRoleDeleteRequest,
    AuthRoleDeleteResponse,
    AuthRoleGetRequest,
    AuthRoleGetResponse,
    AuthRoleGrantPermissionRequest,
    AuthRoleGrantPermissionResponse,
    AuthRoleListRequest,
    AuthRoleListResponse,
    AuthRoleRevokePermissionRequest,
    AuthRoleRevokePermissionResponse,
    AuthStatusRequest,
    AuthStatusResponse,
    AuthUserAddRequest,
    AuthUserAddResponse,
    AuthUserChangePasswordRequest,
    AuthUserChangePasswordResponse,
    AuthUserDeleteRequest,
    AuthUserDeleteResponse,
    AuthUserGetRequest,
    AuthUserGetResponse,
    AuthUserGrantRoleRequest,
    AuthUserGrantRoleResponse,
    AuthUserListRequest,
    AuthUserListResponse,
    AuthUserRevokeRoleRequest,
    AuthUserRevokeRoleResponse,
    Permission,
    PermType,
    UserAddOptions,
)
from . import _args as check
from ._args import KeyLike
from ._gateway import Gateway, Part, R

PERM_TYPES: tuple[PermType, ...] = ("READ", "WRITE", "READWRITE")


class Auth(Part):
    """``client.auth``: auth on and off, users, roles, and what roles may do.

    With auth on, every call needs a user (``Etcd3Client(username=, password=)``); these
    calls need one with the role ``root``, except :meth:`status`. A user who lacks a right
    gets :class:`~aio_etcd.EtcdInsufficientPermissions` (HTTP 403).
    """

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def enable(self, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Turn auth on. Needs a user ``root`` with the role ``root``
        (``user_add("root", ...)``, ``user_grant_role("root", "root")``); from then on
        every call needs credentials, and anonymous ones fail.

        Raises:
            EtcdRootUserMissing: there is no user ``root``, or it lacks the role ``root``.
        """
        await self._write("enable", AuthEnableRequest(), AuthEnableResponse, timeout)

    async def disable(self, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Turn auth off (as ``root``); users and roles are kept."""
        await self._write("disable", AuthDisableRequest(), AuthDisableResponse, timeout)

    async def status(self, *, timeout: Timeout = NOT_GIVEN) -> AuthStatusResponse:
        """Whether auth is on (``enabled``), and the auth store's revision (etcd >= 3.5).

        Raises:
            EtcdAPIUnavailable: etcd 3.4 has no ``/v3/auth/status``.
        """
        try:
            return await self._read("status", AuthStatusRequest(), AuthStatusResponse, timeout)
        except EtcdAPIUnavailable as error:
            raise EtcdAPIUnavailable(
                f"auth status needs etcd >= 3.5 ({error})", error.payload, status=error.status
            ) from error

    # -- users ----------------------------------------------------------------------------

    async def user_add(
        self,
        name: str,
        password: str | None = None,
        *,
        no_password: bool = False,
        timeout: Timeout = NOT_GIVEN,
    ) -> None:
        """Add user ``name`` with ``password``, or with ``no_password=True`` a user who can
        only be identified by a TLS client certificate whose CommonName is ``name``
        (etcd >= 3.4; the gateway refuses such certificates, so not through this client).

        Raises:
            EtcdAlreadyExist: the user exists.
        """
        user = _name(name, "name")
        if check.flag(no_password, "no_password"):
            if password is not None:
                raise EtcdValueError("give either a password or no_password=True, not both")
            request = AuthUserAddRequest(name=user, options=UserAddOptions(no_password=True))
        else:
            request = AuthUserAddRequest(name=user, password=_password(password))
        await self._write("user/add", request, AuthUserAddResponse, timeout)

    async def user_get(self, name: str, *, timeout: Timeout = NOT_GIVEN) -> list[str]:
        """The roles of user ``name``, sorted.

        Raises:
            EtcdUserNotFound: there is no such user.
        """
        request = AuthUserGetRequest(name=_name(name, "name"))
        reply = await self._read("user/get", request, AuthUserGetResponse, timeout)
        return reply.roles

    async def user_list(self, *, timeout: Timeout = NOT_GIVEN) -> list[str]:
        """Every user's name, sorted."""
        reply = await self._read("user/list", AuthUserListRequest(), AuthUserListResponse, timeout)
        return reply.users

    async def user_delete(self, name: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Delete user ``name``.

        Raises:
            EtcdUserNotFound: there is no such user.
            EtcdValueError: it is ``root`` and auth is on (``invalid auth management``).
        """
        request = AuthUserDeleteRequest(name=_name(name, "name"))
        await self._write("user/delete", request, AuthUserDeleteResponse, timeout)

    async def user_change_password(
        self, name: str, password: str, *, timeout: Timeout = NOT_GIVEN
    ) -> None:
        """Give user ``name`` a new password; tokens handed out before stay valid.

        Raises:
            EtcdUserNotFound: there is no such user.
        """
        request = AuthUserChangePasswordRequest(
            name=_name(name, "name"), password=_password(password)
        )
        await self._write("user/changepw", request, AuthUserChangePasswordResponse, timeout)

    async def user_grant_role(self, user: str, role: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Give ``role`` to ``user``; ``root`` is a role that needs no creating.

        Raises:
            EtcdUserNotFound: there is no such user.
            EtcdRoleNotFound: there is no such role.
        """
        request = AuthUserGrantRoleRequest(user=_name(user, "user"), role=_name(role, "role"))
        await self._write("user/grant", request, AuthUserGrantRoleResponse, timeout)

    async def user_revoke_role(self, user: str, role: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Take ``role`` from ``user``; the user's tokens lose its rights at once.

        Raises:
            EtcdUserNotFound: there is no such user.
            EtcdKeyNotFound: the user does not have the role.
        """
        request = AuthUserRevokeRoleRequest(name=_name(user, "user"), role=_name(role, "role"))
        await self._write("user/revoke", request, AuthUserRevokeRoleResponse, timeout)

    # -- roles ----------------------------------------------------------------------------

    async def role_add(self, name: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Add role ``name``, with no permissions.

        Raises:
            EtcdAlreadyExist: the role exists.
        """
        request = AuthRoleAddRequest(name=_name(name, "name"))
        await self._write("role/add", request, AuthRoleAddResponse, timeout)

    async def role_get(self, name: str, *, timeout: Timeout = NOT_GIVEN) -> list[Permission]:
        """The permissions of role ``name``, sorted by key.

        Raises:
            EtcdRoleNotFound: there is no such role (nor for ``root``, which etcd does not
                store as a role).
        """
        request = AuthRoleGetRequest(role=_name(name, "name"))
        reply = await self._read("role/get", request, AuthRoleGetResponse, timeout)
        return reply.perm

    async def role_list(self, *, timeout: Timeout = NOT_GIVEN) -> list[str]:
        """Every role's name, sorted (``root`` is not among them)."""
        reply = await self._read("role/list", AuthRoleListRequest(), AuthRoleListResponse, timeout)
        return reply.roles

    async def role_delete(self, name: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Delete role ``name``; users who had it lose its rights at once.

        Raises:
            EtcdRoleNotFound: there is no such role.
        """
        request = AuthRoleDeleteRequest(role=_name(name, "name"))
        await self._write("role/delete", request, AuthRoleDeleteResponse, timeout)

    async def role_grant_permission(
        self,
        name: str,
        key: KeyLike,
        range_end: KeyLike | None = None,
        *,
        perm_type: PermType,
        prefix: bool = False,
        from_key: bool = False,
        timeout: Timeout = NOT_GIVEN,
    ) -> None:
        """Let role ``name`` read, write or both (``perm_type``) the key ``key``, or a
        range of keys: ``[key, range_end)``, every key starting with ``key``
        (``prefix=True``), or every key from ``key`` on (``from_key=True``; ``key=b"\\0"``
        with it means all keys). As ``etcdctl role grant-permission``.

        A grant over exactly the same keys replaces the earlier one; the rights of
        overlapping grants add up.

        Raises:
            EtcdRoleNotFound: there is no such role.
        """
        if perm_type not in PERM_TYPES:
            raise EtcdValueError(f"perm_type must be one of {PERM_TYPES}, not {perm_type!r}")
        start, end = _keys(key, range_end, prefix, from_key)
        request = AuthRoleGrantPermissionRequest(
            name=_name(name, "name"),
            perm=Permission(perm_type=perm_type, key=start, range_end=end),
        )
        await self._write("role/grant", request, AuthRoleGrantPermissionResponse, timeout)

    async def role_revoke_permission(
        self,
        name: str,
        key: KeyLike,
        range_end: KeyLike | None = None,
        *,
        prefix: bool = False,
        from_key: bool = False,
        timeout: Timeout = NOT_GIVEN,
    ) -> None:
        """Take back the permission of role ``name`` over exactly these keys (as
        :meth:`role_grant_permission` named them).

        Raises:
            EtcdRoleNotFound: there is no such role.
            EtcdKeyNotFound: the role has no permission over exactly these keys.
        """
        start, end = _keys(key, range_end, prefix, from_key)
        request = AuthRoleRevokePermissionRequest(
            role=_name(name, "name"), key=start, range_end=end
        )
        await self._write("role/revoke", request, AuthRoleRevokePermissionResponse, timeout)

    # -- one path for every call -------------------------------------------------------------

    async def _read(self, path: str, request: V3Request, reply: type[R], timeout: Timeout) -> R:
        return await self._gateway.call(
            "auth/" + path, request, reply, timeout=self._seconds(timeout), repeatable=True
        )

    async def _write(
        self, path: str, request: V3Request, reply: type[V3Model], timeout: Timeout
    ) -> None:
        await self._gateway.call(
            "auth/" + path, request, reply, timeout=self._seconds(timeout), repeatable=False
        )


def _name(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not value:
        raise EtcdValueError(f"{name} must not be empty")
    return value


def _password(value: object) -> str:
    # The value itself is never quoted: it is a password.
    if value is None:
        raise EtcdValueError("a password is required (or no_password=True)")
    if not isinstance(value, str):
        raise TypeError(f"password must be a str, not {type(value).__name__}")
    if not value:
        raise EtcdValueError("password must not be empty")
    return value


def _keys(key: object, range_end: object, prefix: object, from_key: object) -> tuple[bytes, bytes]:
    start = check.to_bytes(key, "key")
    ways = [
        name
        for name, given in (
            ("range_end", range_end is not None),
            ("prefix", check.flag(prefix, "prefix")),
            ("from_key", check.flag(from_key, "from_key")),
        )
        if given
    ]
    if len(ways) > 1:
        raise EtcdValueError(f"give at most one of range_end, prefix, from_key, not {ways}")
    if not start:
        raise EtcdValueError("key must not be empty (every key: key=b'\\0', from_key=True)")
    if range_end is not None:
        return start, check.to_bytes(range_end, "range_end")
    if ways == ["prefix"]:
        return start, check.prefix_end(start)
    if ways == ["from_key"]:
        return start, b"\0"
    return start, b""
