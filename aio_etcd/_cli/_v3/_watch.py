"""``watch``, as etcdctl 3.5's (``ctlv3/command/watch_command.go``): one output per message
etcd sends, and ``watch KEY -- command`` running the command for each event with
``ETCD_WATCH_REVISION``, ``ETCD_WATCH_EVENT_TYPE``, ``ETCD_WATCH_KEY`` and
``ETCD_WATCH_VALUE`` (the last three Go-quoted, as etcdctl sets them).

It reads the gateway's watch stream itself rather than through :class:`~aio_etcd.v3.Watch`,
which yields events one by one: etcdctl prints each message whole (its header, and every
event of a transaction together).
"""

from __future__ import annotations

import os
import sys

from ..._exceptions import EtcdConnectionFailed, EtcdLeaderElectionInProgress
from ...models.v3 import WatchCreateRequest, WatchRequest, WatchResponse
from .._errors import CliError
from .._process import spawn
from ._command import Context, Flag, Registry, Usage
from ._errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_INVALID_INPUT
from ._keys import _prefix_end, argify
from ._parser import parse_flags
from ._printer import go_document, go_json, go_quote

_HAS_LEADER = {"Grpc-Metadata-hasleader": "true"}

WATCH_FLAGS = (
    Flag("interactive", "bool", False, "Interactive mode", "i"),
    Flag("prefix", "bool", False, "Watch on a prefix if prefix is set"),
    Flag("rev", "int", 0, "Revision to start watching"),
    Flag("prev-kv", "bool", False, "get the previous key-value pair before the event happens"),
    Flag("progress-notify", "bool", False, "get periodic watch progress notification from server"),
)


def register(commands: Registry) -> None:
    commands.add(
        "watch",
        watch,
        usage="[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]",
        help="Watches events stream on keys or prefixes",
        flags=WATCH_FLAGS,
        bounded=False,
    )


def _environment_key() -> tuple[str, str]:
    key = os.environ.get("ETCDCTL_WATCH_KEY", "")
    range_end = os.environ.get("ETCDCTL_WATCH_RANGE_END", "")
    if not key and range_end:
        raise Usage(f'ETCDCTL_WATCH_KEY is empty but got ETCDCTL_WATCH_RANGE_END="{range_end}"')
    return key, range_end


def _split(
    args: list[str], dash: int | None, key: str, range_end: str
) -> tuple[list[str], list[str]]:
    """The watch's arguments and the command to run (after ``--``), as etcdctl's
    ``parseWatchArgs`` checks them."""
    if dash is None:
        watched, command = list(args), []
    else:
        watched, command = args[:dash], args[dash:]
        if not command:
            raise Usage("bad number of arguments (found separator --, but no commands)")
    if key:
        if watched:
            raise Usage("bad number of arguments (found conflicting environment key)")
        watched = [key, range_end] if range_end else [key]
    if not watched:
        raise Usage("bad number of arguments")
    return watched, command


def _request(watched: list[str], flags: dict[str, object]) -> WatchCreateRequest:
    key = watched[0].encode()
    range_end = b""
    if len(watched) >= 2:
        if flags["prefix"]:
            raise Usage("`range_end` and `--prefix` are mutually exclusive")
        range_end = watched[1].encode()
    if flags["prefix"]:
        range_end = _prefix_end(key) if key else b"\x00"
        key = key or b"\x00"
    revision = flags["rev"]
    assert isinstance(revision, int)
    return WatchCreateRequest(
        key=key,
        range_end=range_end,
        start_revision=revision,
        prev_kv=bool(flags["prev-kv"]),
        progress_notify=bool(flags["progress-notify"]),
    )


async def watch(ctx: Context) -> int:
    env_key, env_range = _environment_key()
    if ctx.on("interactive"):
        return await _interactive(ctx, env_key, env_range)
    watched, command = _split(ctx.args, ctx.dash, env_key, env_range)
    request = _request(watched, ctx.flags)
    await _follow(ctx, request, command)
    raise CliError("watch is canceled by the server", EXIT_INTERRUPTED)


async def _follow(ctx: Context, request: WatchCreateRequest, command: list[str]) -> None:
    """Print every message of the watch until etcd cancels it; resume from the next
    revision on another member when a stream breaks, as clientv3 does."""
    gateway = ctx.client._gateway
    position = request.start_revision
    canceled = False

    async def attempt(endpoint: str, _seconds: float | None) -> bool:
        """Whether the stream broke after it started (else it was canceled)."""
        nonlocal position, canceled
        body = WatchRequest(create_request=request.model_copy(update={"start_revision": position}))
        started = False
        try:
            async with gateway.stream(
                endpoint,
                "watch",
                body,
                WatchResponse,
                timeout=gateway.read_timeout,
                headers=_HAS_LEADER,
            ) as stream:
                while (message := await stream.next()) is not None:
                    started = True
                    if message.created and not message.events and not message.canceled:
                        continue  # clientv3 keeps the creation to itself
                    if message.events:
                        position = message.events[-1].kv.mod_revision + 1
                    await _show(ctx, message, command)
                    if message.canceled:
                        canceled = True
                        return False
        except (EtcdConnectionFailed, EtcdLeaderElectionInProgress):
            if not started:
                raise
        if not started:
            raise EtcdConnectionFailed(f"the watch stream from {endpoint} ended")
        gateway.failover.pool.failed(endpoint)
        return True

    while not canceled:
        await gateway.failover.run(attempt, timeout=None, repeatable=True, ride_out=True)


async def _show(ctx: Context, message: WatchResponse, command: list[str]) -> None:
    printer = ctx.printer
    if message.canceled:
        reason = message.cancel_reason
        if message.compact_revision:
            reason = "etcdserver: mvcc: required revision has been compacted"
        print(f"watch was canceled ({reason})", file=sys.stderr, flush=True)
    if _is_progress(message):
        printer.line(f"progress notify: {message.header.revision}")

    def simple() -> None:
        for event in message.events:
            printer.line(event.type)
            if event.prev_kv is not None:
                printer.line(printer.bytes(event.prev_kv.key))
                printer.line(printer.bytes(event.prev_kv.value))
            printer.line(printer.bytes(event.kv.key))
            printer.line(printer.bytes(event.kv.value))

    def fields() -> None:
        printer.header_fields(message.header)
        for event in message.events:
            printer.line(f'"Type" : {event.type}')
            if event.prev_kv is not None:
                printer.kv_fields(event.prev_kv, "Prev")
            printer.kv_fields(event.kv)

    def json() -> None:
        # clientv3.WatchResponse marshalled by Go: exported field names, no omitempty.
        events = []
        for event in message.events:
            document: dict[str, object] = {}
            if event.type == "DELETE":
                document["type"] = 1
            document["kv"] = go_document(event.kv)
            if event.prev_kv is not None:
                document["prev_kv"] = go_document(event.prev_kv)
            events.append(document)
        printer.line(
            go_json(
                {
                    "Header": go_document(message.header),
                    "Events": events,
                    "CompactRevision": message.compact_revision,
                    "Canceled": message.canceled,
                    "Created": message.created,
                }
            )
        )

    printer.show(message, simple=simple, fields=fields, json=json)
    if command:
        for event in message.events:
            await _execute(command, message, event)


def _is_progress(message: WatchResponse) -> bool:
    return (
        not message.events
        and not message.canceled
        and not message.created
        and message.compact_revision == 0
        and message.header.revision != 0
    )


async def _execute(command: list[str], message: WatchResponse, event: object) -> None:
    from ...models.v3 import WatchEvent

    assert isinstance(event, WatchEvent)
    env = dict(os.environ)
    env["ETCD_WATCH_REVISION"] = str(message.header.revision)
    env["ETCD_WATCH_EVENT_TYPE"] = f'"{event.type}"'
    env["ETCD_WATCH_KEY"] = go_quote(event.kv.key)
    env["ETCD_WATCH_VALUE"] = go_quote(event.kv.value)
    shown = "[" + " ".join(go_quote(word.encode()) for word in command) + "]"
    try:
        process = await spawn(command, env)
    except CliError as exc:
        reason = f'exec: "{command[0]}": executable file not found in $PATH'
        if exc.code != 127:
            reason = exc.message
        raise CliError(f"command {shown} error ({reason})", EXIT_ERROR, prefixed=False) from None
    code = await process.wait()
    if code != 0:
        reason = f"exit status {code}" if code > 0 else f"signal: {_signal_name(-code)}"
        raise CliError(f"command {shown} error ({reason})", EXIT_ERROR, prefixed=False)


def _signal_name(number: int) -> str:
    import signal

    names = {signal.SIGINT: "interrupt", signal.SIGTERM: "terminated", signal.SIGKILL: "killed"}
    return names.get(signal.Signals(number), signal.Signals(number).name)


async def _interactive(ctx: Context, env_key: str, env_range: str) -> int:
    """``watch -i``: one ``watch [options] key [range_end]`` per line of standard input,
    each followed at once; ends (exit 3) when standard input does."""
    import asyncio

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    watches: list[asyncio.Task[None]] = []
    try:
        while True:
            raw = await reader.readline()
            if not raw.endswith(b"\n"):
                raise CliError("error reading watch request line: EOF", EXIT_INVALID_INPUT)
            line = raw[:-1].decode("utf-8", "surrogateescape")
            words = argify(line)
            if not words:
                print(f"Invalid command: {line} (watch and progress supported)", file=sys.stderr)
                continue
            if words[0] != "watch":
                print(f"Invalid command {line} (only support watch)", file=sys.stderr)
                continue
            if len(words) < 2 and not env_key:
                print(
                    f"Invalid command {line} (command type watch requires a key argument)",
                    file=sys.stderr,
                )
                continue
            values, _, args, dash = parse_flags(words[1:], WATCH_FLAGS)
            watched, command = _split(args, dash, env_key, env_range)
            try:
                request = _request(watched, values)
            except Usage as exc:
                print(f"Invalid command {line} ({exc.message})", file=sys.stderr)
                continue
            watches.append(asyncio.create_task(_follow(ctx, request, command)))
    finally:
        for task in watches:
            task.cancel()
        await asyncio.gather(*watches, return_exceptions=True)
