"""Starting the commands that exec-watch and lock run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Mapping, Sequence

from ._errors import CliError

EXIT_CANNOT_EXECUTE = 126
EXIT_NOT_FOUND = 127
"""The shell's codes (also env's, timeout's, nohup's) for a command that could not start."""


async def spawn(command: Sequence[str], env: Mapping[str, str]) -> asyncio.subprocess.Process:
    """Start ``command`` with our stdin, stdout and stderr, or fail with the shell's codes."""
    try:
        return await asyncio.create_subprocess_exec(*command, env=dict(env))
    except FileNotFoundError:
        raise CliError(f"exec: {command[0]!r}: not found", EXIT_NOT_FOUND) from None
    except OSError as exc:
        raise CliError(f"exec: {command[0]!r}: {exc.strerror}", EXIT_CANNOT_EXECUTE) from None


def exit_status(returncode: int) -> int:
    """A child's exit code, or 128 + the number of the signal that ended it, as shells say."""
    return returncode if returncode >= 0 else 128 - returncode


async def reap(
    process: asyncio.subprocess.Process, signum: int | None = None, grace: float = 5.0
) -> None:
    """Stop a child we are leaving: send ``signum`` (if given), give it ``grace`` seconds to
    end, then kill it."""
    if signum is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signum)
    try:
        await asyncio.wait_for(asyncio.shield(process.wait()), grace)
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        await process.wait()


def terminal_sent_sigint() -> bool:
    """Whether we run in the terminal's foreground process group, to which the terminal
    sends Ctrl-C's SIGINT: then our children, in the same group, have it already."""
    try:
        return os.tcgetpgrp(sys.stdin.fileno()) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False
