"""``lease grant|revoke|timetolive|list|keep-alive``, as etcdctl 3.5's
(``ctlv3/command/lease_command.go``)."""

from __future__ import annotations

import asyncio
import re

from ..._exceptions import EtcdLeaseNotFound
from ..._v3._lease import keep_alive_once
from ...models.v3 import (
    LeaseGrantRequest,
    LeaseGrantResponse,
    LeaseKeepAliveResponse,
    LeaseLeasesRequest,
    LeaseLeasesResponse,
    LeaseRevokeRequest,
    LeaseRevokeResponse,
    LeaseTimeToLiveRequest,
    LeaseTimeToLiveResponse,
    ResponseHeader,
)
from .._errors import CliError
from ._command import Context, Flag, Registry, Usage
from ._errors import EXIT_BAD_CONNECTION, EXIT_ERROR
from ._keys import call, hex_id
from ._printer import go_document, go_json, go_quote

LEASE_NOT_FOUND = "etcdserver: requested lease not found"


def register(commands: Registry) -> None:
    commands.group("lease", "Lease related commands")
    commands.add("lease grant", grant, usage="<ttl>", help="Creates leases")
    commands.add("lease revoke", revoke, usage="<leaseID>", help="Revokes leases")
    commands.add(
        "lease timetolive",
        timetolive,
        usage="<leaseID> [options]",
        help="Get lease information",
        flags=(Flag("keys", "bool", False, "Get keys attached to this lease"),),
    )
    commands.add("lease list", list_leases, usage="", help="List all active leases")
    commands.add(
        "lease keep-alive",
        keep_alive,
        usage="[options] <leaseID>",
        help="Keeps leases alive (renew)",
        flags=(
            Flag(
                "once",
                "bool",
                False,
                "Resets the keep-alive time to its original value and exits immediately",
            ),
        ),
        bounded=False,
    )


def lease_arg(text: str) -> int:
    return hex_id(text, "bad lease ID arg")


def hex16(number: int) -> str:
    """Go's ``%016x`` of an int64."""
    return f"{number:016x}" if number >= 0 else f"-{-number:015x}"


def flat_header(header: ResponseHeader) -> dict[str, object]:
    """The header as clientv3's lease replies embed it: its fields at the top level."""
    document = go_document(header)
    assert isinstance(document, dict)
    return document


async def grant(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise Usage("lease grant command needs TTL argument")
    text = ctx.args[0]
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise Usage(f'bad TTL (strconv.ParseInt: parsing "{text}": invalid syntax)')
    request = LeaseGrantRequest(ttl=int(text))
    try:
        reply = await call(ctx, "lease/grant", request, LeaseGrantResponse, repeatable=False)
    except Exception as exc:
        raise _failed("failed to grant lease", exc) from exc

    def simple() -> None:
        ctx.printer.line(f"lease {hex16(reply.id)} granted with TTL({reply.ttl}s)")

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        ctx.printer.field("ID", reply.id)
        ctx.printer.field("TTL", reply.ttl)

    def json() -> None:
        document = {**flat_header(reply.header), "ID": reply.id, "TTL": reply.ttl}
        ctx.printer.line(go_json({**document, "Error": reply.error}))

    ctx.printer.show(reply, simple=simple, fields=fields, json=json)
    return 0


def _failed(what: str, exc: Exception) -> Exception:
    """etcdctl's ``failed to ... (<etcd's message>)``; other failures as they are."""
    from ._errors import report

    code, line = report(exc)
    if code != EXIT_ERROR:
        return exc
    return CliError(f"{what} ({line.removeprefix('Error: ')})", EXIT_ERROR)


async def revoke(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise Usage("lease revoke command needs 1 argument")
    lease = lease_arg(ctx.args[0])
    request = LeaseRevokeRequest(id=lease)
    try:
        reply = await call(ctx, "lease/revoke", request, LeaseRevokeResponse, repeatable=True)
    except Exception as exc:
        raise _failed("failed to revoke lease", exc) from exc

    def simple() -> None:
        ctx.printer.line(f"lease {hex16(lease)} revoked")

    def fields() -> None:
        ctx.printer.header_fields(reply.header)

    ctx.printer.show(reply, simple=simple, fields=fields)
    return 0


async def timetolive(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise Usage("lease timetolive command needs lease ID as argument")
    keys = ctx.on("keys")
    request = LeaseTimeToLiveRequest(id=lease_arg(ctx.args[0]), keys=keys)
    try:
        reply = await call(
            ctx, "lease/timetolive", request, LeaseTimeToLiveResponse, repeatable=True
        )
    except Exception as exc:
        raise _bad_connection(exc) from exc

    def simple() -> None:
        if reply.granted_ttl == 0 and reply.ttl == -1:
            ctx.printer.line(f"lease {hex16(reply.id)} already expired")
            return
        text = (
            f"lease {hex16(reply.id)} granted with TTL({reply.granted_ttl}s), "
            f"remaining({reply.ttl}s)"
        )
        line = text.encode()
        if keys:
            line += b", attached keys([" + b" ".join(reply.keys) + b"])"
        ctx.printer.line(line)

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        ctx.printer.field("ID", reply.id)
        ctx.printer.field("TTL", reply.ttl)
        ctx.printer.field("GrantedTTL", reply.granted_ttl)
        for key in reply.keys:
            ctx.printer.line(f'"Key" : {go_quote(key)}')

    def json() -> None:
        document = {
            **flat_header(reply.header),
            "id": reply.id,
            "ttl": reply.ttl,
            "granted-ttl": reply.granted_ttl,
            "keys": go_document(reply.keys) if reply.keys else None,
        }
        ctx.printer.line(go_json(document))

    ctx.printer.show(reply, simple=simple, fields=fields, json=json)
    return 0


def _bad_connection(exc: Exception) -> Exception:
    """A failure reported with exit 2 (etcdctl's ``ExitBadConnection``)."""
    from ._errors import report

    _code, line = report(exc)
    return CliError(line.removeprefix("Error: "), EXIT_BAD_CONNECTION)


async def list_leases(ctx: Context) -> int:
    try:
        reply = await call(
            ctx, "lease/leases", LeaseLeasesRequest(), LeaseLeasesResponse, repeatable=True
        )
    except Exception as exc:
        raise _bad_connection(exc) from exc

    def simple() -> None:
        ctx.printer.line(f"found {len(reply.leases)} leases")
        for status in reply.leases:
            ctx.printer.line(hex16(status.id))

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        for status in reply.leases:
            ctx.printer.field("ID", status.id)

    def json() -> None:
        leases = [{"id": status.id} for status in reply.leases]
        ctx.printer.line(go_json({**flat_header(reply.header), "leases": leases}))

    ctx.printer.show(reply, simple=simple, fields=fields, json=json)
    return 0


async def keep_alive(ctx: Context) -> int:
    if len(ctx.args) != 1:
        raise Usage("lease keep-alive command needs lease ID as argument")
    lease = lease_arg(ctx.args[0])
    gateway = ctx.client._gateway
    timeout = ctx.globals.command_timeout
    if ctx.on("once"):
        try:
            reply = await keep_alive_once(gateway, None, lease, timeout)
        except EtcdLeaseNotFound:
            raise CliError(LEASE_NOT_FOUND, EXIT_BAD_CONNECTION) from None
        except Exception as exc:
            raise _bad_connection(exc) from exc
        _show_keep_alive(ctx, reply)
        return 0
    # As clientv3's KeepAlive: renew at once, then every third of the TTL, until the lease
    # is gone (or etcd cannot be reached for longer than the lease's TTL).
    while True:
        try:
            reply = await keep_alive_once(gateway, None, lease, timeout)
        except EtcdLeaseNotFound:
            break
        _show_keep_alive(ctx, reply)
        await asyncio.sleep(max(reply.ttl / 3, 0.5))
    if ctx.printer.format == "simple":
        ctx.printer.line(f"lease {hex16(lease)} expired or revoked.")
    return 0


def _show_keep_alive(ctx: Context, reply: LeaseKeepAliveResponse) -> None:
    def simple() -> None:
        ctx.printer.line(f"lease {hex16(reply.id)} keepalived with TTL({reply.ttl})")

    def fields() -> None:
        ctx.printer.header_fields(reply.header)
        ctx.printer.field("ID", reply.id)
        ctx.printer.field("TTL", reply.ttl)

    def json() -> None:
        document = {**flat_header(reply.header), "ID": reply.id, "TTL": reply.ttl}
        ctx.printer.line(go_json(document))

    ctx.printer.show(reply, simple=simple, fields=fields, json=json)
