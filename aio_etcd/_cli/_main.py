"""``main()``: parse, run, and turn whatever happened into an exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence

from .._aio import bounded
from .._exceptions import EtcdException
from ._command import Command, Context
from ._errors import (
    EXIT_BAD_ARGS,
    EXIT_BAD_CONNECTION,
    EXIT_INTERRUPTED,
    CliError,
    Exit,
    Style,
    report,
)
from ._output import Output
from ._parser import parse
from ._settings import Settings, settings_from


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); returns the exit code."""
    arguments = sys.argv[1:] if argv is None else argv
    style: Style = "keys"
    output = "simple"
    interrupted = EXIT_INTERRUPTED
    try:
        try:
            args = parse(arguments)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else EXIT_BAD_ARGS
        command: Command | None = args.command
        if command is None:
            return _tour(args)
        style, interrupted = command.style, command.interrupted
        output = getattr(args, "output", output)
        settings = settings_from(args)
        return asyncio.run(_run(command, args, settings))
    except KeyboardInterrupt:
        return interrupted
    except Exit as exc:
        return exc.code
    except BrokenPipeError:
        # The reader went away (``| head``): say nothing, as a process killed by SIGPIPE.
        _silence_stdout()
        return 128 + signal.SIGPIPE
    except Exception as exc:
        code, text = report(exc, style=style, output=output)
        print(text, file=sys.stderr, flush=True)
        return code


async def _run(command: Command, args: argparse.Namespace, settings: Settings) -> int:
    with _ctrl_c_cancels(asyncio.current_task()):
        return await _command(command, args, settings)


@contextlib.contextmanager
def _ctrl_c_cancels(task: asyncio.Task[int] | None) -> Iterator[None]:
    """Ctrl-C cancels the command, which then leaves as KeyboardInterrupt.

    Python 3.11's ``asyncio.run`` does this itself; before it, the KeyboardInterrupt was
    raised wherever the program happened to be, even inside a library's cleanup, which
    could then hang. Where a loop cannot take signal handlers, Python's default stays.
    """
    loop = asyncio.get_running_loop()
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        if task is not None:
            task.cancel()

    try:
        loop.add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
        yield
        return
    try:
        yield
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGINT)


async def _command(command: Command, args: argparse.Namespace, settings: Settings) -> int:
    async with settings.client() as client:
        context = Context(args, settings, client, Output(settings.output))
        limit = settings.total_timeout if command.bounded else None
        try:
            return await bounded(command.run(context), limit)
        except asyncio.TimeoutError as exc:
            if isinstance(exc, EtcdException):
                raise
            raise CliError(
                f"context deadline exceeded: {command.name} took longer than "
                f"--total-timeout {limit:g}s",
                EXIT_BAD_CONNECTION,
            ) from None


def _tour(args: argparse.Namespace) -> int:
    from .. import _tour
    from .._server import EtcdNotFoundError

    try:
        _tour.run(args.endpoint, api=args.api)
    except (EtcdException, EtcdNotFoundError) as exc:
        print(f"aio-etcd: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _silence_stdout() -> None:
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    finally:
        os.close(devnull)
