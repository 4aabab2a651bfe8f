"""The pytest plugin, as a user's project sees it: a separate pytest run with its fixtures."""

from __future__ import annotations

import pytest

USERS_TESTS = """
import asyncio

import aio_etcd
from aio_etcd.testing import LocalCluster, LocalEtcd


def test_server(etcd_server: LocalEtcd) -> None:
    assert etcd_server.client_url.startswith("http://127.0.0.1:")


async def test_client(etcd_client: aio_etcd.Client) -> None:
    await etcd_client.write("/user/k", "v")
    assert (await etcd_client.read("/user/k")).value == "v"


def test_kill_the_leader(etcd_cluster: LocalCluster) -> None:
    etcd_cluster.members[etcd_cluster.leader()].kill()
    assert sum(member.running for member in etcd_cluster.members) == 2


def test_the_cluster_is_whole_again(etcd_cluster: LocalCluster) -> None:
    assert all(member.running for member in etcd_cluster.members)

    async def members() -> int:
        async with aio_etcd.Client(host=etcd_cluster.hosts) as client:
            return len(await client.members())

    assert asyncio.run(members()) == 3


def test_stop_a_member(etcd_cluster: LocalCluster) -> None:
    etcd_cluster.members[0].stop()  # its data goes too
    assert etcd_cluster.members[0].stopped


def test_the_cluster_is_whole_after_a_stop(etcd_cluster: LocalCluster) -> None:
    test_the_cluster_is_whole_again(etcd_cluster)
"""


def test_the_fixtures_in_a_project_of_its_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_users=USERS_TESTS)
    pytester.makeini("[pytest]\nasyncio_mode = auto\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=6)


USERS_V3_TESTS = """
import asyncio

import pytest

import aio_etcd
from aio_etcd.testing import LocalEtcd

clients: list[aio_etcd.Etcd3Client] = []


def test_the_v3_server_has_no_v2(etcd3_server: LocalEtcd) -> None:
    async def machines() -> None:
        async with aio_etcd.Client(port=etcd3_server.port) as client:
            await client.machines()

    with pytest.raises(aio_etcd.EtcdAPIUnavailable):
        asyncio.run(machines())


async def test_put_get(etcd3_client: aio_etcd.Etcd3Client) -> None:
    clients.append(etcd3_client)
    await etcd3_client.put("/user3/k", "v")
    kv = await etcd3_client.get("/user3/k")
    assert kv is not None and kv.value == b"v"


async def test_the_client_was_closed(etcd3_client: aio_etcd.Etcd3Client) -> None:
    assert clients[0].closed and not etcd3_client.closed


async def test_watch(etcd3_client: aio_etcd.Etcd3Client) -> None:
    start = (await etcd3_client.put("/user3/w/a", "1")).header.revision
    async with etcd3_client.watch_prefix("/user3/w/", start_revision=start) as events:
        first = await asyncio.wait_for(anext(events), 10)
        await etcd3_client.put("/user3/w/b", "2")  # while the watch runs
        second = await asyncio.wait_for(anext(events), 10)
    assert (first.kv.key, first.kv.value) == (b"/user3/w/a", b"1")
    assert (second.type, second.kv.key, second.kv.value) == ("PUT", b"/user3/w/b", b"2")


async def test_a_wrong_value_fails(etcd3_client: aio_etcd.Etcd3Client) -> None:
    await etcd3_client.put("/user3/wrong", "actual")
    kv = await etcd3_client.get("/user3/wrong")
    assert kv is not None
    assert kv.value == b"expected"
"""


def test_the_v3_fixtures_in_a_project_of_its_own(pytester: pytest.Pytester) -> None:
    """etcd3_server and etcd3_client, from a user's test file: the tests that should pass
    pass, and a wrong assertion is reported as the failure it is."""
    pytester.makepyfile(test_users_v3=USERS_V3_TESTS)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-q")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_users_v3.py::test_a_wrong_value_fails*"])
    result.stdout.fnmatch_lines(["*assert b'actual' == b'expected'*"])
