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
"""

from __future__ import annotations

from typing import ClassVar

from ._client import Client
from ._exceptions import EtcdKeyNotFound, EtcdValueError
from .models import AuthStatus, Role, RoleList, User, UserList

__all__ = ["Auth", "EtcdRole", "EtcdUser"]

_PERMISSIONS = {"R", "W", "RW", "WR"}


class Auth:
    """Whether the server checks credentials."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def get_active(self) -> bool:
        status = await self.client._auth("GET", "enable", None, AuthStatus)
        return bool(status and status.enabled)

    async def set_active(self, value: bool) -> None:
        """Turn auth on (it needs a ``root`` user) or off; nothing when already so."""
        if value != await self.get_active():
            await self.client._auth("PUT" if value else "DELETE", "enable", None, AuthStatus)


class _Entity:
    kind: ClassVar[str]
    model: ClassVar[type[User] | type[Role]]

    def __init__(self, client: Client, name: str) -> None:
        given: object = name
        if not isinstance(given, str):
            raise TypeError(f"name must be a str, not {type(given).__name__}")
        if not given or "/" in given:
            raise EtcdValueError(f"name must be a name without '/', not {given!r}")
        self.client = client
        self.name = name

    @property
    def _path(self) -> str:
        return f"{self.kind}s/{self.name}"

    async def delete(self) -> None:
        """Raises EtcdKeyNotFound when there is none."""
        await self.client._auth("DELETE", self._path, None, self.model)

    async def _put(self, **document: object) -> None:
        await self.client._auth("PUT", self._path, {self.kind: self.name, **document}, self.model)


class EtcdUser(_Entity):
    """A user: set :attr:`roles` and :attr:`password`, then :meth:`write`."""

    kind = "user"
    model = User

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

    async def get_names(self) -> list[str]:
        found = await self.client._auth("GET", "users", None, UserList)
        return [user.user for user in found.users] if found else []

    async def read(self) -> None:
        """Load the user's roles. Raises EtcdKeyNotFound when there is no such user."""
        found = await self.client._auth("GET", self._path, None, User)
        self._roles = set(found.roles) if found else set()

    async def write(self) -> None:
        """Create the user, or bring its password and roles to what this object says."""
        password, self._password = self._password, None  # never kept once sent
        try:
            current = await self.client._auth("GET", self._path, None, User)
        except EtcdKeyNotFound:
            current = None
        if current is None:
            if password is None:
                raise EtcdValueError(f"user {self.name!r} is new: set its password first")
            await self._put(password=password, roles=sorted(self._roles))
            return
        if password is not None:
            await self.client._auth(
                "PUT", self._path, {"user": self.name, "password": password}, User
            )
        grant, revoke = self._roles - set(current.roles), set(current.roles) - self._roles
        if grant:
            await self.client._auth(
                "PUT", self._path, {"user": self.name, "grant": sorted(grant)}, User
            )
        if revoke:
            await self.client._auth(
                "PUT", self._path, {"user": self.name, "revoke": sorted(revoke)}, User
            )

    def __repr__(self) -> str:
        return f"<EtcdUser {self.name!r} roles={sorted(self._roles)}>"


class EtcdRole(_Entity):
    """A role: :meth:`grant` and :meth:`revoke` key patterns, then :meth:`write`."""

    kind = "role"
    model = Role

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

    async def get_names(self) -> list[str]:
        found = await self.client._auth("GET", "roles", None, RoleList)
        return [role.role for role in found.roles] if found else []

    async def read(self) -> None:
        """Load the role's permissions. Raises EtcdKeyNotFound when there is no such role."""
        found = await self.client._auth("GET", self._path, None, Role)
        kv = found.permissions.kv if found else None
        self._read = set(kv.read) if kv else set()
        self._write = set(kv.write) if kv else set()

    async def write(self) -> None:
        """Create the role, or bring its permissions to what this object says."""
        try:
            current = await self.client._auth("GET", self._path, None, Role)
        except EtcdKeyNotFound:
            current = None
        if current is None:
            kv = {"read": sorted(self._read), "write": sorted(self._write)}
            await self._put(permissions={"kv": kv})
            return
        now = current.permissions.kv
        revoke = {
            "read": sorted(set(now.read) - self._read),
            "write": sorted(set(now.write) - self._write),
        }
        grant = {
            "read": sorted(self._read - set(now.read)),
            "write": sorted(self._write - set(now.write)),
        }
        if revoke["read"] or revoke["write"]:
            await self.client._auth(
                "PUT", self._path, {"role": self.name, "revoke": {"kv": revoke}}, Role
            )
        if grant["read"] or grant["write"]:
            await self.client._auth(
                "PUT", self._path, {"role": self.name, "grant": {"kv": grant}}, Role
            )

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
