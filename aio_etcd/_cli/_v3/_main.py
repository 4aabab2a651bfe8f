"""Run one v3 command line: parse, connect, run, and report as etcdctl does."""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
from collections.abc import Mapping, Sequence

from ..._constants import VERSION
from .._errors import EXIT_INTERRUPTED
from ._command import Command, Context, Registry
from ._errors import report
from ._parser import GLOBAL_FLAGS, Parsed, globals_from, parse
from ._printer import Printer

GROUPS = ("_keys", "_watch", "_lease", "_lock", "_cluster", "_maintenance", "_auth")
"""The modules of ``aio_etcd._cli._v3`` whose ``register(commands)`` adds their commands."""


@functools.cache
def registry() -> Registry:
    """Every v3 command."""
    commands = Registry()
    for name in GROUPS:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
            continue  # a build without that group of commands
        module.register(commands)
    commands.add("version", _version, usage="", help="Prints the version of aio-etcd")
    return commands


async def _version(ctx: Context) -> int:
    ctx.printer.line(f"aio-etcd version: {VERSION}")
    ctx.printer.line("API version: 3.5")
    return 0


def main(argv: Sequence[str], environ: Mapping[str, str] = os.environ) -> int:
    """Run ``argv`` (without the program name); returns the exit code."""
    from .._main import guarded

    parsed: Parsed | None = None

    def body() -> int:
        nonlocal parsed
        parsed = parse(argv, registry(), environ)
        if parsed.help or parsed.command is None:
            if not parsed.words and not parsed.help:
                return -1  # no command at all: the caller runs the tour
            print(usage(parsed), end="")
            return 0
        return asyncio.run(_run(parsed, parsed.command))

    def interrupted() -> int:
        return parsed.command.interrupted if parsed and parsed.command else EXIT_INTERRUPTED

    return guarded(body, report, interrupted)


async def _run(parsed: Parsed, command: Command) -> int:
    from .._main import ctrl_c_cancels

    settings = globals_from(parsed.flags)
    printer = Printer(settings.write_out, settings.hex)
    with ctrl_c_cancels(asyncio.current_task()):
        async with settings.client() as client:
            context = Context(parsed.args, parsed.flags, settings, client, printer, parsed.dash)
            return await command.run(context)


def usage(parsed: Parsed) -> str:
    """Help for a command, a group or the whole command line."""
    commands = registry().commands
    lines: list[str] = []
    if parsed.command is not None:
        command = parsed.command
        lines += ["NAME:", f"\t{command.name} - {command.help}", "", "USAGE:"]
        lines += [f"\taio-etcd {command.name} {command.usage}".rstrip(), ""]
        if command.flags:
            lines.append("OPTIONS:")
            lines += [_flag_line(flag) for flag in command.flags]
            lines.append("")
    else:
        group = parsed.words[0] if parsed.words else None
        lines += ["USAGE:", "\taio-etcd [global options] <command> [options] [arguments]", ""]
        lines.append("COMMANDS:")
        for words, command in sorted(commands.items()):
            if group is None or words[0] == group:
                lines.append(f"\t{command.name:<24} {command.help}")
        lines.append("")
    lines.append("GLOBAL OPTIONS:")
    lines += [_flag_line(flag) for flag in GLOBAL_FLAGS]
    lines += ["", "Pass --api 2 or set ETCDCTL_API=2 for the v2 commands.", ""]
    return "\n".join(lines)


def _flag_line(flag: object) -> str:
    from ._command import Flag

    assert isinstance(flag, Flag)
    short = f"-{flag.short}, " if flag.short else "    "
    return f"  {short}--{flag.name:<28} {flag.help}"
