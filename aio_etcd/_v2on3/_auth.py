"""v2's users and roles (``aio_etcd.auth``) on etcd's v3 auth API.

- Users and their roles map one to one (``auth/user/*``). v2's ``root`` user was root by
  name; v3 enables auth only when the user ``root`` has the role ``root``, so creating the
  user ``root`` grants it that role too.
- A v2 key pattern is a v3 permission: ``/app/x`` the one key, ``/app/*`` every key starting
  with ``/app/`` (its prefix range), ``*`` every key. Read and write on one pattern are one
  ``READWRITE`` permission. A v3 range that is neither (e.g. "from a key on") is shown as
  ``[key, end)``, which cannot be written back.
- v2's ``guest`` role (what requests without credentials may do) does not exist in v3: once
  auth is on, such requests are refused. Calls on ``guest`` raise
  :class:`~aio_etcd.EtcdAPIUnavailable`.

As etcd's ``server/auth/store.go`` behaves in 3.4 and 3.5.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from .._backend import AuthReply
from .._exceptions import EtcdAPIUnavailable, EtcdInsufficientPermissions
from .._requests import AuthRequest, AuthSwitch, RoleCall, UserCall
from .._v3._args import prefix_end
from .._v3._gateway import Gateway
from ..models import AuthStatus, KvPermissions, Permissions, Role, RoleList, User, UserList
from ..models.v3 import auth as v3
from ..models.v3._base import V3Model, V3Request

R = TypeVar("R", bound=V3Model)

NO_USER = "user name is empty"
"""What etcd answers a request without a token once auth is on."""
_ROOT = "root"
_GUEST = "guest"
_TYPES = {"R": "READ", "W": "WRITE", "RW": "READWRITE"}
_LETTERS = {"READ": "R", "WRITE": "W", "READWRITE": "RW"}


class AuthAdmin:
    """Runs the auth requests of the documented API on one endpoint."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def run(self, endpoint: str, request: AuthRequest, timeout: float | None) -> AuthReply:
        if isinstance(request, AuthSwitch):
            return await self._switch(endpoint, request, timeout)
        if isinstance(request, UserCall):
            return await self._user(endpoint, request, timeout)
        return await self._role(endpoint, request, timeout)

    async def _call(
        self, endpoint: str, path: str, request: V3Request, reply: type[R], timeout: float | None
    ) -> R:
        return await self._gateway.call_on(endpoint, path, request, reply, timeout=timeout)

    async def _switch(
        self, endpoint: str, request: AuthSwitch, timeout: float | None
    ) -> AuthStatus | None:
        if request.enable is None:
            try:
                status = await self._gateway.call_on(
                    endpoint,
                    "auth/status",
                    v3.AuthStatusRequest(),
                    v3.AuthStatusResponse,
                    timeout=timeout,
                )
            except EtcdInsufficientPermissions as error:
                # etcd asks who is asking (anyone may) only when auth is on.
                if NO_USER in (error.message or ""):
                    return AuthStatus(enabled=True)
                raise
            except EtcdAPIUnavailable:
                return AuthStatus(enabled=await self._enabled(endpoint, timeout))
            return AuthStatus(enabled=status.enabled)
        if request.enable:
            await self._call(
                endpoint, "auth/enable", v3.AuthEnableRequest(), v3.AuthEnableResponse, timeout
            )
        else:
            await self._call(
                endpoint, "auth/disable", v3.AuthDisableRequest(), v3.AuthDisableResponse, timeout
            )
        return None

    async def _enabled(self, endpoint: str, timeout: float | None) -> bool:
        """Whether auth is on, from a server without ``auth/status`` (etcd 3.4): listing the
        users is refused without a token, or to a non-root user, only when it is on; and
        the client holds a token only when it is on."""
        try:
            await self._call(
                endpoint,
                "auth/user/list",
                v3.AuthUserListRequest(),
                v3.AuthUserListResponse,
                timeout,
            )
        except EtcdInsufficientPermissions:
            return True
        return self._gateway.tokens.token is not None

    async def _user(self, endpoint: str, call: UserCall, timeout: float | None) -> AuthReply:
        name = call.name
        if call.op == "list":
            users = await self._gateway.call_on(
                endpoint,
                "auth/user/list",
                v3.AuthUserListRequest(),
                v3.AuthUserListResponse,
                timeout=timeout,
            )
            return UserList(users=[User(user=user) for user in users.users])
        if call.op == "get":
            found = await self._gateway.call_on(
                endpoint,
                "auth/user/get",
                v3.AuthUserGetRequest(name=name),
                v3.AuthUserGetResponse,
                timeout=timeout,
            )
            return User(user=name, roles=found.roles)
        if call.op == "delete":
            await self._call(
                endpoint,
                "auth/user/delete",
                v3.AuthUserDeleteRequest(name=name),
                v3.AuthUserDeleteResponse,
                timeout,
            )
        elif call.op == "create":
            await self._call(
                endpoint,
                "auth/user/add",
                v3.AuthUserAddRequest(name=name, password=call.password or ""),
                v3.AuthUserAddResponse,
                timeout,
            )
            roles = set(call.roles) | ({_ROOT} if name == _ROOT else set())
            await self._grant_roles(endpoint, name, roles, timeout)
        elif call.op == "password":
            await self._call(
                endpoint,
                "auth/user/changepw",
                v3.AuthUserChangePasswordRequest(name=name, password=call.password or ""),
                v3.AuthUserChangePasswordResponse,
                timeout,
            )
        elif call.op == "grant":
            await self._grant_roles(endpoint, name, call.roles, timeout)
        else:
            for role in call.roles:
                await self._call(
                    endpoint,
                    "auth/user/revoke",
                    v3.AuthUserRevokeRoleRequest(name=name, role=role),
                    v3.AuthUserRevokeRoleResponse,
                    timeout,
                )
        return None

    async def _grant_roles(
        self, endpoint: str, user: str, roles: Iterable[str], timeout: float | None
    ) -> None:
        for role in sorted(roles):
            _no_guest(role)
            await self._call(
                endpoint,
                "auth/user/grant",
                v3.AuthUserGrantRoleRequest(user=user, role=role),
                v3.AuthUserGrantRoleResponse,
                timeout,
            )

    async def _role(self, endpoint: str, call: RoleCall, timeout: float | None) -> AuthReply:
        if call.op == "list":
            roles = await self._gateway.call_on(
                endpoint,
                "auth/role/list",
                v3.AuthRoleListRequest(),
                v3.AuthRoleListResponse,
                timeout=timeout,
            )
            return RoleList(roles=[Role(role=role) for role in roles.roles])
        _no_guest(call.name)
        if call.op == "delete":
            await self._call(
                endpoint,
                "auth/role/delete",
                v3.AuthRoleDeleteRequest(role=call.name),
                v3.AuthRoleDeleteResponse,
                timeout,
            )
            return None
        if call.op == "create":
            await self._call(
                endpoint,
                "auth/role/add",
                v3.AuthRoleAddRequest(name=call.name),
                v3.AuthRoleAddResponse,
                timeout,
            )
            current: dict[str, str] = {}
        else:
            current = await self._patterns(endpoint, call.name, timeout)
            if call.op == "get":
                return _role(call.name, current)
        wanted = dict(current)
        for letter, patterns in (("R", call.read), ("W", call.write)):
            for pattern in patterns:
                had = wanted.get(pattern, "")
                if call.op == "revoke":
                    wanted[pattern] = had.replace(letter, "")
                elif letter not in had:
                    wanted[pattern] = "RW" if had else letter
        for pattern, letters in sorted(wanted.items()):
            if letters == current.get(pattern, ""):
                continue
            key, end = _range(pattern)
            if letters:
                # A grant on a key and range that has a permission replaces its type.
                perm = v3.Permission(perm_type=_TYPES[letters], key=key, range_end=end)  # type: ignore[arg-type]
                await self._call(
                    endpoint,
                    "auth/role/grant",
                    v3.AuthRoleGrantPermissionRequest(name=call.name, perm=perm),
                    v3.AuthRoleGrantPermissionResponse,
                    timeout,
                )
            else:
                await self._call(
                    endpoint,
                    "auth/role/revoke",
                    v3.AuthRoleRevokePermissionRequest(role=call.name, key=key, range_end=end),
                    v3.AuthRoleRevokePermissionResponse,
                    timeout,
                )
        return None

    async def _patterns(self, endpoint: str, role: str, timeout: float | None) -> dict[str, str]:
        """``{v2 pattern: "R" | "W" | "RW"}`` of a role."""
        found = await self._gateway.call_on(
            endpoint,
            "auth/role/get",
            v3.AuthRoleGetRequest(role=role),
            v3.AuthRoleGetResponse,
            timeout=timeout,
        )
        return {_pattern(p.key, p.range_end): _LETTERS[p.perm_type] for p in found.perm}


def _no_guest(role: str) -> None:
    if role == _GUEST:
        raise EtcdAPIUnavailable(
            "etcd's v3 API has no guest role: with api='v3', requests without credentials "
            "are refused once auth is on, and nothing grants them rights"
        )


def _range(pattern: str) -> tuple[bytes, bytes]:
    """The v3 key range of a v2 key pattern."""
    if pattern == "*":
        return b"\x00", b"\x00"  # every key
    if pattern.endswith("*"):
        prefix = pattern[:-1].encode()
        return prefix, prefix_end(prefix)
    return pattern.encode(), b""


def _pattern(key: bytes, end: bytes) -> str:
    """The v2 key pattern of a v3 key range (``[key, end)`` when there is none)."""
    if key == b"\x00" and end == b"\x00":
        return "*"
    text = key.decode("utf-8", "replace")
    if not end:
        return text
    if end == prefix_end(key):
        return text + "*"
    return f"[{text}, {end.decode('utf-8', 'replace')})"


def _role(name: str, patterns: dict[str, str]) -> Role:
    read = sorted(p for p, letters in patterns.items() if "R" in letters)
    write = sorted(p for p, letters in patterns.items() if "W" in letters)
    return Role(role=name, permissions=Permissions(kv=KvPermissions(read=read, write=write)))
