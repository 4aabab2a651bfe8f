"""The v2 auth admin API, with the names older code uses::

    from aio_etcd.auth import Auth, EtcdRole, EtcdUser

    root = EtcdUser(client, "root")
    root.password = "secret"                 # write-only
    await root.write()
    reader = EtcdRole(client, "reader")
    reader.grant("/app/*", "R")
    await reader.write()
    await Auth(client).set_active(True)      # needs the root user; see the warning below

Enabling auth creates a ``guest`` role with read and write access to every key, used by all
requests without credentials: revoke its rights (``EtcdRole(client, "guest")``) before
relying on auth. Each authenticated request costs the server a bcrypt password check,
about 70 ms on etcd 3.4/3.5; anonymous (guest) requests take well under 1 ms.

All calls but :meth:`Auth.get_active` need root's credentials on the client.

On a ``Client(api="v3")`` the same calls manage etcd's v3 users and roles: the user ``root``
is given the role ``root`` (v3 enables auth only then); a pattern is a v3 key range
(``/app/*`` the prefix ``/app/``, ``*`` every key); there is no ``guest`` role (calls on it
raise :class:`~aio_etcd.EtcdAPIUnavailable`): once auth is on, requests without credentials
are refused. The password is checked once, for a token, not on every request.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Literal

from ._backend import AuthReply
from ._client import Client
from ._exceptions import EtcdKeyNotFound, EtcdValueError
from ._requests import AuthSwitch, RoleCall, UserCall
from .models import AuthStatus, Role, RoleList, User, UserList

_UserOp = Literal["list", "get", "create", "password", "grant", "revoke", "delete"]
_RoleOp = Literal["list", "get", "create", "grant", "revoke", "delete"]

__all__ = ["Auth", "EtcdRole", "EtcdUser"]

_PERMISSIONS = {"R", "W", "RW", "WR"}


class Auth:
    """Whether the server checks credentials."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def get_active(self) -> bool:
        status = await self.client._auth(AuthSwitch())
        return isinstance(status, AuthStatus) and status.enabled

    async def set_active(self, value: bool) -> None:
        """Turn auth on (it needs a ``root`` user) or off; nothing when already so."""
        if value != await self.get_active():
            await self.client._auth(AuthSwitch(enable=bool(value)))


class _Entity:
    def __init__(self, client: Client, name: str) -> None:
        given: object = name
        if not isinstance(given, str):
            raise TypeError(f"name must be a str, not {type(given).__name__}")
        if not given or "/" in given:
            raise EtcdValueError(f"name must be a name without '/', not {given!r}")
        self.client = client
        self.name = name


class EtcdUser(_Entity):
    """A user: set :attr:`roles` and :attr:`password`, then :meth:`write`."""

    def __init__(self, client: Client, name: str) -> None:
        super().__init__(client, name)
        self._roles: set[str] = set()
        self._password: str | None = None

    @property
    def roles(self) -> set[str]:
        return self._roles

    @roles.setter
    def roles(self, roles: set[str] | list[str]) -> None:
        self._roles = set(roles)

    @property
    def password(self) -> None:
        """Write-only: reads ``None``; the password is sent by :meth:`write`, then forgotten."""
        return None

    @password.setter
    def password(self, password: str) -> None:
        if not password:
            raise EtcdValueError("password must be a non-empty str")
        self._password = password

    async def delete(self) -> None:
        """Raises EtcdKeyNotFound when there is none."""
        await self._call("delete")

    async def get_names(self) -> list[str]:
        found = await self.client._auth(UserCall(op="list"))
        return [user.user for user in found.users] if isinstance(found, UserList) else []

    async def read(self) -> None:
        """Load the user's roles. Raises EtcdKeyNotFound when there is no such user."""
        found = await self._call("get")
        self._roles = set(found.roles) if isinstance(found, User) else set()

    async def write(self) -> None:
        """Create the user, or bring its password and roles to what this object says."""
        password, self._password = self._password, None  # never kept once sent
        try:
            current = await self._call("get")
        except EtcdKeyNotFound:
            current = None
        if not isinstance(current, User):
            if password is None:
                raise EtcdValueError(f"user {self.name!r} is new: set its password first")
            await self._call("create", password=password, roles=sorted(self._roles))
            return
        if password is not None:
            await self._call("password", password=password)
        grant, revoke = self._roles - set(current.roles), set(current.roles) - self._roles
        if grant:
            await self._call("grant", roles=sorted(grant))
        if revoke:
            await self._call("revoke", roles=sorted(revoke))

    async def _call(
        self, op: _UserOp, *, password: str | None = None, roles: Sequence[str] = ()
    ) -> AuthReply:
        request = UserCall(op=op, name=self.name, password=password, roles=tuple(roles))
        return await self.client._auth(request)

    def __repr__(self) -> str:
        return f"<EtcdUser {self.name!r} roles={sorted(self._roles)}>"


class EtcdRole(_Entity):
    """A role: :meth:`grant` and :meth:`revoke` key patterns, then :meth:`write`."""

    def __init__(self, client: Client, name: str) -> None:
        super().__init__(client, name)
        self._read: set[str] = set()
        self._write: set[str] = set()

    def grant(self, path: str, permission: str) -> None:
        """Allow reading (``'R'``), writing (``'W'``) or both (``'RW'``) of ``path``: a key,
        a prefix ending in ``*`` (``/app/*``), or ``*`` for every key."""
        self._check(path, permission)
        if "R" in permission:
            self._read.add(path)
        if "W" in permission:
            self._write.add(path)

    def revoke(self, path: str, permission: str) -> None:
        self._check(path, permission)
        if "R" in permission:
            self._read.discard(path)
        if "W" in permission:
            self._write.discard(path)

    @property
    def acls(self) -> dict[str, str]:
        """``{path: 'R' | 'W' | 'RW'}``."""
        paths = sorted(self._read | self._write)
        return {
            p: ("R" if p in self._read else "") + ("W" if p in self._write else "") for p in paths
        }

    @acls.setter
    def acls(self, acls: dict[str, str]) -> None:
        self._read, self._write = set(), set()
        for path, permission in acls.items():
            self.grant(path, permission)

    async def delete(self) -> None:
        """Raises EtcdKeyNotFound when there is none."""
        await self._call("delete")

    async def get_names(self) -> list[str]:
        found = await self.client._auth(RoleCall(op="list"))
        return [role.role for role in found.roles] if isinstance(found, RoleList) else []

    async def read(self) -> None:
        """Load the role's permissions. Raises EtcdKeyNotFound when there is no such role."""
        found = await self._call("get")
        kv = found.permissions.kv if isinstance(found, Role) else None
        self._read = set(kv.read) if kv else set()
        self._write = set(kv.write) if kv else set()

    async def write(self) -> None:
        """Create the role, or bring its permissions to what this object says."""
        try:
            current = await self._call("get")
        except EtcdKeyNotFound:
            current = None
        if not isinstance(current, Role):
            await self._call("create", read=self._read, write=self._write)
            return
        now = current.permissions.kv
        revoke = (set(now.read) - self._read, set(now.write) - self._write)
        grant = (self._read - set(now.read), self._write - set(now.write))
        if any(revoke):
            await self._call("revoke", read=revoke[0], write=revoke[1])
        if any(grant):
            await self._call("grant", read=grant[0], write=grant[1])

    async def _call(
        self, op: _RoleOp, *, read: Set[str] = frozenset(), write: Set[str] = frozenset()
    ) -> AuthReply:
        request = RoleCall(
            op=op, name=self.name, read=tuple(sorted(read)), write=tuple(sorted(write))
        )
        return await self.client._auth(request)

    @staticmethod
    def _check(path: str, permission: str) -> None:
        # etcd matches "*" against every key (v2auth's simpleMatch), as "/*" is matched.
        if not path.startswith("/") and path != "*":
            raise EtcdValueError(
                f"path must be a key pattern starting with '/', or '*', not {path!r}"
            )
        if permission not in _PERMISSIONS:
            raise EtcdValueError(f"permission must be 'R', 'W' or 'RW', not {permission!r}")

    def __repr__(self) -> str:
        return f"<EtcdRole {self.name!r} acls={self.acls}>"
