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
