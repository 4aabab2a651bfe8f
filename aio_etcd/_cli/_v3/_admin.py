"""What the administration commands (``_cluster``, ``_maintenance``, ``_auth``) share: whole
replies from the gateway (headers included, which the client's calls leave out), one member
at a time, and etcdctl's JSON, ids, sizes and durations."""

from __future__ import annotations

from typing import TypeVar

from ..._v3._gateway import Gateway
from ...models.v3 import V3Model, V3Request
from ._command import Context

R = TypeVar("R", bound=V3Model)


def _gateway(ctx: Context) -> Gateway:
    return ctx.client._gateway


async def call(
    ctx: Context, path: str, request: V3Request, reply: type[R], *, repeatable: bool
) -> R:
    """``POST /v3/<path>`` with failover, within ``--command-timeout``."""
    return await _gateway(ctx).call(
        path, request, reply, timeout=ctx.client.read_timeout, repeatable=repeatable
    )


async def call_on(ctx: Context, endpoint: str, path: str, request: V3Request, reply: type[R]) -> R:
    """``POST /v3/<path>`` to one member (``endpoint`` as etcdctl was given it)."""
    return await _gateway(ctx).call_on(
        url(ctx, endpoint), path, request, reply, timeout=ctx.client.read_timeout
    )


def url(ctx: Context, endpoint: str) -> str:
    """``host:port`` as a URL, in the client's scheme."""
    return endpoint if "://" in endpoint else f"{ctx.client._protocol}://{endpoint}"


def hex_id(number: int, width: int = 0) -> str:
    """Go's ``%x`` (``%16x`` with ``width=16``: padded with spaces)."""
    return f"{number:x}".rjust(width)


def go_bool(value: bool) -> str:
    return "true" if value else "false"


def human_bytes(size: int) -> str:
    """go-humanize's ``Bytes``, as etcdctl shows a database size: ``20 kB``."""
    if size < 10:
        return f"{size} B"
    exponent = 0
    while size >= 1000 ** (exponent + 1) and exponent < 6:
        exponent += 1
    value = int(size / 1000**exponent * 10 + 0.5) / 10
    suffix = ("B", "kB", "MB", "GB", "TB", "PB", "EB")[exponent]
    return f"{value:.0f} {suffix}" if value >= 10 else f"{value:.1f} {suffix}"


def go_duration(seconds: float) -> str:
    """Go's ``time.Duration.String`` for a duration under a minute: ``3.291933ms``."""
    nanoseconds = round(seconds * 1e9)
    if nanoseconds < 1000:
        return f"{nanoseconds}ns"
    for unit, scale in (("µs", 10**3), ("ms", 10**6), ("s", 10**9)):
        if nanoseconds < scale * 1000 or unit == "s":
            whole, part = divmod(nanoseconds, scale)
            digits = f"{part:0{len(str(scale)) - 1}d}".rstrip("0")
            return f"{whole}.{digits}{unit}" if digits else f"{whole}{unit}"
    raise AssertionError("unreachable")
