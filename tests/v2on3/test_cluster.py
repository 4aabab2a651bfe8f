"""Reads on v3 through a cluster that lost its quorum: local unless quorum=True."""

from __future__ import annotations

import uuid

import pytest

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalCluster


async def test_local_reads_answer_without_a_quorum_and_quorum_reads_do_not(
    healthy_cluster: LocalCluster,
) -> None:
    survivor, *others = healthy_cluster.members
    key = f"/t/{uuid.uuid4().hex}"
    async with etcd.Client(host=LOOPBACK, port=survivor.port, api="v3", read_timeout=5) as client:
        written = await client.write(key, "before")
        for member in others:
            member.kill()
        # The member's own copy (serializable), as v2's default reads were.
        local = await client.read(key)
        assert (local.value, local.modified_index) == ("before", written.modified_index)
        with pytest.raises((etcd.EtcdConnectionFailed, etcd.EtcdLeaderElectionInProgress)):
            await client.read(key, quorum=True, timeout=2)
