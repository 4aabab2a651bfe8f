"""``alarm list/disarm``, ``defrag`` and ``snapshot save``, as etcdctl 3.5's
(``ctlv3/command/{alarm,defrag,snapshot}_command.go``)."""

from __future__ import annotations

import sys

from ..._exceptions import EtcdException
from ...models.v3 import (
    AlarmMember,
    AlarmRequest,
    AlarmResponse,
    DefragmentRequest,
    DefragmentResponse,
)
from .._errors import CliError
from ._admin import call, call_on, url
from ._cluster import CLUSTER, endpoints, message
from ._command import Context, Flag, Registry, Usage
from ._errors import EXIT_BAD_FEATURE, EXIT_ERROR, EXIT_INTERRUPTED
from ._printer import go_json


def register(commands: Registry) -> None:
    commands.group("alarm", "Alarm related commands")
    commands.add("alarm list", alarm_list, usage="", help="Lists all alarms")
    commands.add("alarm disarm", alarm_disarm, usage="", help="Disarms all alarms")
    commands.add(
        "defrag",
        defrag,
        usage="",
        help="Defragments the storage of the etcd members with given endpoints",
        flags=(
            CLUSTER,
            Flag(
                "data-dir",
                "string",
                "",
                "Optional. If present, defragments a data directory not in use by etcd.",
            ),
        ),
    )
    commands.group("snapshot", "Manages etcd node snapshots")
    commands.add(
        "snapshot save",
        snapshot_save,
        usage="<filename>",
        help="Stores an etcd node backend snapshot to a given file",
        check=_one_file,
        bounded=False,
    )


def alarm_text(alarm: AlarmMember) -> str:
    """Go's ``%+v`` of an ``AlarmMember`` (its protobuf text form)."""
    return f"memberID:{alarm.member_id} alarm:{alarm.alarm} "


def _show_alarms(ctx: Context, reply: AlarmResponse, *, header: bool) -> None:
    printer = ctx.printer

    def simple() -> None:
        for alarm in reply.alarms:
            printer.line(alarm_text(alarm))

    def fields() -> None:
        printer.header_fields(reply.header)
        for alarm in reply.alarms:
            printer.line(f'"MemberID" : {alarm.member_id}')
            printer.line(f'"AlarmType" : {alarm.alarm}')
            printer.line()

    printer.show(
        reply,
        simple=simple,
        fields=fields if header else None,
        json=lambda: printer.line(go_json(reply)),
    )


async def alarm_list(ctx: Context) -> int:
    reply = await call(ctx, "maintenance/alarm", AlarmRequest(), AlarmResponse, repeatable=True)
    _show_alarms(ctx, reply, header=True)
    return 0


async def alarm_disarm(ctx: Context) -> int:
    # As clientv3's AlarmDisarm of every alarm: one request per alarm raised, the alarms
    # cleared gathered in a reply without a header.
    raised = await call(ctx, "maintenance/alarm", AlarmRequest(), AlarmResponse, repeatable=True)
    cleared: list[AlarmMember] = []
    for alarm in raised.alarms:
        request = AlarmRequest(action="DEACTIVATE", member_id=alarm.member_id, alarm=alarm.alarm)
        reply = await call(ctx, "maintenance/alarm", request, AlarmResponse, repeatable=True)
        cleared += reply.alarms
    _show_alarms(ctx, AlarmResponse(alarms=cleared), header=False)
    return 0


async def defrag(ctx: Context) -> int:
    if ctx.text("data-dir"):
        raise Usage(
            "defragmenting a data directory needs etcdutl: etcdutl defrag --data-dir "
            f"{ctx.text('data-dir')}",
            EXIT_BAD_FEATURE,
        )
    failed = False
    for endpoint in await endpoints(ctx):
        try:
            await call_on(
                ctx, endpoint, "maintenance/defragment", DefragmentRequest(), DefragmentResponse
            )
        except EtcdException as exc:
            sys.stderr.write(f"Failed to defragment etcd member[{endpoint}] ({message(exc)})\n")
            failed = True
            continue
        ctx.printer.line(f"Finished defragmenting etcd member[{endpoint}]")
    return EXIT_ERROR if failed else 0


def _one_file(args: list[str], flags: dict[str, object]) -> None:
    if len(args) != 1:
        raise Usage("snapshot save expects one argument")


async def snapshot_save(ctx: Context) -> int:
    if len(ctx.globals.endpoints) != 1:
        raise Usage(
            "snapshot must be requested to one selected node, not multiple "
            f"[{' '.join(ctx.globals.endpoints)}]",
            EXIT_INTERRUPTED,
        )
    path = ctx.args[0]
    part = path + ".part"
    try:
        with open(part, "wb"):  # noqa: ASYNC230 - etcdctl's check, before any I/O to etcd
            pass
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise CliError(f"could not open {part} (open {part}: {reason})", EXIT_INTERRUPTED) from None
    endpoint = url(ctx, ctx.globals.endpoints[0])
    await ctx.client.maintenance.snapshot(path, endpoint=endpoint, timeout=None)
    ctx.printer.line(f"Snapshot saved at {path}")
    return 0
