"""etcdctl v3's exit codes (``pkg/cobrautl/error.go``) and its one-line error messages."""

from __future__ import annotations

import asyncio
from typing import Final

from ..._exceptions import EtcdConnectionFailed, EtcdException
from ...models.v3.error import GatewayError
from .._errors import CliError

EXIT_SUCCESS: Final = 0
EXIT_ERROR: Final = 1
EXIT_BAD_CONNECTION: Final = 2
EXIT_INVALID_INPUT: Final = 3
EXIT_BAD_FEATURE: Final = 4
EXIT_INTERRUPTED: Final = 5
EXIT_IO: Final = 6
EXIT_BAD_ARGS: Final = 128

DEADLINE: Final = "context deadline exceeded"
"""What etcdctl says when a call (connecting included) outlasts ``--command-timeout``."""

AUTH_FAILED: Final = "authentication failed"
"""In etcd's refusal of a user name or password (``ErrAuthFailed``), the one error of
``Authenticate``."""


def report(exc: BaseException) -> tuple[int, str]:
    """The exit code and the stderr line (``Error: ...``, no newline) for ``exc``."""
    if isinstance(exc, CliError):
        return exc.code, ("Error: " if exc.prefixed else "") + one_line(exc.message)
    if isinstance(exc, EtcdException) and isinstance(exc.payload, GatewayError):
        # etcd's own message, as gRPC carried it to etcdctl ("etcdserver: ...").
        message = exc.payload.message or str(exc)
        # etcdctl authenticates while it connects: refused credentials fail the connection.
        code = EXIT_BAD_CONNECTION if AUTH_FAILED in message else EXIT_ERROR
        return code, "Error: " + one_line(message)
    if isinstance(exc, EtcdConnectionFailed | asyncio.TimeoutError):
        # etcdctl retries an unreachable cluster until its deadline, then says only this.
        return EXIT_ERROR, f"Error: {DEADLINE}"
    if isinstance(exc, EtcdException | ValueError | OSError):
        return EXIT_ERROR, "Error: " + one_line(str(exc))
    # Not something the client raises on purpose: still one line, never a traceback.
    return EXIT_ERROR, f"Error: {type(exc).__name__}: {one_line(str(exc))}"


def one_line(text: object) -> str:
    return str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
