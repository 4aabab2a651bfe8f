"""lock: run a command while holding an aio_etcd Lock."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal

from .._lock import Lock
from ._command import Context, Registry
from ._errors import EXIT_BAD_ARGS, EXIT_SERVER_ERROR, EXIT_SUCCESS, CliError, Exit
from ._process import exit_status, reap, spawn, terminal_sent_sigint

DEFAULT_TTL = 10
"""Seconds the lock outlives a holder that died without releasing it (etcdctl v3's default)."""
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def register(commands: Registry) -> None:
    lock = commands.add(
        "lock",
        _lock,
        help="run a command while holding a named lock",
        description="Wait for the lock NAME, run COMMAND while holding it, release it, and "
        "exit with COMMAND's exit status. The command sees ETCD_LOCK_KEY and ETCD_LOCK_REV "
        "(the lock key's index, a fencing token). Without a command, print the lock key and "
        "hold the lock until Ctrl-C: lock [--ttl SECONDS] NAME -- COMMAND [ARG...]",
        bounded=False,
    )
    lock.add_argument(
        "--ttl",
        type=int,
        default=DEFAULT_TTL,
        metavar="SECONDS",
        help=f"how long the lock outlives this process if it dies (default {DEFAULT_TTL})",
    )
    lock.add_argument("name", metavar="NAME")
    lock.add_argument(
        "exec_command",
        metavar="COMMAND",
        nargs="*" if commands.split else argparse.REMAINDER,
        help="the command and its arguments, best after --",
    )


async def _lock(ctx: Context) -> int:
    args = ctx.args
    if args.ttl < 1:
        raise CliError("--ttl must be at least 1 second", EXIT_BAD_ARGS)
    command: list[str] = args.exec_command
    if command[:1] == ["--"]:
        command = command[1:]
    lock = Lock(ctx.client, args.name)
    try:
        await _acquire(lock, args.ttl)
        if command:
            return await _run_holding(lock, command)
        return await _hold(ctx, lock)
    finally:
        await asyncio.shield(lock.release())


async def _acquire(lock: Lock, ttl: int) -> None:
    """Wait for the lock. SIGTERM or SIGHUP meanwhile ends the wait, leaving no key behind
    (Ctrl-C does so too: it cancels the command)."""
    loop = asyncio.get_running_loop()
    received: list[int] = []
    stop = asyncio.Event()

    def give_up(signum: int) -> None:
        received.append(signum)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, give_up, signum)
    acquiring = asyncio.ensure_future(lock.acquire(lock_ttl=ttl))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({acquiring, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        if not acquiring.done():
            acquiring.cancel()  # acquire() deletes its key when cancelled
            await asyncio.wait({acquiring})
        for signum in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(signum)
    if received:
        raise Exit(128 + received[0])
    acquiring.result()


async def _run_holding(lock: Lock, command: list[str]) -> int:
    env = {
        **os.environ,
        "ETCD_LOCK_KEY": lock.lock_key or "",
        "ETCD_LOCK_REV": str(lock.fencing_token),
    }
    process = await spawn(command, env)
    loop = asyncio.get_running_loop()

    def forward(signum: int) -> None:
        # Ctrl-C reaches the command from the terminal already; anything else is passed on.
        if signum == signal.SIGINT and terminal_sent_sigint():
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)

    for signum in SIGNALS:
        loop.add_signal_handler(signum, forward, signum)
    lost = asyncio.ensure_future(lock.wait_lost())
    exited = asyncio.ensure_future(process.wait())
    try:
        await asyncio.wait({lost, exited}, return_when=asyncio.FIRST_COMPLETED)
        if not exited.done():
            # Without the lock the command must not go on: another holder may be running.
            await reap(process, signal.SIGTERM)
            raise CliError(
                f"lost the lock {lock.name!r} (its key expired or was deleted); "
                f"stopped {command[0]!r}",
                EXIT_SERVER_ERROR,
            )
        return exit_status(exited.result())
    finally:
        lost.cancel()
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)
        if process.returncode is None:
            await reap(process)


async def _hold(ctx: Context, lock: Lock) -> int:
    """Print the lock key, then hold the lock until a signal comes or the lock is lost."""
    ctx.out.line(lock.lock_key or "")
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    lost = asyncio.ensure_future(lock.wait_lost())
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({lost, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        lost.cancel()
        stopped.cancel()
        for signum in SIGNALS:
            loop.remove_signal_handler(signum)
    if not stop.is_set():
        raise CliError(
            f"lost the lock {lock.name!r} (its key expired or was deleted)", EXIT_SERVER_ERROR
        )
    return EXIT_SUCCESS
