"""member and cluster-health, against the 3-member cluster (left as it was found)."""

from __future__ import annotations

import asyncio
import re
import time

import aio_etcd as etcd
from aio_etcd._cli._errors import EXIT_BAD_ARGS, EXIT_CLUSTER_NOT_HEALTHY
from aio_etcd._server import LOOPBACK, LocalCluster, free_port

from .test_cli import Ran, cli, together

MEMBER_LINE = re.compile(
    r"(?P<id>[0-9a-f]+): name=(?P<name>\S+) peerURLs=(?P<peers>\S+) "
    r"clientURLs=(?P<clients>\S+) isLeader=(?P<leader>true|false)"
)


def test_member_list_and_cluster_health(etcd_cluster: LocalCluster) -> None:
    url = etcd_cluster.client_urls[0]
    listed, as_json, health = together(
        lambda: cli("member", "list", endpoint=url),
        lambda: cli("-o", "json", "member", "list", endpoint=url),
        lambda: cli("cluster-health", endpoint=url),
    )
    assert listed.code == 0 and listed.err == ""
    found = [MEMBER_LINE.fullmatch(line) for line in listed.out.splitlines()]
    assert all(found) and len(found) == 3, listed.out
    members = {m["name"]: m for m in found if m}
    assert sorted(members) == ["m0", "m1", "m2"]
    assert [m["leader"] for m in members.values()].count("true") == 1
    leader_name = next(name for name, m in members.items() if m["leader"] == "true")
    assert members[leader_name]["clients"] == etcd_cluster.client_urls[etcd_cluster.leader()]
    for index, member in enumerate(etcd_cluster.members):
        assert members[f"m{index}"]["peers"] == member.peer_url

    document = as_json.json()
    listed_json = document["members"]
    assert isinstance(listed_json, list)
    assert {m["id"]: m["isLeader"] for m in listed_json} == {
        m["id"]: m["leader"] == "true" for m in members.values()
    }
    assert sorted(m["clientURLs"][0] for m in listed_json) == sorted(etcd_cluster.client_urls)

    assert health.code == 0, health
    lines = health.out.splitlines()
    assert lines[-1] == "cluster is healthy"
    assert sorted(lines[:-1]) == sorted(
        f"member {m['id']} is healthy: got healthy result from {m['clients']}"
        for m in members.values()
    )


def test_member_add_update_and_remove(etcd_cluster: LocalCluster) -> None:
    url = etcd_cluster.client_urls[0]
    peer = f"http://{LOOPBACK}:{free_port()}"
    added = add_member(url, "newbie", peer)
    member_id = ""
    try:
        assert added.code == 0, added
        found = re.match(r"Added member named newbie with ID ([0-9a-f]+) to cluster\n\n", added.out)
        assert found, added.out
        member_id = found.group(1)
        settings = added.out.splitlines()[2:]
        assert settings[0] == 'ETCD_NAME="newbie"'
        assert settings[1].startswith('ETCD_INITIAL_CLUSTER="') and f"newbie={peer}" in settings[1]
        assert f"m0={etcd_cluster.members[0].peer_url}" in settings[1]
        assert settings[2] == 'ETCD_INITIAL_CLUSTER_STATE="existing"'

        moved = f"http://{LOOPBACK}:{free_port()}"
        updated = cli("member", "update", member_id, moved, endpoint=url)
        assert updated == Ran(0, f"Updated member with ID {member_id} in cluster\n", "")
        assert (
            f"{member_id}[unstarted]: peerURLs={moved}\n" in cli("member", "list", endpoint=url).out
        )

        removed = cli("member", "remove", member_id, endpoint=url)
        assert removed == Ran(0, f"Removed member {member_id} from cluster\n", "")
    finally:
        if member_id:
            asyncio.run(remove_if_there(etcd_cluster, member_id))

    again, by_name = together(
        lambda: cli("member", "remove", member_id, endpoint=url),
        lambda: cli("member", "remove", "m1", endpoint=url),
    )
    assert again.code == EXIT_BAD_ARGS
    assert again.err == f"Couldn't find a member in the cluster with an ID of {member_id}.\n"
    assert by_name.code == EXIT_BAD_ARGS
    assert "Found a member named m1; if this is correct, please use its ID" in by_name.err


def test_cluster_health_reports_a_dead_member(etcd_cluster: LocalCluster) -> None:
    leader = etcd_cluster.leader()
    victim = etcd_cluster.members[(leader + 1) % 3]
    listed = cli("-o", "json", "member", "list", endpoint=etcd_cluster.client_urls[leader])
    members = listed.json()["members"]
    assert isinstance(members, list)
    victim_id = next(m["id"] for m in members if m["name"] == victim.name)
    victim.kill()  # the fixture starts it again

    health = cli("--timeout", "3s", "cluster-health", endpoint=etcd_cluster.client_urls[leader])
    assert health.code == EXIT_CLUSTER_NOT_HEALTHY, health
    lines = health.out.splitlines()
    assert lines[-1] == "cluster is degraded"
    assert any(
        line.startswith(
            f"failed to check the health of member {victim_id} on {victim.client_url}: "
        )
        for line in lines
    )
    assert f"member {victim_id} is unreachable: [{victim.client_url}] are all unreachable" in lines
    assert sum("is healthy: got healthy result" in line for line in lines) == 2


def add_member(url: str, name: str, peer: str) -> Ran:
    """etcd refuses to add a member until every member has been up for 5 s: ask again."""
    deadline = time.monotonic() + 20
    while True:
        added = cli("member", "add", name, peer, endpoint=url)
        if added.code == 0 or "reconfiguration" not in added.err or time.monotonic() > deadline:
            return added
        time.sleep(0.5)


async def remove_if_there(cluster: LocalCluster, member_id: str) -> None:
    async with etcd.Client(host=cluster.hosts) as client:
        if member_id in await client.members():
            await client.remove_member(member_id)
