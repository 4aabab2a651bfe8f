"""member list|add|remove|update, and cluster-health."""

from __future__ import annotations

import asyncio
import json
import sys

from .._exceptions import EtcdConnectionFailed, EtcdException
from ..models import Member
from ._command import Context, Registry
from ._errors import EXIT_BAD_ARGS, EXIT_CLUSTER_NOT_HEALTHY, EXIT_SUCCESS, CliError
from ._settings import Settings

HEALTH_INTERVAL = 10.0
"""Seconds between two checks of ``cluster-health --forever``, as etcdctl waits."""


def register(commands: Registry) -> None:
    member = commands.group("member", help="member add, remove, list and update subcommands")
    member.add("list", _list, help="enumerate existing cluster members", style="admin")
    add = member.add("add", _add, help="add a new member to the etcd cluster", style="admin")
    add.add_argument("name", help="the new member's name")
    add.add_argument("peer_url", metavar="peerURL", help="where the other members reach it")
    remove = member.add(
        "remove", _remove, help="remove an existing member from the etcd cluster", style="admin"
    )
    remove.add_argument("member_id", metavar="memberID")
    update = member.add(
        "update", _update, help="update an existing member in the etcd cluster", style="admin"
    )
    update.add_argument("member_id", metavar="memberID")
    update.add_argument("peer_urls", metavar="peerURLs", help="comma-separated peer URLs")

    health = commands.add(
        "cluster-health",
        _cluster_health,
        help="check the health of the etcd cluster",
        interrupted=EXIT_SUCCESS,
        bounded=False,
    )
    health.add_argument(
        "--forever",
        "-f",
        action="store_true",
        help=f"check every {HEALTH_INTERVAL:g} seconds until Ctrl-C",
    )


async def _list(ctx: Context) -> int:
    members = await ctx.client.members()
    leader = await ctx.client.leader()
    if ctx.out.format == "json":
        listed = [
            {**member.model_dump(by_alias=True), "isLeader": member.id == leader.id}
            for member in members.values()
        ]
        ctx.out.json({"members": listed})
        return EXIT_SUCCESS
    for member in members.values():
        peers = ",".join(member.peer_urls)
        if not member.name:
            ctx.out.line(f"{member.id}[unstarted]: peerURLs={peers}")
            continue
        ctx.out.line(
            f"{member.id}: name={member.name} peerURLs={peers} "
            f"clientURLs={','.join(member.client_urls)} "
            f"isLeader={'true' if member.id == leader.id else 'false'}"
        )
    return EXIT_SUCCESS


async def _add(ctx: Context) -> int:
    name: str = ctx.args.name
    added = await ctx.client.add_member(ctx.args.peer_url)
    ctx.out.line(f"Added member named {name} with ID {added.id} to cluster")
    members = await ctx.client.members()
    initial = [
        f"{name if member.id == added.id else member.name}={url}"
        for member in members.values()
        for url in member.peer_urls
    ]
    # What to start the new member with.
    ctx.out.line()
    ctx.out.line(f"ETCD_NAME={json.dumps(name)}")
    ctx.out.line(f"ETCD_INITIAL_CLUSTER={json.dumps(','.join(initial))}")
    ctx.out.line('ETCD_INITIAL_CLUSTER_STATE="existing"')
    return EXIT_SUCCESS


async def _remove(ctx: Context) -> int:
    wanted: str = ctx.args.member_id
    members = await ctx.client.members()
    for member in members.values():
        if member.name == wanted:
            print(
                f"Found a member named {member.name}; if this is correct, please use its ID, "
                f"eg: aio-etcd member remove {member.id}",
                file=sys.stderr,
            )
    if wanted not in members:
        raise CliError(
            f"Couldn't find a member in the cluster with an ID of {wanted}.",
            EXIT_BAD_ARGS,
            prefixed=False,
        )
    await ctx.client.remove_member(wanted)
    ctx.out.line(f"Removed member {wanted} from cluster")
    return EXIT_SUCCESS


async def _update(ctx: Context) -> int:
    urls = [url for url in ctx.args.peer_urls.split(",") if url]
    await ctx.client.update_member(ctx.args.member_id, urls)
    ctx.out.line(f"Updated member with ID {ctx.args.member_id} in cluster")
    return EXIT_SUCCESS


async def _cluster_health(ctx: Context) -> int:
    try:
        members = list((await ctx.client.members()).values())
    except EtcdException:
        ctx.out.line("cluster may be unhealthy: failed to list members")
        raise
    while True:
        checks = await asyncio.gather(*(_check(ctx.settings, member) for member in members))
        for lines, _ in checks:
            for line in lines:
                ctx.out.line(line)
        healthy = sum(ok for _, ok in checks)
        if healthy == len(members):
            ctx.out.line("cluster is healthy")
        elif healthy == 0:
            ctx.out.line("cluster is unavailable")
        else:
            ctx.out.line("cluster is degraded")
        if not ctx.args.forever:
            return EXIT_SUCCESS if healthy == len(members) else EXIT_CLUSTER_NOT_HEALTHY
        ctx.out.line(f"\nnext check after {HEALTH_INTERVAL:g} second...\n")
        await asyncio.sleep(HEALTH_INTERVAL)


async def _check(settings: Settings, member: Member) -> tuple[list[str], bool]:
    """Ask each client URL of ``member`` in turn until one answers: what to print, and
    whether it is healthy."""
    if not member.client_urls:
        return [f"member {member.id} is unreachable: no available published client urls"], False
    lines = []
    for url in member.client_urls:
        try:
            async with settings.client(url) as client:
                health = await client.health()
        except EtcdException as exc:
            detail = exc.cause if isinstance(exc, EtcdConnectionFailed) and exc.cause else exc
            lines.append(f"failed to check the health of member {member.id} on {url}: {detail}")
            continue
        if health:
            lines.append(f"member {member.id} is healthy: got healthy result from {url}")
            return lines, True
        lines.append(f"member {member.id} is unhealthy: got unhealthy result from {url}")
        return lines, False
    lines.append(
        f"member {member.id} is unreachable: [{' '.join(member.client_urls)}] are all unreachable"
    )
    return lines, False
