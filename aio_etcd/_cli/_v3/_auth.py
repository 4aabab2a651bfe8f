"""``user``, ``role`` and ``auth enable/disable``, as etcdctl 3.5's
(``ctlv3/command/{user,role,auth}_command.go``)."""

from __future__ import annotations

import getpass
import sys
from typing import Protocol, runtime_checkable

from ..._exceptions import EtcdAPIUnavailable, EtcdRootUserMissing
from ...models.v3 import (
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
    ResponseHeader,
    UserAddOptions,
    V3Model,
    V3Request,
)
from .._errors import CliError
from ._admin import R, call, go_bool
from ._command import Check, Context, Flag, Registry, Run, Usage
from ._errors import EXIT_BAD_ARGS, EXIT_ERROR
from ._printer import go_json, go_quote

PERM_TYPES: tuple[PermType, ...] = ("READ", "WRITE", "READWRITE")
INTERACTIVE = Flag(
    "interactive", "bool", True, "Read password from stdin instead of interactive terminal"
)


Spec = tuple[str, Run, str, str, Check, tuple[Flag, ...]]
"""A command of a group: its word, what it runs, usage, help, argument check and flags."""


def register(commands: Registry) -> None:
    commands.group("user", "User related commands")
    user: tuple[Spec, ...] = (
        (
            "add",
            user_add,
            "<user name or user:password> [options]",
            "Adds a new user",
            _args(1, "user add command requires user name as its argument"),
            (
                INTERACTIVE,
                Flag(
                    "new-user-password", "string", "", "Supply password from the command line flag"
                ),
                Flag(
                    "no-password",
                    "bool",
                    False,
                    "Create a user without password (CN based auth only)",
                ),
            ),
        ),
        (
            "delete",
            user_delete,
            "<user name>",
            "Deletes a user",
            _args(1, "user delete command requires user name as its argument"),
            (),
        ),
        (
            "get",
            user_get,
            "<user name> [options]",
            "Gets detailed information of a user",
            _args(1, "user get command requires user name as its argument"),
            (Flag("detail", "bool", False, "Show permissions of roles granted to the user"),),
        ),
        (
            "list",
            user_list,
            "",
            "Lists all users",
            _args(0, "user list command requires no arguments"),
            (),
        ),
        (
            "passwd",
            user_passwd,
            "<user name> [options]",
            "Changes password of user",
            _args(1, "user passwd command requires user name as its argument"),
            (
                Flag(
                    "interactive",
                    "bool",
                    True,
                    "If true, read password from stdin instead of interactive terminal",
                ),
            ),
        ),
        (
            "grant-role",
            user_grant_role,
            "<user name> <role name>",
            "Grants a role to a user",
            _args(2, "user grant command requires user name and role name as its argument"),
            (),
        ),
        (
            "revoke-role",
            user_revoke_role,
            "<user name> <role name>",
            "Revokes a role from a user",
            _args(2, "user revoke-role requires user name and role name as its argument"),
            (),
        ),
    )
    for name, run, usage, help, check, flags in user:
        commands.add(f"user {name}", run, usage=usage, help=help, check=check, flags=flags)
    commands.group("role", "Role related commands")
    range_flags = (
        Flag(
            "from-key",
            "bool",
            False,
            "grant a permission of keys that are greater than or "
            "equal to the given key using byte compare",
        ),
        Flag("prefix", "bool", False, "grant a prefix permission"),
    )
    role: tuple[Spec, ...] = (
        (
            "add",
            role_add,
            "<role name>",
            "Adds a new role",
            _args(1, "role add command requires role name as its argument"),
            (),
        ),
        (
            "delete",
            role_delete,
            "<role name>",
            "Deletes a role",
            _args(1, "role delete command requires role name as its argument"),
            (),
        ),
        (
            "get",
            role_get,
            "<role name>",
            "Gets detailed information of a role",
            _args(1, "role get command requires role name as its argument"),
            (),
        ),
        (
            "list",
            role_list,
            "",
            "Lists all roles",
            _args(0, "role list command requires no arguments"),
            (),
        ),
        (
            "grant-permission",
            role_grant,
            "[options] <role name> <permission type> <key> [endkey]",
            "Grants a key to a role",
            _grant_args,
            range_flags,
        ),
        (
            "revoke-permission",
            role_revoke,
            "<role name> <key> [endkey]",
            "Revokes a key from a role",
            _revoke_args,
            range_flags,
        ),
    )
    for name, run, usage, help, check, flags in role:
        commands.add(f"role {name}", run, usage=usage, help=help, check=check, flags=flags)
    commands.group("auth", "Enable or disable authentication")
    for name, run, help in (
        ("enable", auth_enable, "Enables authentication"),
        ("disable", auth_disable, "Disables authentication"),
        ("status", auth_status, "Returns authentication status"),
    ):
        commands.add(
            f"auth {name}",
            run,
            usage="",
            help=help,
            check=_args(0, f"auth {name} command does not accept any arguments"),
        )


def _args(count: int, message: str) -> Check:
    def check(args: list[str], flags: dict[str, object]) -> None:
        if len(args) != count:
            raise Usage(message)

    return check


async def _write(ctx: Context, path: str, request: V3Request, reply: type[R]) -> R:
    return await call(ctx, f"auth/{path}", request, reply, repeatable=False)


async def _read(ctx: Context, path: str, request: V3Request, reply: type[R]) -> R:
    return await call(ctx, f"auth/{path}", request, reply, repeatable=True)


def _done(ctx: Context, reply: V3Model, message: str) -> None:
    """``message`` in the simple format; the header alone in fields; the reply in JSON."""
    header = reply.header if isinstance(reply, _HasHeader) else ResponseHeader()
    ctx.printer.show(
        reply,
        simple=lambda: ctx.printer.line(message),
        fields=lambda: ctx.printer.header_fields(header),
        json=lambda: ctx.printer.line(go_json(reply)),
    )


@runtime_checkable
class _HasHeader(Protocol):
    header: ResponseHeader


def _password(ctx: Context, user: str, prompt: str) -> str:
    """A password from the terminal (typed twice), or the first word of stdin with
    ``--interactive=false``, as etcdctl reads it."""
    if not ctx.on("interactive"):
        words = sys.stdin.readline().split() if sys.stdin is not None else []
        return words[0] if words else ""
    if sys.stdin is None or not sys.stdin.isatty():
        raise CliError(
            "no terminal to ask for the password: give it as user:password, with "
            "--new-user-password, or on stdin with --interactive=false",
            EXIT_BAD_ARGS,
        )
    first = getpass.getpass(f"{prompt} of {user}: ")
    again = getpass.getpass(f"Type {prompt.lower()} of {user} again for confirmation: ")
    if first != again:
        raise CliError("given passwords are different", EXIT_BAD_ARGS)
    return first


# -- users --------------------------------------------------------------------------------


async def user_add(ctx: Context) -> int:
    if ctx.on("no-password"):
        user = ctx.args[0]
        request = AuthUserAddRequest(name=user, options=UserAddOptions(no_password=True))
    else:
        user, colon, password = ctx.args[0].partition(":")
        if colon and not user:
            raise Usage("empty user name is not allowed")
        if not colon:
            user = ctx.args[0]
            password = ctx.text("new-user-password") or _password(ctx, user, "Password")
        request = AuthUserAddRequest(name=user, password=password)
    reply = await _write(ctx, "user/add", request, AuthUserAddResponse)
    _done(ctx, reply, f"User {user} created")
    return 0


async def user_delete(ctx: Context) -> int:
    user = ctx.args[0]
    reply = await _write(
        ctx, "user/delete", AuthUserDeleteRequest(name=user), AuthUserDeleteResponse
    )
    _done(ctx, reply, f"User {user} deleted")
    return 0


async def user_get(ctx: Context) -> int:
    user = ctx.args[0]
    reply = await _read(ctx, "user/get", AuthUserGetRequest(name=user), AuthUserGetResponse)
    printer = ctx.printer
    if ctx.on("detail"):
        printer.line(f"User: {user}")
        for role in reply.roles:
            printer.line()
            perms = await _read(ctx, "role/get", AuthRoleGetRequest(role=role), AuthRoleGetResponse)
            _show_role(ctx, role, perms)
        return 0
    printer.show(
        reply,
        simple=lambda: printer.line(
            f"User: {user}\nRoles:" + "".join(f" {r}" for r in reply.roles)
        ),
        json=lambda: printer.line(go_json(reply)),
    )
    return 0


async def user_list(ctx: Context) -> int:
    reply = await _read(ctx, "user/list", AuthUserListRequest(), AuthUserListResponse)

    def simple() -> None:
        for user in reply.users:
            ctx.printer.line(user)

    ctx.printer.show(
        reply,
        simple=simple,
        json=lambda: ctx.printer.line(go_json(reply)),
    )
    return 0


async def user_passwd(ctx: Context) -> int:
    user = ctx.args[0]
    password = _password(ctx, user, "Password")
    request = AuthUserChangePasswordRequest(name=user, password=password)
    reply = await _write(ctx, "user/changepw", request, AuthUserChangePasswordResponse)
    _done(ctx, reply, "Password updated")
    return 0


async def user_grant_role(ctx: Context) -> int:
    user, role = ctx.args
    request = AuthUserGrantRoleRequest(user=user, role=role)
    reply = await _write(ctx, "user/grant", request, AuthUserGrantRoleResponse)
    _done(ctx, reply, f"Role {role} is granted to user {user}")
    return 0


async def user_revoke_role(ctx: Context) -> int:
    user, role = ctx.args
    request = AuthUserRevokeRoleRequest(name=user, role=role)
    reply = await _write(ctx, "user/revoke", request, AuthUserRevokeRoleResponse)
    _done(ctx, reply, f"Role {role} is revoked from user {user}")
    return 0


# -- roles --------------------------------------------------------------------------------


async def role_add(ctx: Context) -> int:
    role = ctx.args[0]
    reply = await _write(ctx, "role/add", AuthRoleAddRequest(name=role), AuthRoleAddResponse)
    _done(ctx, reply, f"Role {role} created")
    return 0


async def role_delete(ctx: Context) -> int:
    role = ctx.args[0]
    reply = await _write(
        ctx, "role/delete", AuthRoleDeleteRequest(role=role), AuthRoleDeleteResponse
    )
    _done(ctx, reply, f"Role {role} deleted")
    return 0


def prefix_end(key: bytes) -> bytes:
    """clientv3's ``GetPrefixRangeEnd``: the last byte below 0xff plus one, the rest cut;
    ``\\x00`` (every key on) when there is none."""
    for index in range(len(key) - 1, -1, -1):
        if key[index] < 0xFF:
            return key[:index] + bytes([key[index] + 1])
    return b"\x00"


def _show_role(ctx: Context, role: str, reply: AuthRoleGetResponse) -> None:
    printer = ctx.printer

    def described(perm: Permission) -> bytes:
        if not perm.range_end:
            return b"\t" + perm.key
        if perm.range_end != b"\x00":
            line = b"\t[" + perm.key + b", " + perm.range_end + b")"
        else:
            line = b"\t[" + perm.key + b", <open ended>"
        if prefix_end(perm.key) == perm.range_end:
            line += b" (prefix " + perm.key + b")"
        return line

    def simple() -> None:
        printer.line(f"Role {role}")
        printer.line("KV Read:")
        for perm in reply.perm:
            if perm.perm_type in ("READ", "READWRITE"):
                printer.line(described(perm))
        printer.line("KV Write:")
        for perm in reply.perm:
            if perm.perm_type in ("WRITE", "READWRITE"):
                printer.line(described(perm))

    def fields() -> None:
        printer.header_fields(reply.header)
        for perm in reply.perm:
            printer.line(f'"PermType" :  {perm.perm_type}')
            printer.line(f'"Key" : {go_quote(perm.key)}')
            printer.line(f'"RangeEnd" : {go_quote(perm.range_end)}')

    printer.show(reply, simple=simple, fields=fields, json=lambda: printer.line(go_json(reply)))


async def role_get(ctx: Context) -> int:
    role = ctx.args[0]
    reply = await _read(ctx, "role/get", AuthRoleGetRequest(role=role), AuthRoleGetResponse)
    _show_role(ctx, role, reply)
    return 0


async def role_list(ctx: Context) -> int:
    reply = await _read(ctx, "role/list", AuthRoleListRequest(), AuthRoleListResponse)
    printer = ctx.printer

    def simple() -> None:
        for role in reply.roles:
            printer.line(role)

    def fields() -> None:
        printer.header_fields(reply.header)
        printer.line('"Roles" :' + "".join(f' "{role}"' for role in reply.roles))

    printer.show(reply, simple=simple, fields=fields, json=lambda: printer.line(go_json(reply)))
    return 0


def _grant_args(args: list[str], flags: dict[str, object]) -> None:
    if len(args) < 3:
        raise Usage(
            "role grant command requires role name, permission type, and key [endkey] "
            "as its argument"
        )
    if args[1].upper() not in PERM_TYPES:
        raise Usage(f"invalid permission type: {args[1]}")
    permission_range(args[2:], flags)


def _revoke_args(args: list[str], flags: dict[str, object]) -> None:
    if len(args) < 2:
        raise Usage(
            "role revoke-permission command requires role name and key [endkey] as its argument"
        )
    permission_range(args[1:], flags)


def permission_range(args: list[str], flags: dict[str, object]) -> tuple[bytes, bytes]:
    """The key and range end that ``<key> [endkey]`` with ``--prefix``/``--from-key`` name,
    as etcdctl's ``permRange``."""
    prefix, from_key = bool(flags["prefix"]), bool(flags["from-key"])
    key = args[0].encode()
    if not key:
        if prefix and from_key:
            raise Usage("--from-key and --prefix flags are mutually exclusive")
        # An empty key means every key: etcd stores it as ["\x00", "\x00").
        return b"\x00", (b"\x00" if prefix or from_key else b"")
    if len(args) == 1:
        if prefix:
            if from_key:
                raise Usage("--from-key and --prefix flags are mutually exclusive")
            return key, prefix_end(key)
        return key, (b"\x00" if from_key else b"")
    if prefix:
        raise Usage("unexpected endkey argument with --prefix flag")
    if from_key:
        raise Usage("unexpected endkey argument with --from-key flag")
    return key, args[1].encode()


async def role_grant(ctx: Context) -> int:
    role = ctx.args[0]
    kind = PERM_TYPES[PERM_TYPES.index(ctx.args[1].upper())]  # checked before any I/O
    key, end = permission_range(ctx.args[2:], ctx.flags)
    request = AuthRoleGrantPermissionRequest(
        name=role, perm=Permission(perm_type=kind, key=key, range_end=end)
    )
    reply = await _write(ctx, "role/grant", request, AuthRoleGrantPermissionResponse)
    _done(ctx, reply, f"Role {role} updated")
    return 0


async def role_revoke(ctx: Context) -> int:
    role = ctx.args[0]
    key, end = permission_range(ctx.args[1:], ctx.flags)
    request = AuthRoleRevokePermissionRequest(role=role, key=key, range_end=end)
    reply = await _write(ctx, "role/revoke", request, AuthRoleRevokePermissionResponse)
    shown = ctx.args[1]  # as given: "" for every key, not the "\x00" sent
    if not end:
        message = f"Permission of key {shown} is revoked from role {role}"
    elif end != b"\x00":
        message = (
            f"Permission of range [{shown}, {end.decode(errors='replace')}) is revoked "
            f"from role {role}"
        )
    else:
        message = f"Permission of range [{shown}, <open ended> is revoked from role {role}"
    _done(ctx, reply, message)
    return 0


# -- auth ---------------------------------------------------------------------------------


async def auth_enable(ctx: Context) -> int:
    # As etcdctl: a root user without the role root gets it (and the role is made) first.
    while True:
        try:
            await _write(ctx, "enable", AuthEnableRequest(), AuthEnableResponse)
            break
        except EtcdRootUserMissing as exc:
            if "root role" not in getattr(exc.payload, "message", ""):
                raise
            await _write(ctx, "role/add", AuthRoleAddRequest(name="root"), AuthRoleAddResponse)
            grant = AuthUserGrantRoleRequest(user="root", role="root")
            await _write(ctx, "user/grant", grant, AuthUserGrantRoleResponse)
    ctx.printer.line("Authentication Enabled")
    return 0


async def auth_disable(ctx: Context) -> int:
    await _write(ctx, "disable", AuthDisableRequest(), AuthDisableResponse)
    ctx.printer.line("Authentication Disabled")
    return 0


async def auth_status(ctx: Context) -> int:
    try:
        reply = await ctx.client.auth.status()
    except EtcdAPIUnavailable:
        # etcd 3.4 has no AuthStatus (etcdctl 3.5 gets gRPC's "Unimplemented", exit 1).
        raise CliError(
            "auth status needs etcd 3.5 or later: the server has no /v3/auth/status "
            "(etcd 3.4 has none)",
            EXIT_ERROR,
        ) from None
    ctx.printer.show(
        reply,
        simple=lambda: ctx.printer.line(
            f"Authentication Status: {go_bool(reply.enabled)}\nAuthRevision: {reply.auth_revision}"
        ),
    )
    return 0
