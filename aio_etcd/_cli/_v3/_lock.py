"""``lock`` and ``elect``, as etcdctl 3.5's (``ctlv3/command/{lock,elect}_command.go``), on
:class:`~aio_etcd.v3.Lock` and :class:`~aio_etcd.v3.Election`, which use the keys of Go's
``concurrency`` package: they exclude (and agree with) etcdctl's own on the same name.

Ctrl-C is how a holder lets go: the lock is released (the lead resigned) and the exit status
is 0; while still waiting, the wait ends with ``Error: context canceled`` (exit 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from ..._v3._args import prefix_end
from ..._v3._concurrency import Election, Lock
from ...models.v3 import RangeRequest, RangeResponse
from ...models.v3.kv import SortOrder, SortTarget
from .._errors import CliError
from .._process import spawn, terminal_sent_sigint
from ._command import Context, Flag, Registry, Usage
from ._errors import EXIT_ERROR
from ._keys import call, show_get

CANCELED = "context canceled"
ELECTION_TTL = 60
"""Seconds: Go's ``concurrency.NewSession`` default, which ``etcdctl elect`` keeps."""


def register(commands: Registry) -> None:
    commands.add(
        "lock",
        lock,
        usage="<lockname> [exec-command arg1 arg2 ...]",
        help="Acquires a named lock",
        flags=(Flag("ttl", "int", 10, "timeout for session"),),
        bounded=False,
    )
    commands.add(
        "elect",
        elect,
        usage="<election-name> [proposal]",
        help="Observes and participates in leader election",
        flags=(Flag("listen", "bool", False, "observation mode", "l"),),
        bounded=False,
    )


async def _until_interrupted(lost: asyncio.Future[None] | asyncio.Task[None]) -> bool:
    """Wait for Ctrl-C (``True``) or for ``lost`` to finish (``False``)."""
    try:
        await lost
    except asyncio.CancelledError:
        return True
    return False


async def _show_key(ctx: Context, key: bytes) -> None:
    reply = await call(ctx, "kv/range", RangeRequest(key=key), RangeResponse, repeatable=True)
    show_get(ctx, reply)


async def lock(ctx: Context) -> int:
    if not ctx.args:
        raise Usage("lock takes a lock name argument and an optional command to execute")
    name, command = ctx.args[0], ctx.args[1:]
    held = Lock(ctx.client, name, ttl=ctx.number("ttl"))
    try:
        await held.acquire()
    except asyncio.CancelledError:
        raise CliError(CANCELED, EXIT_ERROR) from None
    try:
        assert held.key is not None
        if command:
            return await _run_locked(held, command)
        await _show_key(ctx, held.key)
        if await _until_interrupted(asyncio.ensure_future(held.wait_lost())):
            return 0
        raise CliError("session expired", EXIT_ERROR)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(held.release())


async def _run_locked(held: Lock, command: list[str]) -> int:
    """Run ``command`` holding the lock; its exit status (``Error: exit status N``)."""
    assert held.key is not None
    env = {
        **os.environ,
        "ETCD_LOCK_KEY": held.key.decode("utf-8", "surrogateescape"),
        "ETCD_LOCK_REV": str(held.fencing_token),
    }
    try:
        process = await spawn(command, env)
    except CliError as exc:
        if exc.code == 127:
            raise CliError(
                f'exec: "{command[0]}": executable file not found in $PATH', EXIT_ERROR
            ) from None
        raise CliError(exc.message, EXIT_ERROR) from None
    while True:
        try:
            code = await asyncio.shield(process.wait())
            break
        except asyncio.CancelledError:
            # Ctrl-C: as etcdctl, wait for the command to end; pass the signal on
            # unless the terminal sent it to the command already.
            if not terminal_sent_sigint() and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGINT)
    if code == 0:
        return 0
    if code < 0:
        name = {signal.SIGINT: "interrupt", signal.SIGTERM: "terminated"}.get(
            signal.Signals(-code), signal.Signals(-code).name
        )
        raise CliError(f"signal: {name}", 255)  # Go's ExitStatus() is -1 then
    raise CliError(f"exit status {code}", code)


async def elect(ctx: Context) -> int:
    if len(ctx.args) not in (1, 2):
        raise Usage("elect takes one election name argument and an optional proposal argument")
    listen = ctx.on("listen")
    if len(ctx.args) == 1:
        if not listen:
            raise Usage("no proposal argument but -l not set")
        return await _observe(ctx, ctx.args[0])
    if listen:
        raise Usage("proposal given but -l is set")
    return await _campaign(ctx, ctx.args[0], ctx.args[1])


async def _campaign(ctx: Context, name: str, proposal: str) -> int:
    election = Election(ctx.client, name, ttl=ELECTION_TTL)
    try:
        await election.campaign(proposal.encode())
    except asyncio.CancelledError:
        raise CliError(CANCELED, EXIT_ERROR) from None
    try:
        assert election.key is not None
        await _show_key(ctx, election.key)
        if await _until_interrupted(asyncio.ensure_future(election.wait_lost())):
            return 0
        raise CliError("elect: session expired", EXIT_ERROR)
    finally:
        with contextlib.suppress(Exception):
            await asyncio.shield(election.resign())


async def _observe(ctx: Context, name: str) -> int:
    """Print the leader's key and value now and at each change (a new leader, a
    proclamation), as Go's ``Election.Observe``; nothing while nobody leads."""
    election = Election(ctx.client, name, ttl=ELECTION_TTL)
    prefix = name.encode() + b"/"
    first = RangeRequest(
        key=prefix,
        range_end=prefix_end(prefix),
        sort_target=SortTarget.CREATE,
        sort_order=SortOrder.ASCEND,
        limit=1,
    )
    shown: tuple[bytes, int] | None = None
    try:
        async for value in election.observe():
            if value is None:
                continue
            reply = await call(ctx, "kv/range", first, RangeResponse, repeatable=True)
            if not reply.kvs:
                continue
            head = reply.kvs[0]
            if (head.key, head.mod_revision) != shown:
                shown = (head.key, head.mod_revision)
                show_get(ctx, reply)
    except asyncio.CancelledError:
        return 0
    raise CliError("elect: observer lost", EXIT_ERROR)
