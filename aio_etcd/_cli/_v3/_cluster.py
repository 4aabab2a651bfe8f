"""``member list/add/remove/update/promote`` and ``endpoint health/status/hashkv``, as etcdctl
3.5's (``ctlv3/command/{member,ep}_command.go``)."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..._exceptions import (
    EtcdAPIUnavailable,
    EtcdConnectionFailed,
    EtcdException,
    EtcdInsufficientPermissions,
)
from ...models.v3 import (
    AlarmRequest,
    AlarmResponse,
    HashKVRequest,
    HashKVResponse,
    Member,
    MemberAddRequest,
    MemberAddResponse,
    MemberListRequest,
    MemberListResponse,
    MemberPromoteRequest,
    MemberPromoteResponse,
    MemberRemoveRequest,
    MemberRemoveResponse,
    MemberUpdateRequest,
    MemberUpdateResponse,
    RangeRequest,
    RangeResponse,
    StatusRequest,
    StatusResponse,
)
from .._errors import CliError
from ._admin import call, call_on, go_bool, go_duration, hex_id, human_bytes
from ._command import Context, Flag, Registry, Usage
from ._errors import DEADLINE, EXIT_ERROR
from ._printer import go_json, go_quote

CLUSTER = Flag("cluster", "bool", False, "use all endpoints from the cluster member list")


def register(commands: Registry) -> None:
    commands.group("member", "Membership related commands")
    commands.add("member list", member_list, usage="", help="Lists all members in the cluster")
    commands.add(
        "member add",
        member_add,
        usage="<memberName> [options]",
        help="Adds a member into the cluster",
        flags=(
            Flag("learner", "bool", False, "indicates if the new member is raft learner"),
            Flag("peer-urls", "string", "", "comma separated peer URLs for the new member."),
        ),
        check=_add_args,
    )
    commands.add(
        "member remove",
        member_remove,
        usage="<memberID>",
        help="Removes a member from the cluster",
        check=_id_args,
    )
    commands.add(
        "member update",
        member_update,
        usage="<memberID> [options]",
        help="Updates a member in the cluster",
        flags=(
            Flag("peer-urls", "string", "", "comma separated peer URLs for the updated member."),
        ),
        check=_update_args,
    )
    commands.add(
        "member promote",
        member_promote,
        usage="<memberID>",
        help="Promotes a non-voting member in the cluster",
        check=_id_args,
    )
    commands.group("endpoint", "Endpoint related commands")
    for name, run, help in (
        (
            "health",
            endpoint_health,
            "Checks the healthiness of endpoints specified in `--endpoints` flag",
        ),
        (
            "status",
            endpoint_status,
            "Prints out the status of endpoints specified in `--endpoints` flag",
        ),
        ("hashkv", endpoint_hashkv, "Prints the KV history hash for each endpoint in --endpoints"),
    ):
        flags: tuple[Flag, ...] = (CLUSTER,)
        if name == "hashkv":
            flags += (Flag("rev", "int", 0, "maximum revision to hash (default: all revisions)"),)
        commands.add(f"endpoint {name}", run, usage="", help=help, flags=flags)


# -- members ------------------------------------------------------------------------------


def member_id(text: str) -> int:
    """A member id in hex, as etcdctl reads it (``strconv.ParseUint(text, 16, 64)``)."""
    if not re.fullmatch(r"[0-9a-fA-F]+", text):  # Go takes no 0x, sign, space or _ here
        raise Usage(
            f'bad member ID arg (strconv.ParseUint: parsing "{text}": invalid syntax), '
            "expecting ID in Hex"
        )
    number = int(text, 16)
    if number >= 2**64:
        raise Usage(
            f'bad member ID arg (strconv.ParseUint: parsing "{text}": value out of range), '
            "expecting ID in Hex"
        )
    return number


def _add_args(args: list[str], flags: dict[str, object]) -> None:
    if not args:
        raise Usage("member name not provided")
    if len(args) > 1:
        message = "too many arguments"
        for arg in args:
            if arg.lower().startswith("http"):
                message += f", did you mean --peer-urls={arg}"
        raise Usage(message)
    if not flags["peer-urls"]:
        raise Usage("member peer urls not provided")


def _id_args(args: list[str], flags: dict[str, object]) -> None:
    if len(args) != 1:
        raise Usage("member ID is not provided")
    member_id(args[0])


def _update_args(args: list[str], flags: dict[str, object]) -> None:
    _id_args(args, flags)
    if not flags["peer-urls"]:
        raise Usage("member peer urls not provided")


def member_rows(members: Sequence[Member]) -> list[list[str]]:
    return [
        [
            hex_id(member.id),
            "started" if member.name else "unstarted",
            member.name,
            ",".join(member.peer_urls),
            ",".join(member.client_urls),
            go_bool(member.is_learner),
        ]
        for member in members
    ]


MEMBER_HEADER = ("ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER")


async def member_list(ctx: Context) -> int:
    reply = await call(
        ctx, "cluster/member/list", MemberListRequest(), MemberListResponse, repeatable=True
    )
    printer = ctx.printer

    def simple() -> None:
        for row in member_rows(reply.members):
            printer.line(", ".join(row))

    def fields() -> None:
        printer.header_fields(reply.header)
        for member in reply.members:
            printer.line(f'"ID" : {member.id}')
            printer.line(f'"Name" : {go_quote(member.name.encode())}')
            for peer in member.peer_urls:
                printer.line(f'"PeerURL" : {go_quote(peer.encode())}')
            for client in member.client_urls:
                printer.line(f'"ClientURL" : {go_quote(client.encode())}')
            printer.field("IsLearner", member.is_learner)
            printer.line()

    def table() -> None:
        printer.table(MEMBER_HEADER, member_rows(reply.members))

    def as_json() -> None:
        printer.line(hex_member_list(reply) if printer.hex else go_json(reply))

    printer.show(reply, simple=simple, fields=fields, table=table, json=as_json)
    return 0


def hex_member_list(reply: MemberListResponse) -> str:
    """``member list -w json --hex`` as etcdctl 3.5 writes it by hand
    (``printMemberListWithHexJSON``): the header's ids and the members' in hex strings, the
    raft term in hex without quotes (so not JSON from term 10 on), no revision, each member's
    name as it is, its URLs in JSON (``null`` for none) and no learner flag, the client URLs
    under ``clientURLS``."""
    header = reply.header
    text = (
        f'{{"header":{{"cluster_id":"{hex_id(header.cluster_id)}",'
        f'"member_id":"{hex_id(header.member_id)}","raft_term":{hex_id(header.raft_term)}}}'
    )
    members = [
        f'{{"ID":"{hex_id(member.id)}","name":"{member.name}",'
        f'"peerURLs":{_urls(member.peer_urls)},"clientURLS":{_urls(member.client_urls)}}}'
        for member in reply.members
    ]
    if members:
        text += ',"members":[' + ",".join(members) + "]"
    return text + "}"


def _urls(urls: Sequence[str]) -> str:
    """Go's JSON of a list of strings that protobuf decoded: ``null`` when empty."""
    return go_json(list(urls)) if urls else "null"


async def member_add(ctx: Context) -> int:
    name = ctx.args[0]
    urls = ctx.text("peer-urls").split(",")
    request = MemberAddRequest(peer_urls=urls, is_learner=ctx.on("learner"))
    reply = await call(ctx, "cluster/member/add", request, MemberAddResponse, repeatable=False)
    printer = ctx.printer

    def simple() -> None:
        new = reply.member.id
        printer.line(
            f"Member {hex_id(new, 16)} added to cluster {hex_id(reply.header.cluster_id, 16)}"
        )
        peers = [
            f"{name if member.id == new else member.name}={peer}"
            for member in reply.members
            for peer in member.peer_urls
        ]
        printer.line()
        printer.line(f"ETCD_NAME={go_quote(name.encode())}")
        printer.line(f"ETCD_INITIAL_CLUSTER={go_quote(','.join(peers).encode())}")
        printer.line(f"ETCD_INITIAL_ADVERTISE_PEER_URLS={go_quote(','.join(urls).encode())}")
        printer.line('ETCD_INITIAL_CLUSTER_STATE="existing"')

    printer.show(reply, simple=simple, json=lambda: printer.line(go_json(reply)))
    return 0


async def member_remove(ctx: Context) -> int:
    number = member_id(ctx.args[0])
    reply = await call(
        ctx,
        "cluster/member/remove",
        MemberRemoveRequest(id=number),
        MemberRemoveResponse,
        repeatable=False,
    )
    _changed(ctx, reply, number, "removed from")
    return 0


async def member_update(ctx: Context) -> int:
    number = member_id(ctx.args[0])
    request = MemberUpdateRequest(id=number, peer_urls=ctx.text("peer-urls").split(","))
    reply = await call(
        ctx, "cluster/member/update", request, MemberUpdateResponse, repeatable=False
    )
    _changed(ctx, reply, number, "updated in")
    return 0


async def member_promote(ctx: Context) -> int:
    number = member_id(ctx.args[0])
    reply = await call(
        ctx,
        "cluster/member/promote",
        MemberPromoteRequest(id=number),
        MemberPromoteResponse,
        repeatable=False,
    )
    _changed(ctx, reply, number, "promoted in")
    return 0


def _changed(
    ctx: Context,
    reply: MemberRemoveResponse | MemberUpdateResponse | MemberPromoteResponse,
    number: int,
    what: str,
) -> None:
    cluster = hex_id(reply.header.cluster_id, 16)
    ctx.printer.show(
        reply,
        simple=lambda: ctx.printer.line(f"Member {hex_id(number, 16)} {what} cluster {cluster}"),
        json=lambda: ctx.printer.line(go_json(reply)),
    )


# -- endpoints ----------------------------------------------------------------------------


async def endpoints(ctx: Context) -> list[str]:
    """The endpoints to ask: ``--endpoints``, or with ``--cluster`` every member's client
    URLs."""
    if not ctx.on("cluster"):
        return list(ctx.globals.endpoints)
    reply = await call(
        ctx, "cluster/member/list", MemberListRequest(), MemberListResponse, repeatable=True
    )
    return [client for member in reply.members for client in member.client_urls]


@dataclass
class Health:
    endpoint: str
    health: bool
    took: str
    error: str = ""

    def document(self) -> dict[str, object]:
        found: dict[str, object] = {
            "endpoint": self.endpoint,
            "health": self.health,
            "took": self.took,
        }
        if self.error:
            found["error"] = self.error
        return found


async def _health(ctx: Context, endpoint: str) -> Health:
    # As etcdctl: a linearizable read of "health" goes through raft; permission denied still
    # proves that, and an active alarm makes the member unhealthy.
    started = time.monotonic()
    error = ""
    try:
        await call_on(ctx, endpoint, "kv/range", RangeRequest(key=b"health"), RangeResponse)
        healthy = True
    except EtcdInsufficientPermissions:
        healthy = True
    except EtcdException as exc:
        healthy, error = False, message(exc)
    took = go_duration(time.monotonic() - started)
    if healthy:
        try:
            alarms = await call_on(
                ctx, endpoint, "maintenance/alarm", AlarmRequest(), AlarmResponse
            )
        except EtcdException:
            healthy, error = False, "Unable to fetch the alarm list"
        else:
            if alarms.alarms:
                healthy = False
                error = "Active Alarm(s): " + "".join(
                    f"{a.alarm if a.alarm in ('NOSPACE', 'CORRUPT') else 'UNKNOWN'} "
                    for a in alarms.alarms
                )
    return Health(endpoint, healthy, took, error)


def message(exc: EtcdException) -> str:
    """What etcdctl says of ``exc``: etcd's message, or that the deadline passed."""
    if isinstance(exc, EtcdConnectionFailed):
        return DEADLINE
    payload = exc.payload
    message = getattr(payload, "message", "")
    return message if isinstance(message, str) and message else str(exc)


async def endpoint_health(ctx: Context) -> int:
    found = [await _health(ctx, endpoint) for endpoint in await endpoints(ctx)]
    printer = ctx.printer

    def simple() -> None:
        for each in found:
            if each.health:
                printer.line(
                    f"{each.endpoint} is healthy: successfully committed proposal: "
                    f"took = {each.took}"
                )
            else:
                _stderr(f"{each.endpoint} is unhealthy: failed to commit proposal: {each.error}")

    def fields() -> None:
        for each in found:
            printer.line(f'"Endpoint" : {go_quote(each.endpoint.encode())}')
            printer.field("Health", each.health)
            printer.line(f'"Took" : {each.took}')
            printer.line(f'"Error" : {each.error}')
            printer.line()

    def table() -> None:
        rows = [[h.endpoint, go_bool(h.health), h.took, h.error] for h in found]
        printer.table(("ENDPOINT", "HEALTH", "TOOK", "ERROR"), rows)

    def as_json() -> None:
        printer.line(
            json.dumps([h.document() for h in found], separators=(",", ":"), ensure_ascii=False)
        )

    printer.show(found, simple=simple, fields=fields, table=table, json=as_json)
    if not all(each.health for each in found):
        raise CliError("unhealthy cluster", EXIT_ERROR)
    return 0


def _stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


STATUS_HEADER = (
    "ENDPOINT",
    "ID",
    "VERSION",
    "DB SIZE",
    "IS LEADER",
    "IS LEARNER",
    "RAFT TERM",
    "RAFT INDEX",
    "RAFT APPLIED INDEX",
    "ERRORS",
)


async def endpoint_status(ctx: Context) -> int:
    found: list[tuple[str, StatusResponse]] = []
    failed = False
    for endpoint in await endpoints(ctx):
        try:
            status = await call_on(
                ctx, endpoint, "maintenance/status", StatusRequest(), StatusResponse
            )
        except EtcdException as exc:
            _stderr(f"Failed to get the status of endpoint {endpoint} ({message(exc)})")
            failed = True
            continue
        found.append((endpoint, status))
    printer = ctx.printer

    def rows() -> list[list[str]]:
        return [
            [
                endpoint,
                hex_id(status.header.member_id),
                status.version,
                human_bytes(status.db_size),
                go_bool(status.leader == status.header.member_id),
                go_bool(status.is_learner),
                str(status.raft_term),
                str(status.raft_index),
                str(status.raft_applied_index),
                ", ".join(status.errors),
            ]
            for endpoint, status in found
        ]

    def simple() -> None:
        for row in rows():
            printer.line(", ".join(row))

    def fields() -> None:
        for endpoint, status in found:
            printer.header_fields(status.header)
            printer.line(f'"Version" : {go_quote(status.version.encode())}')
            printer.line(f'"DBSize" : {status.db_size}')
            printer.line(f'"Leader" : {status.leader}')
            printer.field("IsLearner", status.is_learner)
            printer.line(f'"RaftIndex" : {status.raft_index}')
            printer.line(f'"RaftTerm" : {status.raft_term}')
            printer.line(f'"RaftAppliedIndex" : {status.raft_applied_index}')
            printer.line(f'"Errors" : [{" ".join(status.errors)}]')
            printer.line(f'"Endpoint" : {go_quote(endpoint.encode())}')
            printer.line()

    def as_json() -> None:
        documents = [f'{{"Endpoint":{_json_text(e)},"Status":{go_json(s)}}}' for e, s in found]
        printer.line("[" + ",".join(documents) + "]")

    printer.show(
        found,
        simple=simple,
        fields=fields,
        table=lambda: printer.table(STATUS_HEADER, rows()),
        json=as_json,
    )
    return EXIT_ERROR if failed else 0


def _json_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


async def endpoint_hashkv(ctx: Context) -> int:
    found: list[tuple[str, HashKVResponse]] = []
    revision = ctx.number("rev")
    for endpoint in await endpoints(ctx):
        try:
            reply = await call_on(
                ctx,
                endpoint,
                "maintenance/hashkv",
                HashKVRequest(revision=revision),
                HashKVResponse,
            )
        except EtcdAPIUnavailable:
            raise CliError(
                f"{endpoint} serves no /v3/maintenance/hashkv: its JSON gateway routes HashKV "
                "from etcd 3.5.10 on",
                EXIT_ERROR,
            ) from None
        found.append((endpoint, reply))
    printer = ctx.printer

    def rows() -> list[list[str]]:
        return [[endpoint, str(reply.hash)] for endpoint, reply in found]

    def simple() -> None:
        for row in rows():
            printer.line(", ".join(row))

    def fields() -> None:
        for endpoint, reply in found:
            printer.header_fields(reply.header)
            printer.line(f'"Endpoint" : {go_quote(endpoint.encode())}')
            printer.line(f'"Hash" : {reply.hash}')
            printer.line()

    def as_json() -> None:
        documents = [f'{{"Endpoint":{_json_text(e)},"HashKV":{go_json(r)}}}' for e, r in found]
        printer.line("[" + ",".join(documents) + "]")

    printer.show(
        found,
        simple=simple,
        fields=fields,
        table=lambda: printer.table(("ENDPOINT", "HASH"), rows()),
        json=as_json,
    )
    return 0
