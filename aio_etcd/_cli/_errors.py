"""Exit codes, and the one place that turns any failure into etcdctl's message and code."""

from __future__ import annotations

import json
from typing import Final, Literal

from .._exceptions import (
    EtcdConnectionFailed,
    EtcdDiscoveryFailed,
    EtcdException,
    EtcdInsufficientPermissions,
    EtcdOutcomeUnknown,
    EtcdValueError,
)

# etcdctl v2's codes (etcdctl/ctlv2/command/error.go).
EXIT_SUCCESS: Final = 0
EXIT_BAD_ARGS: Final = 1
EXIT_BAD_CONNECTION: Final = 2
EXIT_BAD_AUTH: Final = 3
EXIT_SERVER_ERROR: Final = 4
EXIT_CLUSTER_NOT_HEALTHY: Final = 5
# The shell's convention for a command ended by SIGINT.
EXIT_INTERRUPTED: Final = 130

Style = Literal["keys", "admin"]
"""How a command reports what the server refused: the keys commands as etcdctl's
``handleError`` does (``Error:  100: Key not found (/a) [7]``, exit 4, JSON with ``-o json``),
the member, user, role and auth commands with the message alone and exit 1."""

PREFIX: Final = "Error:  "  # etcdctl prints "Error: " and a space-separated error


class CliError(Exception):
    """A failure reported as it is: ``message`` on stderr, ``code`` as the exit status."""

    def __init__(self, message: str, code: int = EXIT_BAD_ARGS, *, prefixed: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.prefixed = prefixed


class Exit(Exception):
    """Ends the command quietly with ``code`` (e.g. after a signal)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def report(exc: BaseException, *, style: Style = "keys", output: str = "simple") -> tuple[int, str]:
    """The exit code and the stderr text (one line, no newline) for ``exc``."""
    if isinstance(exc, CliError):
        return exc.code, (PREFIX if exc.prefixed else "") + exc.message
    if isinstance(exc, EtcdOutcomeUnknown):
        return EXIT_BAD_CONNECTION, PREFIX + _one_line(str(exc))
    if isinstance(exc, EtcdConnectionFailed):
        detail = exc.cause if exc.cause is not None else exc
        return EXIT_BAD_CONNECTION, (
            f"{PREFIX}client: etcd cluster is unavailable or misconfigured; {_one_line(detail)}"
        )
    if isinstance(exc, EtcdDiscoveryFailed):
        return EXIT_BAD_ARGS, PREFIX + _one_line(str(exc))
    if isinstance(exc, EtcdException):
        payload = exc.payload
        if payload is None and isinstance(exc, EtcdValueError):
            return EXIT_BAD_ARGS, PREFIX + _one_line(str(exc))  # refused before sending
        if isinstance(exc, EtcdInsufficientPermissions):
            code = EXIT_BAD_AUTH
        else:
            code = EXIT_SERVER_ERROR if style == "keys" else EXIT_BAD_ARGS
        if style == "admin":
            return code, _one_line(str(exc))
        if payload is not None and payload.error_code is not None:
            if output == "json":
                document = {
                    "errorCode": payload.error_code,
                    "message": payload.message,
                    "cause": payload.cause or "",
                    "index": payload.index or 0,
                }
                return code, json.dumps(document, separators=(",", ":"), ensure_ascii=False)
            # client.Error's format in etcd's Go client: "code: message (cause) [index]".
            line = f"{payload.error_code}: {payload.message} ({payload.cause or ''})"
            return code, f"{PREFIX}{_one_line(line)} [{payload.index or 0}]"
        return code, PREFIX + _one_line(str(exc))
    # Not something the client raises on purpose: still one line, never a traceback.
    return EXIT_BAD_ARGS, f"{PREFIX}{type(exc).__name__}: {_one_line(str(exc))}"


def _one_line(text: object) -> str:
    return str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
