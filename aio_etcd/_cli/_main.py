"""``main()``: parse, run, and turn whatever happened into an exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence

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

API_ENV = "ETCDCTL_API"
BOTH_APIS = ("tour", "migrate")
"""Commands that are the same whichever API is chosen."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); returns the exit code.

    ``--api 2|3`` (or ``$ETCDCTL_API``; the flag wins) chooses etcdctl v2's commands or
    v3's; 3 by default, as etcdctl since 3.4.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        api, arguments = select_api(arguments, os.environ)
    except CliError as exc:
        print(f"Error: {exc.message}", file=sys.stderr, flush=True)
        return exc.code
    if api == "3" and not _either_api(arguments):
        from ._v3 import main as main3

        code = main3(arguments)
        if code != -1:
            return code
        arguments = []  # no command: the tour, as with the v2 commands
    return _main2(arguments)


def select_api(argv: list[str], environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """The API (``"2"`` or ``"3"``) and the arguments without ``--api``."""
    api = environ.get(API_ENV) or "3"
    rest: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if token == "--" or token in BOTH_APIS:
            # What follows is the command's own: ``tour --api v3`` picks the tour's API.
            rest += argv[i - 1 :]
            break
        if token == "--api" and i < len(argv):
            api = argv[i]
            i += 1
        elif token.startswith("--api="):
            api = token.removeprefix("--api=")
        else:
            rest.append(token)
    if api not in ("2", "3"):
        # etcdctl's ExitBadArgs
        raise CliError(f"unsupported API version {api!r}: give 2 or 3", 128)
    return api, rest


def _either_api(argv: Sequence[str]) -> bool:
    """Whether the command is one of ``BOTH_APIS``: the first word that is neither a flag
    nor a flag's value (``--endpoints URL migrate``)."""
    previous = ""
    for token in argv:
        if token in BOTH_APIS:
            return True
        if not token.startswith("-") and not (previous.startswith("-") and "=" not in previous):
            return False
        previous = token
    return False


def guarded(
    body: Callable[[], int],
    report: Callable[[Exception], tuple[int, str]],
    interrupted: Callable[[], int],
) -> int:
    """``body()``'s exit code; Ctrl-C, a closed pipe and any error are turned into an exit
    code (and one line on stderr from ``report``), never a traceback."""
    try:
        return body()
    except KeyboardInterrupt:
        return interrupted()
    except Exit as exc:
        return exc.code
    except BrokenPipeError:
        # The reader went away (``| head``): say nothing, as a process killed by SIGPIPE.
        _silence_stdout()
        return 128 + signal.SIGPIPE
    except Exception as exc:
        code, text = report(exc)
        with contextlib.suppress(BrokenPipeError):
            print(text, file=sys.stderr, flush=True)
        return code


def _main2(arguments: Sequence[str]) -> int:
    style: Style = "keys"
    output = "simple"
    interrupted = EXIT_INTERRUPTED

    def body() -> int:
        nonlocal style, output, interrupted
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

    return guarded(body, lambda exc: report(exc, style=style, output=output), lambda: interrupted)


async def _run(command: Command, args: argparse.Namespace, settings: Settings) -> int:
    with ctrl_c_cancels(asyncio.current_task()):
        return await _command(command, args, settings)


@contextlib.contextmanager
def ctrl_c_cancels(task: asyncio.Task[int] | None) -> Iterator[None]:
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
