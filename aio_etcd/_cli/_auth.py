"""user, role and auth: the v2 auth admin API, as etcdctl v2 drives it."""

from __future__ import annotations

import posixpath
import sys

from .._exceptions import EtcdKeyNotFound
from ..auth import Auth, EtcdRole, EtcdUser
from ._command import Context, Parser, Registry
from ._errors import EXIT_SUCCESS, CliError
from ._settings import secret


def register(commands: Registry) -> None:
    user = commands.group("user", help="user add, get, list, remove, grant, revoke and passwd")
    add = user.add(
        "add",
        _user_add,
        help="add a new user for the etcd cluster",
        description="Add a user. The password is asked for on the terminal, or read from the "
        "first line of standard input when that is not a terminal (USER:PASSWORD also works, "
        "but shows the password to other local users).",
        style="admin",
    )
    add.add_argument("user", metavar="USER[:PASSWORD]")
    user.add("get", _user_get, help="get details for a user", style="admin").add_argument("user")
    user.add("list", _user_list, help="list all current users", style="admin")
    remove = user.add("remove", _user_remove, help="remove a user", style="admin")
    remove.add_argument("user")
    for name, run, text in (
        ("grant", _user_grant, "grant roles to an etcd user"),
        ("revoke", _user_revoke, "revoke roles for an etcd user"),
    ):
        parser = user.add(name, run, help=text, style="admin")
        parser.add_argument("user")
        parser.add_argument(
            "--roles",
            action="append",
            default=[],
            metavar="ROLE[,ROLE...]",
            help="the roles (repeat the flag or separate them with commas)",
        )
    passwd = user.add(
        "passwd",
        _user_passwd,
        help="change password for a user",
        description="Change a user's password, asked for on the terminal (or read from the "
        "first line of standard input when that is not a terminal).",
        style="admin",
    )
    passwd.add_argument("user")

    role = commands.group("role", help="role add, get, list, remove, grant and revoke")
    role.add("add", _role_add, help="add a new role", style="admin").add_argument("role")
    role.add("get", _role_get, help="get details for a role", style="admin").add_argument("role")
    role.add("list", _role_list, help="list all roles", style="admin")
    role.add("remove", _role_remove, help="remove a role", style="admin").add_argument("role")
    for name, run, text in (
        ("grant", _role_grant, "grant path matches to an etcd role"),
        ("revoke", _role_revoke, "revoke path matches for an etcd role"),
    ):
        parser = role.add(name, run, help=text, style="admin")
        parser.add_argument("role")
        _permission_flags(parser, name)

    auth = commands.group("auth", help="overall auth controls")
    auth.add("enable", _auth_enable, help="enable auth access controls", style="admin")
    auth.add("disable", _auth_disable, help="disable auth access controls", style="admin")


def _permission_flags(parser: Parser, verb: str) -> None:
    parser.add_argument(
        "--path", default="", help=f"the key pattern to {verb} (a trailing * matches a prefix)"
    )
    parser.add_argument("--read", action="store_true", help=f"{verb} read access")
    parser.add_argument("--write", action="store_true", help=f"{verb} write access")
    parser.add_argument(
        "--readwrite", "--rw", action="store_true", help=f"{verb} read and write access"
    )


def new_password() -> str:
    """A new password: from the terminal (not echoed), else standard input's first line."""
    if sys.stdin is not None and not sys.stdin.closed and not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = secret("New password: ", hint="pipe the password to standard input")
    if not password:
        raise CliError("Error reading password: no password given", prefixed=False)
    return password


# -- users --------------------------------------------------------------------------------


async def _user_add(ctx: Context) -> int:
    name, colon, password = ctx.args.user.partition(":")
    user = EtcdUser(ctx.client, name)
    try:
        await user.read()
    except EtcdKeyNotFound:
        pass
    else:
        # etcd would take this as a password change; etcdctl's role add refuses likewise.
        raise CliError(f"User {name} already exists", prefixed=False)
    user.password = password if colon and password else new_password()
    await user.write()
    ctx.out.line(f"User {name} created")
    return EXIT_SUCCESS


async def _user_get(ctx: Context) -> int:
    user = EtcdUser(ctx.client, ctx.args.user)
    await user.read()
    roles = sorted(user.roles)
    if ctx.out.format == "json":
        ctx.out.json({"user": user.name, "roles": roles})
    else:
        ctx.out.line(f"User: {user.name}")
        ctx.out.line(f"Roles: {' '.join(roles)}")
    return EXIT_SUCCESS


async def _user_list(ctx: Context) -> int:
    names = await EtcdUser(ctx.client, "-").get_names()
    _names(ctx, "users", names)
    return EXIT_SUCCESS


async def _user_remove(ctx: Context) -> int:
    await EtcdUser(ctx.client, ctx.args.user).delete()
    ctx.out.line(f"User {ctx.args.user} removed")
    return EXIT_SUCCESS


async def _user_grant(ctx: Context) -> int:
    return await _user_roles(ctx, grant=True)


async def _user_revoke(ctx: Context) -> int:
    return await _user_roles(ctx, grant=False)


async def _user_roles(ctx: Context, *, grant: bool) -> int:
    roles = {role for flag in ctx.args.roles for role in flag.split(",") if role}
    if not roles:
        raise CliError("No roles specified; please use `--roles`", prefixed=False)
    user = EtcdUser(ctx.client, ctx.args.user)
    await user.read()
    user.roles = user.roles | roles if grant else user.roles - roles
    await user.write()
    ctx.out.line(f"User {user.name} updated")
    return EXIT_SUCCESS


async def _user_passwd(ctx: Context) -> int:
    user = EtcdUser(ctx.client, ctx.args.user)
    await user.read()  # a missing user must not be created with this password
    user.password = new_password()
    await user.write()
    ctx.out.line("Password updated")
    return EXIT_SUCCESS


# -- roles --------------------------------------------------------------------------------


async def _role_add(ctx: Context) -> int:
    role = EtcdRole(ctx.client, ctx.args.role)
    try:
        await role.read()
    except EtcdKeyNotFound:
        pass
    else:
        raise CliError(f"Role {role.name} already exists", prefixed=False)
    await role.write()
    ctx.out.line(f"Role {role.name} created")
    return EXIT_SUCCESS


async def _role_get(ctx: Context) -> int:
    role = EtcdRole(ctx.client, ctx.args.role)
    await role.read()
    acls = role.acls
    reads = [path for path, permission in acls.items() if "R" in permission]
    writes = [path for path, permission in acls.items() if "W" in permission]
    if ctx.out.format == "json":
        kv = {"read": reads, "write": writes}
        ctx.out.json({"role": role.name, "permissions": {"kv": kv}})
        return EXIT_SUCCESS
    ctx.out.line(f"Role: {role.name}")
    ctx.out.line("KV Read:")
    for path in reads:
        ctx.out.line(f"\t{path}")
    ctx.out.line("KV Write:")
    for path in writes:
        ctx.out.line(f"\t{path}")
    return EXIT_SUCCESS


async def _role_list(ctx: Context) -> int:
    _names(ctx, "roles", await EtcdRole(ctx.client, "-").get_names())
    return EXIT_SUCCESS


async def _role_remove(ctx: Context) -> int:
    await EtcdRole(ctx.client, ctx.args.role).delete()
    ctx.out.line(f"Role {ctx.args.role} removed")
    return EXIT_SUCCESS


async def _role_grant(ctx: Context) -> int:
    return await _role_permissions(ctx, grant=True)


async def _role_revoke(ctx: Context) -> int:
    return await _role_permissions(ctx, grant=False)


async def _role_permissions(ctx: Context, *, grant: bool) -> int:
    args = ctx.args
    path: str = args.path
    if not path:
        raise CliError("No path specified; please use `--path`", prefixed=False)
    if canonical(path) != path:
        raise CliError(f"Not canonical path; please use `--path={canonical(path)}`", prefixed=False)
    chosen = [flag for flag in ("read", "write", "readwrite") if getattr(args, flag)]
    if len(chosen) != 1:
        raise CliError(
            "Please specify exactly one of --read, --write or --readwrite", prefixed=False
        )
    permission = {"read": "R", "write": "W", "readwrite": "RW"}[chosen[0]]
    role = EtcdRole(ctx.client, args.role)
    await role.read()
    before = role.acls
    if grant:
        role.grant(path, permission)
    else:
        role.revoke(path, permission)
    if role.acls == before:
        ctx.out.line(f"Role unchanged; already {'granted' if grant else 'revoked'}")
    else:
        await role.write()
    ctx.out.line(f"Role {role.name} updated")
    return EXIT_SUCCESS


def canonical(path: str) -> str:
    """The path as etcd compares permissions: rooted, cleaned, a trailing ``/`` kept."""
    rooted = path if path.startswith("/") else "/" + path
    clean = "/" + posixpath.normpath(rooted).lstrip("/")
    if rooted.endswith("/") and clean != "/":
        clean += "/"
    return clean


def _names(ctx: Context, kind: str, names: list[str]) -> None:
    if ctx.out.format == "json":
        ctx.out.json({kind: names})
        return
    for name in names:
        ctx.out.line(name)


# -- auth ---------------------------------------------------------------------------------


async def _auth_enable(ctx: Context) -> int:
    await Auth(ctx.client).set_active(True)
    ctx.out.line("Authentication Enabled")
    return EXIT_SUCCESS


async def _auth_disable(ctx: Context) -> int:
    await Auth(ctx.client).set_active(False)
    ctx.out.line("Authentication Disabled")
    return EXIT_SUCCESS
