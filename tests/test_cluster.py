"""The client against a real 3-member cluster whose members die, freeze and come back."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd, free_port


@pytest.fixture(autouse=True)
def _healthy_again(healthy_cluster: LocalCluster) -> None:
    """Every test here leaves the cluster with three running members."""


@pytest.fixture
async def cluster_client(cluster: LocalCluster, api: str) -> AsyncIterator[etcd.Client]:
    async with etcd.Client(api=api, host=cluster.hosts, read_timeout=10) as client:
        yield client


def member_in_use(cluster: LocalCluster, client: etcd.Client) -> LocalEtcd:
    return next(m for m in cluster.members if m.client_url == client.base_uri)


async def test_cluster_calls_return_typed_models(
    cluster: LocalCluster, cluster_client: etcd.Client, api: str
) -> None:
    assert sorted(await cluster_client.machines()) == sorted(cluster.client_urls)

    members = await cluster_client.members()
    assert len(members) == 3
    assert sorted(m.name for m in members.values()) == ["m0", "m1", "m2"]
    some_id, some_member = next(iter(members.items()))
    assert some_member.id == some_id
    assert some_member["clientURLs"] == some_member.client_urls

    leader = await cluster_client.leader()
    assert leader.client_urls == [cluster.members[cluster.leader()].client_url]
    assert leader.id in members

    self_stats = await cluster_client.stats()
    assert self_stats.state in ("StateLeader", "StateFollower")
    assert self_stats.leader_info.leader == leader.id
    assert self_stats.name in ("m0", "m1", "m2") and self_stats.id in members

    if api == "v3":
        # v3 keeps no follower latencies nor per-operation counts: no v2 stats to map.
        with pytest.raises(etcd.EtcdAPIUnavailable, match=r"no equivalent of /v2/stats/leader"):
            await cluster_client.leader_stats()
        with pytest.raises(etcd.EtcdAPIUnavailable, match="no per-operation counts"):
            await cluster_client.store_stats()
        assert self_stats.recv_append_request_cnt == 0  # not counted by v3
    else:
        stats = await cluster_client.leader_stats()
        assert stats.leader == leader.id
        assert sorted(stats.followers) == sorted(set(members) - {leader.id})
        assert all(f.counts.success > 0 for f in stats.followers.values())

        before = (await cluster_client.store_stats()).sets_success
        await cluster_client.write(f"/t/{uuid.uuid4().hex}", "counted")
        # Writes go through raft, so every member counts them.
        assert (await cluster_client.store_stats()).sets_success == before + 1

    health = await cluster_client.health()
    assert health and health.health is True
    assert (await cluster_client.version_info()).server == await cluster_client.version()


async def test_the_member_list_is_learned_and_never_shrinks(
    cluster: LocalCluster, api: str
) -> None:
    seed = cluster.members[0]
    dead = f"http://{LOOPBACK}:{free_port()}"
    async with etcd.Client(
        api=api,
        host=((LOOPBACK, int(dead.rsplit(":", 1)[1])), (LOOPBACK, seed.port)),
        read_timeout=5,
    ) as client:
        await client.read("/")
        # The seeds stay, the dead one included; the other members are added.
        assert client.endpoints[:2] == [dead, seed.client_url]
        assert sorted(client.endpoints[2:]) == sorted(cluster.client_urls[1:])

    async with etcd.Client(api=api, host=cluster.hosts[:1], use_proxies=True) as proxied:
        await proxied.read("/")
        assert proxied.endpoints == [seed.client_url]


async def test_a_dead_first_host_does_not_stop_the_client(cluster: LocalCluster, api: str) -> None:
    dead = (LOOPBACK, free_port())
    async with etcd.Client(api=api, host=(dead, *cluster.hosts), read_timeout=5) as client:
        assert client.allow_reconnect is True
        written = await client.write(f"/t/{uuid.uuid4().hex}", "first try")
        assert written.value == "first try"
        assert client.base_uri != f"http://{LOOPBACK}:{dead[1]}"


async def test_without_reconnect_a_dead_member_is_an_error(cluster: LocalCluster, api: str) -> None:
    dead = (LOOPBACK, free_port())
    hosts = (dead, *cluster.hosts)
    async with etcd.Client(api=api, host=hosts, allow_reconnect=False) as client:
        started = time.monotonic()
        with pytest.raises(etcd.EtcdConnectionFailed) as caught:
            await client.read("/")
        assert f"{LOOPBACK}:{dead[1]}" in str(caught.value)
        assert time.monotonic() - started < 2
    async with etcd.Client(api=api, host=LOOPBACK, port=dead[1]) as single:
        assert single.allow_reconnect is False
        with pytest.raises(etcd.EtcdConnectionFailed):
            await single.read("/")


@pytest.mark.parametrize("victim", ["follower", "leader"])
@pytest.mark.parametrize("strict", [False, True], ids=["resending", "strict"])
async def test_killing_the_member_in_use_loses_no_acknowledged_write(
    cluster: LocalCluster, strict: bool, victim: str, api: str
) -> None:
    """The client starts on a follower, or on the leader, whose death starts an election
    with writes in flight."""
    leader = cluster.members[cluster.leader()]
    first = leader if victim == "leader" else next(m for m in cluster.members if m is not leader)
    hosts = sorted(cluster.hosts, key=lambda host: host[1] != first.port)
    async with etcd.Client(
        api=api, host=hosts, read_timeout=10, retry_unconditional_writes=not strict
    ) as cluster_client:
        await cluster_client.read("/")
        assert member_in_use(cluster, cluster_client) is first
        await writes_survive_a_kill(cluster, cluster_client, strict)


async def writes_survive_a_kill(
    cluster: LocalCluster, cluster_client: etcd.Client, strict: bool
) -> None:
    prefix = f"/t/{uuid.uuid4().hex}"
    await cluster_client.read("/")
    victim = member_in_use(cluster, cluster_client)
    acknowledged: dict[str, str] = {}
    unknown: list[str] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(640):
        queue.put_nowait(number)

    async def writer() -> None:
        while not queue.empty():
            number = queue.get_nowait()
            key = f"{prefix}/{number}"
            try:
                result = await cluster_client.write(key, f"value {number}")
            except etcd.EtcdOutcomeUnknown:
                unknown.append(key)
            else:
                acknowledged[key] = result.value or ""
            if len(acknowledged) == 200 and victim.running:
                victim.kill()

    await asyncio.gather(*(writer() for _ in range(16)))

    assert not victim.running
    assert cluster_client.base_uri != victim.client_url
    # Every write either was acknowledged or says its outcome is unknown; nothing else.
    assert len(acknowledged) + len(unknown) == 640
    if strict:
        # At most the writes in flight at the kill, and, when the victim led the cluster,
        # the ones a follower forwarded to it before noticing (one per writer each time).
        assert len(unknown) <= 2 * 16, unknown
    else:
        assert not unknown  # plain sets: sent again, to a member that answers
    stored = await cluster_client.read(prefix, recursive=True)
    found = {leaf.key: leaf.value for leaf in stored.leaves}
    assert {key: found.get(key) for key in acknowledged} == acknowledged
    assert set(found) <= set(acknowledged) | set(unknown)


async def test_a_frozen_member_is_left_within_the_deadline(cluster: LocalCluster, api: str) -> None:
    # A follower is frozen: a frozen leader would stall every write until the election,
    # which is not what this test is about.
    leader = cluster.members[cluster.leader()]
    follower = next(m for m in cluster.members if m is not leader)
    hosts = [(LOOPBACK, follower.port), *((LOOPBACK, m.port) for m in cluster.members)]
    async with etcd.Client(api=api, host=hosts, read_timeout=3) as client:
        key = f"/t/{uuid.uuid4().hex}"
        await client.write(key, "before")
        frozen = member_in_use(cluster, client)
        frozen.pause()
        started = time.monotonic()
        assert (await client.read(key)).value == "before"
        assert time.monotonic() - started < 3
        assert client.base_uri != frozen.client_url, (frozen.client_url, client.endpoints)
        # Later calls start with a member that answers. (Reads only: should leadership
        # have moved to the frozen member meanwhile, writes would wait for an election.)
        started = time.monotonic()
        for _ in range(5):
            assert (await client.read(key)).value == "before"
        assert time.monotonic() - started < 1


async def test_a_write_to_a_frozen_member_says_its_outcome_is_unknown(
    cluster: LocalCluster, api: str
) -> None:
    async with etcd.Client(api=api, host=cluster.hosts, read_timeout=2) as client:
        key = f"/t/{uuid.uuid4().hex}"
        await client.write(key, "before")
        member_in_use(cluster, client).pause()
        with pytest.raises(etcd.EtcdOutcomeUnknown) as caught:
            await client.write(key, "maybe", prevValue="before")
        assert isinstance(caught.value, etcd.EtcdConnectionFailed)
        assert isinstance(caught.value.cause, etcd.EtcdTimedOut)
        assert "may or may not have been applied" in str(caught.value)


async def test_when_every_member_is_down_the_error_lists_them_and_the_client_recovers(
    cluster: LocalCluster, api: str
) -> None:
    async with etcd.Client(api=api, host=cluster.hosts, read_timeout=4) as client:
        key = f"/t/{uuid.uuid4().hex}"
        await client.write(key, "survives")
        for member in cluster.members:
            member.kill()
        started = time.monotonic()
        with pytest.raises(etcd.EtcdConnectionFailed) as caught:
            await client.read(key)
        assert time.monotonic() - started < 4
        assert all(url in str(caught.value) for url in cluster.client_urls)

        for member in cluster.members:
            member.restart(wait=False)
        deadline = time.monotonic() + 30
        assert all(member.wait_ready(deadline) for member in cluster.members)
        assert (await client.read(key)).value == "survives"


async def test_writes_resume_after_the_leader_dies(cluster: LocalCluster, api: str) -> None:
    leader = cluster.members[cluster.leader()]
    others = [(LOOPBACK, m.port) for m in cluster.members if m is not leader]
    hosts = ((LOOPBACK, leader.port), *others)
    async with etcd.Client(api=api, host=hosts, read_timeout=15) as client:
        prefix = f"/t/{uuid.uuid4().hex}"
        await client.write(f"{prefix}/0", "0")
        leader.kill()
        # Within one election timeout of the death, a follower still forwards writes to
        # the dead leader, and those time out with an unknown outcome. After it, writes
        # are refused as "no leader" until the election ends, which the client retries.
        await asyncio.sleep(1.2)
        for number in range(1, 30):
            await client.write(f"{prefix}/{number}", str(number))
        stored = await client.read(prefix, recursive=True)
        assert sorted(int(leaf.value or "-1") for leaf in stored.leaves) == list(range(30))
        assert (await client.leader()).client_urls != [leader.client_url]


async def add_member(client: etcd.Client, peer: str) -> etcd.Member:
    """etcd refuses (HTTP 500) to add a member until all have been connected for 5 s."""
    deadline = time.monotonic() + 15
    while True:
        try:
            return await client.add_member(peer)
        except etcd.EtcdException as error:
            refused_for_now = "strict reconfiguration check" in str(error)
            if error.status != 500 or not refused_for_now or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def test_members_can_be_added_changed_and_removed(
    cluster: LocalCluster, cluster_client: etcd.Client
) -> None:
    peer = f"http://{LOOPBACK}:{free_port()}"
    added = await add_member(cluster_client, peer)
    try:
        assert added.peer_urls == [peer] and added.name == "" and added.client_urls == []
        assert (await cluster_client.members())[added.id].peer_urls == [peer]
        # v2 says "membership: peerURL exists", v3 "Peer URLs already exists".
        with pytest.raises(etcd.EtcdAlreadyExist, match=r"(?i)peer ?URLs? (already )?exists"):
            await cluster_client.update_member(added.id, [cluster.members[0].peer_url])

        moved = f"http://{LOOPBACK}:{free_port()}"
        await cluster_client.update_member(added.id, [moved])
        assert (await cluster_client.members())[added.id].peer_urls == [moved]
    finally:
        await cluster_client.remove_member(added.id)
    assert added.id not in await cluster_client.members()
    with pytest.raises(etcd.EtcdKeyNotFound):
        await cluster_client.remove_member(added.id)
    with pytest.raises(etcd.EtcdKeyNotFound):
        await cluster_client.update_member("123abc", [peer])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.add_member([]), "peer_urls"),
        (lambda c: c.add_member(["127.0.0.1:2380"]), "peer_urls"),
        (lambda c: c.remove_member("not hex"), "member_id"),
        (lambda c: c.update_member(17, ["http://127.0.0.1:1"]), "member_id"),
    ],
)
async def test_member_arguments_are_checked_first(
    call: object, message: str, cluster_client: etcd.Client
) -> None:
    assert callable(call)
    with pytest.raises((TypeError, etcd.EtcdValueError), match=message):
        await call(cluster_client)


async def test_a_reply_from_another_cluster_is_refused(cluster: LocalCluster, api: str) -> None:
    with LocalEtcd(name="other") as other:
        async with etcd.Client(
            api=api, host=((LOOPBACK, other.port), cluster.hosts[0]), use_proxies=True
        ) as client:
            await client.read("/")
            first_cluster = client.expected_cluster_id
            assert first_cluster
            other.kill()
            with pytest.raises(etcd.EtcdClusterIdChanged, match=first_cluster):
                await client.read("/")
            # The new cluster is expected from now on.
            await client.read("/")
            assert client.expected_cluster_id not in (None, first_cluster)

    async with etcd.Client(api=api, host=cluster.hosts, expected_cluster_id="123") as pinned:
        for _ in range(2):
            with pytest.raises(etcd.EtcdClusterIdChanged):
                await pinned.read("/")


async def test_a_set_right_after_the_leader_dies_succeeds(cluster: LocalCluster, api: str) -> None:
    """A follower forwards the write to the dead leader and answers, after etcd's request
    timeout, errorCode 300 "request timed out, possibly due to previous leader failure".
    A plain set is sent again (as etcd's own v2 client does), and lands."""
    leader = cluster.members[cluster.leader()]
    others = tuple((LOOPBACK, m.port) for m in cluster.members if m is not leader)
    async with etcd.Client(api=api, host=others, read_timeout=30) as client:
        key = f"/t/{uuid.uuid4().hex}"
        await client.write(key, "v1")
        leader.kill()
        started = time.monotonic()
        written = await client.write(key, "v2")
        assert time.monotonic() - started < 15
        assert written.value == "v2"
        assert (await client.read(key, quorum=True)).value == "v2"
