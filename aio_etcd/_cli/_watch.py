"""watch and exec-watch."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from ..models import EtcdResult
from ._command import Context, Parser, Registry
from ._errors import EXIT_BAD_ARGS, EXIT_SUCCESS, CliError
from ._output import print_result
from ._process import reap, spawn, terminal_sent_sigint


def register(commands: Registry) -> None:
    # etcdctl exits 0 when a watch is ended with Ctrl-C: that is how a watch ends.
    watch = commands.add(
        "watch", _watch, help="watch a key for changes", interrupted=EXIT_SUCCESS, bounded=False
    )
    watch.add_argument("key")
    watch.add_argument(
        "--forever", "-f", action="store_true", help="watch until Ctrl-C, not for one change"
    )
    _index_and_recursive(watch)

    exec_watch = commands.add(
        "exec-watch",
        _exec_watch,
        help="watch a key for changes and run a command for each",
        description="Run COMMAND for every change of KEY, one at a time, with "
        "ETCD_WATCH_ACTION, ETCD_WATCH_KEY, ETCD_WATCH_VALUE and ETCD_WATCH_MODIFIED_INDEX "
        "in its environment: exec-watch [--recursive] KEY -- COMMAND [ARG...]",
        interrupted=EXIT_SUCCESS,
        bounded=False,
    )
    _index_and_recursive(exec_watch)
    exec_watch.add_argument("key")
    exec_watch.add_argument(
        "exec_command",
        metavar="COMMAND",
        nargs="*" if commands.split else argparse.REMAINDER,
        help="the command and its arguments, best after --",
    )


def _index_and_recursive(parser: Parser) -> None:
    parser.add_argument(
        "--after-index",
        type=int,
        default=0,
        metavar="INDEX",
        help="report the changes after this index (0: from now on)",
    )
    parser.add_argument(
        "--recursive", "-r", action="store_true", help="watch the key and every key below it"
    )


def _first_index(args: argparse.Namespace) -> int | None:
    after: int = args.after_index
    if after < 0:
        raise CliError("--after-index must not be negative")
    return after + 1 if after else None


async def _watch(ctx: Context) -> int:
    args = ctx.args
    changes = ctx.client.watch_iter(args.key, recursive=args.recursive, index=_first_index(args))
    async with changes:
        async for event in changes:
            if event.node.dir:
                continue
            if args.recursive:
                ctx.out.line(f"[{event.action}] {event.node.key}")
            print_result(ctx.out, event)
            if not args.forever:
                break
    return EXIT_SUCCESS


async def _exec_watch(ctx: Context) -> int:
    args = ctx.args
    command: list[str] = args.exec_command
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        raise CliError("key and command to exec required", EXIT_BAD_ARGS)
    changes = ctx.client.watch_iter(args.key, recursive=args.recursive, index=_first_index(args))
    async with changes:
        async for event in changes:
            if event.node.dir:
                print(f"Ignored dir {event.node.key} change", file=sys.stderr, flush=True)
                continue
            # One at a time, in order: the watch keeps the changes that come meanwhile.
            process = await spawn(command, {**os.environ, **environment(event)})
            try:
                await process.wait()
            except asyncio.CancelledError:
                # Ctrl-C: the command has it from the terminal, or has it from us.
                await reap(process, None if terminal_sent_sigint() else signal.SIGINT)
                raise
    return EXIT_SUCCESS


def environment(event: EtcdResult) -> dict[str, str]:
    """What etcdctl's exec-watch tells the command about the change."""
    return {
        "ETCD_WATCH_ACTION": event.action or "",
        "ETCD_WATCH_MODIFIED_INDEX": str(event.node.modified_index),
        "ETCD_WATCH_KEY": event.node.key,
        "ETCD_WATCH_VALUE": event.node.value or "",
    }
