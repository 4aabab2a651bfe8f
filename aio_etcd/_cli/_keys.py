"""The keys commands: get, set, mk, mkdir, setdir, update, updatedir, rm, rmdir, ls."""

from __future__ import annotations

import argparse
import sys

from ._command import Context, Parser, Registry
from ._errors import EXIT_BAD_ARGS, EXIT_SUCCESS, CliError
from ._output import print_listing, print_result


def register(commands: Registry) -> None:
    get = commands.add("get", _get, help="retrieve the value of a key")
    get.add_argument("key")
    get.add_argument("--sort", action="store_true", help="return directories sorted by key")
    _quorum(get)

    set_ = commands.add(
        "set",
        _set,
        help="set the value of a key",
        description="Set the value of a key (read from standard input when not given). "
        "For a value starting with '-', write: set -- KEY VALUE",
    )
    _key_value(set_)
    _ttl(set_)
    set_.add_argument(
        "--swap-with-value", default="", metavar="VALUE", help="only if the value is this"
    )
    set_.add_argument(
        "--swap-with-index", type=int, default=0, metavar="INDEX", help="only at this index"
    )

    mk = commands.add("mk", _mk, help="make a new key with a given value")
    _key_value(mk)
    mk.add_argument(
        "--in-order", action="store_true", help="create an in-order key under directory KEY"
    )
    _ttl(mk)

    mkdir = commands.add("mkdir", _mkdir, help="make a new directory")
    mkdir.add_argument("key")
    _ttl(mkdir)

    setdir = commands.add(
        "setdir", _setdir, help="create a new directory or update an existing directory TTL"
    )
    setdir.add_argument("key")
    _ttl(setdir)

    update = commands.add("update", _update, help="update an existing key with a given value")
    _key_value(update)
    _ttl(update)

    updatedir = commands.add("updatedir", _updatedir, help="update an existing directory")
    updatedir.add_argument("key")
    _ttl(updatedir)

    rm = commands.add("rm", _rm, help="remove a key or a directory")
    rm.add_argument("key")
    rm.add_argument(
        "--dir", action="store_true", help="remove the key if it is an empty directory or a key"
    )
    rm.add_argument(
        "--recursive", "-r", action="store_true", help="remove the key and all child keys"
    )
    rm.add_argument("--with-value", default="", metavar="VALUE", help="only if the value is this")
    rm.add_argument("--with-index", type=int, default=0, metavar="INDEX", help="only at this index")

    rmdir = commands.add(
        "rmdir", _rmdir, help="remove the key if it is an empty directory or a key-value pair"
    )
    rmdir.add_argument("key")

    ls = commands.add("ls", _ls, help="retrieve a directory")
    ls.add_argument("key", nargs="?", default="/")
    ls.add_argument("--sort", action="store_true", help="return the result sorted by key")
    ls.add_argument(
        "--recursive", "-r", action="store_true", help="list every key below, recursively"
    )
    ls.add_argument("-p", dest="slash", action="store_true", help="append / to directories")
    _quorum(ls)


def _key_value(parser: Parser) -> None:
    parser.add_argument("key")
    parser.add_argument("value", nargs="?", help="the value; from standard input when left out")


def _ttl(parser: Parser) -> None:
    parser.add_argument(
        "--ttl", type=int, default=0, metavar="SECONDS", help="key time-to-live (0: none)"
    )


def _quorum(parser: Parser) -> None:
    parser.add_argument(
        "--quorum", "-q", action="store_true", help="read through the cluster's consensus"
    )


def ttl(args: argparse.Namespace) -> int | None:
    """etcdctl ignores a TTL of 0 or less: the key is permanent."""
    seconds: int = args.ttl
    return seconds if seconds > 0 else None


def value(args: argparse.Namespace) -> str:
    """The value argument, else all of standard input (as etcdctl's ``argOrStdin``)."""
    given: str | None = args.value
    if given is not None:
        return given
    text = "" if sys.stdin is None or sys.stdin.closed else sys.stdin.read()
    if not text:
        raise CliError("value required", EXIT_BAD_ARGS)
    return text


async def _get(ctx: Context) -> int:
    args = ctx.args
    result = await ctx.client.read(args.key, sorted=args.sort, quorum=args.quorum)
    if result.node.dir:
        raise CliError(f"{result.node.key}: is a directory", EXIT_BAD_ARGS, prefixed=False)
    print_result(ctx.out, result)
    return EXIT_SUCCESS


async def _set(ctx: Context) -> int:
    args = ctx.args
    result = await ctx.client.write(
        args.key,
        value(args),
        ttl(args),
        prevValue=args.swap_with_value or None,
        prevIndex=args.swap_with_index or None,
    )
    print_result(ctx.out, result)
    return EXIT_SUCCESS


async def _mk(ctx: Context) -> int:
    args = ctx.args
    if args.in_order:
        result = await ctx.client.write(args.key, value(args), ttl(args), append=True)
    else:
        # prevExist=false: mk never overwrites.
        result = await ctx.client.write(args.key, value(args), ttl(args), prevExist=False)
    print_result(ctx.out, result)
    return EXIT_SUCCESS


async def _mkdir(ctx: Context) -> int:
    await ctx.client.write(ctx.args.key, None, ttl(ctx.args), dir=True, prevExist=False)
    return EXIT_SUCCESS


async def _setdir(ctx: Context) -> int:
    await ctx.client.write(ctx.args.key, None, ttl(ctx.args), dir=True)
    return EXIT_SUCCESS


async def _update(ctx: Context) -> int:
    args = ctx.args
    result = await ctx.client.write(args.key, value(args), ttl(args), prevExist=True)
    print_result(ctx.out, result)
    return EXIT_SUCCESS


async def _updatedir(ctx: Context) -> int:
    await ctx.client.write(ctx.args.key, None, ttl(ctx.args), dir=True, prevExist=True)
    return EXIT_SUCCESS


async def _rm(ctx: Context) -> int:
    args = ctx.args
    result = await ctx.client.delete(
        args.key,
        recursive=args.recursive,
        dir=args.dir,
        prevValue=args.with_value or None,
        prevIndex=args.with_index or None,
    )
    if not result.node.dir or ctx.out.format != "simple":
        print_result(ctx.out, result)
    return EXIT_SUCCESS


async def _rmdir(ctx: Context) -> int:
    result = await ctx.client.delete(ctx.args.key, dir=True)
    if not result.node.dir:
        print_result(ctx.out, result)
    return EXIT_SUCCESS


async def _ls(ctx: Context) -> int:
    args = ctx.args
    result = await ctx.client.read(
        args.key, recursive=args.recursive, sorted=args.sort, quorum=args.quorum
    )
    print_listing(ctx.out, result, slash=args.slash)
    return EXIT_SUCCESS
