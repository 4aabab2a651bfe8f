"""Leader election: one leader at a time, succession on resign and on death, observers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd
from aio_etcd.election import Election


async def test_candidates_lead_in_turn_and_observers_see_each_change_once(
    server: LocalEtcd, api: str
) -> None:
    name = uuid.uuid4().hex
    clients = [etcd.Client(port=server.port, api=api) for _ in range(4)]
    try:
        watcher = Election(clients[3], name, ttl=2)
        assert await watcher.leader() is None
        observed: list[str | None] = []

        async def observe() -> None:
            async for leader in watcher.observe():
                observed.append(leader)
                if leader == "c":
                    return

        observing = asyncio.create_task(observe())
        await until(lambda: observed == [None], observed)  # its first look, before anyone stands
        elections = [Election(client, name, ttl=2) for client in clients[:3]]
        assert await elections[0].campaign("a") is True

        async def lead_until_cancelled(election: Election, value: str) -> None:
            await election.campaign(value)
            await asyncio.sleep(3600)  # cancelled here, leading, without resigning

        b = asyncio.create_task(lead_until_cancelled(elections[1], "b"))
        await asyncio.sleep(0.2)  # b queues before c
        c = asyncio.create_task(elections[2].campaign("c"))
        await asyncio.sleep(0.3)
        assert await watcher.leader() == "a"
        assert [e.is_leader for e in elections] == [True, False, False]

        await elections[0].resign()  # b is next in the queue
        for _ in range(50):
            if elections[1].is_leader:
                break
            await asyncio.sleep(0.05)
        assert await watcher.leader() == "b" and elections[1].is_leader

        await asyncio.sleep(2.5)  # b leads on past its TTL: it refreshes while alive
        assert await watcher.leader() == "b" and not c.done()
        loop = asyncio.get_running_loop()
        b.cancel()  # b dies; its key expires after the TTL
        died_at = loop.time()
        assert await asyncio.wait_for(c, 10) is True
        assert elections[2].is_leader
        assert loop.time() - died_at > 0.5  # not before b's key ran out

        await asyncio.wait_for(observing, 5)
        assert observed == [None, "a", "b", "c"]
        await elections[2].resign()
        assert await watcher.leader() is None
    finally:
        for client in clients:
            await client.close()


async def test_a_campaign_that_times_out_or_is_cancelled_leaves_the_queue(
    server: LocalEtcd, api: str
) -> None:
    name = uuid.uuid4().hex
    async with etcd.Client(port=server.port, api=api) as client:
        leader = Election(client, name)
        assert await leader.campaign("first")
        rival = Election(client, name)
        assert await rival.campaign("second", timeout=0.3) is False
        waiting = asyncio.create_task(rival.campaign("second"))
        await asyncio.sleep(0.2)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        queue = await client.read(leader.path)
        assert [node.value for node in queue.node.nodes or ()] == ["first"]
        await leader.resign()


def leads(election: Election) -> bool:
    """``election.is_leader``, read afresh (mypy would keep what an earlier assert said)."""
    return election.is_leader


async def until(condition: Callable[[], bool], shown: object = None) -> None:
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the condition never came true ({shown})")


def test_bad_arguments_are_refused() -> None:
    client = etcd.Client()
    for name in ("", "a//b", "/a", "a/..", "./a"):
        with pytest.raises(etcd.EtcdValueError, match="name"):
            Election(client, name)
    with pytest.raises(etcd.EtcdValueError, match="ttl"):
        Election(client, "x", ttl=0)


async def test_resigning_ends_wait_lost_and_on_lost_can_be_given_in_advance(
    server: LocalEtcd, api: str
) -> None:
    name = uuid.uuid4().hex
    async with etcd.Client(port=server.port, api=api) as client:
        election = Election(client, name)
        called: list[str] = []
        election.on_lost(lambda: called.append("lost"))  # before campaign()
        assert await election.campaign("a") is True
        waiting = asyncio.create_task(election.wait_lost())
        await asyncio.sleep(0.1)
        assert not waiting.done()
        await election.resign()
        await asyncio.wait_for(waiting, 2)
        assert called == []  # resigning is not losing

        assert await election.campaign("a") is True
        await client.delete(next((await client.read(election.path)).children).key)
        await asyncio.wait_for(election.wait_lost(), 5)
        assert called == ["lost"] and not leads(election)
        await election.resign()


async def test_after_losing_the_lead_a_candidate_campaigns_again_without_resigning(
    server: LocalEtcd, api: str
) -> None:
    name = uuid.uuid4().hex
    async with etcd.Client(port=server.port, api=api) as client:
        election = Election(client, name)
        observed: list[str | None] = []

        async def observe() -> None:
            async for leader in Election(client, name).observe():
                observed.append(leader)

        observing = asyncio.create_task(observe())
        await until(lambda: observed == [None], observed)
        assert await election.campaign("a") is True
        await until(lambda: observed == [None, "a"], observed)
        first_token = election.fencing_token
        with pytest.raises(RuntimeError, match="resign"):
            await election.campaign("a")  # leading: refused
        queue = await client.read(election.path)
        await client.delete(next(queue.children).key)
        await asyncio.wait_for(election.wait_lost(), 5)
        await until(lambda: observed == [None, "a", None], observed)

        rival = Election(client, name)
        assert await rival.campaign("b") is True
        standing = asyncio.create_task(election.campaign("a"))
        await asyncio.sleep(0.3)
        assert not standing.done() and not leads(election)  # queued behind b
        await rival.resign()
        assert await asyncio.wait_for(standing, 5) is True
        assert leads(election)
        assert first_token is not None and election.fencing_token is not None
        assert rival.fencing_token is None  # resigned
        assert election.fencing_token > first_token
        await election.resign()
        await until(lambda: len(observed) == 6, observed)
        observing.cancel()
        # A new term with the same value is a change of leader too.
        assert observed == [None, "a", None, "b", "a", None]


async def test_an_observer_reports_every_term_even_one_over_before_it_looked_again(
    server: LocalEtcd, api: str
) -> None:
    name = uuid.uuid4().hex
    async with etcd.Client(port=server.port, api=api) as client:
        observing = Election(client, name).observe()
        assert await anext(observing) is None
        # While the observer is not iterated, three terms begin and end.
        a, b = Election(client, name), Election(client, name)
        assert await a.campaign("a") is True
        waiting = asyncio.create_task(b.campaign("b"))
        await asyncio.sleep(0.3)  # b queues behind a
        await a.resign()
        assert await asyncio.wait_for(waiting, 5) is True
        await b.resign()
        assert await a.campaign("a") is True
        await a.resign()
        seen = [await asyncio.wait_for(anext(observing), 5) for _ in range(5)]
        await observing.aclose()
        assert seen == ["a", "b", None, "a", None]


async def test_fencing_tokens_grow_with_every_leader(server: LocalEtcd, api: str) -> None:
    name = uuid.uuid4().hex
    async with etcd.Client(port=server.port, api=api) as client:
        tokens: list[int | None] = []
        for value in ("a", "b", "a"):
            election = Election(client, name)
            assert election.fencing_token is None
            await election.campaign(value)
            tokens.append(election.fencing_token)
            await election.resign()
        known = [t for t in tokens if t is not None]
        assert known == sorted(known) and len(set(known)) == 3


async def test_a_name_may_be_a_path_nesting_under_another(server: LocalEtcd, api: str) -> None:
    top = uuid.uuid4().hex
    async with etcd.Client(port=server.port, api=api) as client:
        # "0" sorts before every in-order key of the outer election's queue.
        db = Election(client, f"{top}/0", ttl=5)
        assert db.path.endswith(f"/{top}/0")
        outer = Election(client, top, ttl=5)
        assert await db.campaign("db-1") is True
        # The nested election's directory is no candidate of the outer one.
        assert await outer.leader() is None
        assert await outer.campaign("outer-1", timeout=5) is True
        assert (await db.leader(), await outer.leader()) == ("db-1", "outer-1")
        await db.resign()
        await outer.resign()
