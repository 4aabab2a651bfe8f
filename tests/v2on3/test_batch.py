"""Reads that start together share one read-only txn (``aio_etcd/_v2on3/_batch.py``), and
each still gets the answer it would get alone, its own deadline and its own cancellation.

Most tests let reads share a txn whatever the server's version (:func:`share`): they cut no
txn off, which is what crashes etcd 3.5.0 to 3.5.4. The tests that close the client or let
every reader time out leave the choice to the client."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd
from aio_etcd._v2on3._batch import shares_safely
from aio_etcd.auth import Auth, EtcdRole, EtcdUser


class Counting(etcd.LeanTransport):
    """The default transport, counting the requests per path and the ranges per txn."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: collections.Counter[str] = collections.Counter()
        self.txn_sizes: list[int] = []

    async def request(self, method: str, url: str, **kwargs: Any) -> etcd.HttpResponse:
        path = urlsplit(url).path.removeprefix("/v3/")
        self.paths[path] += 1
        body = kwargs.get("body")
        if path == "kv/txn" and body is not None:
            self.txn_sizes.append(body.count(b'"request_range"'))
        return await super().request(method, url, **kwargs)


def share(client: etcd.Client, port: int) -> etcd.Client:
    """Let ``client``'s reads share txns on the member at ``port``, without asking its
    version."""
    client._backend._keys._reads._shares[f"http://127.0.0.1:{port}"] = True  # type: ignore[attr-defined]
    return client


@pytest_asyncio.fixture
async def counted(etcd3_server: LocalEtcd) -> AsyncIterator[tuple[etcd.Client, Counting]]:
    transport = Counting()
    async with etcd.Client(port=etcd3_server.port, api="v3", transport=transport) as client:
        yield share(client, etcd3_server.port), transport


@pytest.mark.parametrize(
    ("server", "shares"),
    [
        ("3.4.23", True),
        ("3.5.0", False),
        ("3.5.1", False),
        ("3.5.4", False),
        ("3.5.5", True),
        ("3.5.17", True),
        ("3.6.0", True),
        ("3.5.2-rc.0", False),
        ("4.0.0-alpha.1", True),
        ("not a version", False),
    ],
)
def test_which_versions_may_share_a_txn(server: str, shares: bool) -> None:
    assert shares_safely(server) is shares


async def test_the_member_s_version_decides_once(
    etcd3_server: LocalEtcd, etcd_version: tuple[int, ...], prefix: str
) -> None:
    transport = Counting()
    async with etcd.Client(port=etcd3_server.port, api="v3", transport=transport) as client:
        for i in range(4):
            await client.write(f"{prefix}/k{i}", f"v{i}")
        transport.paths.clear()
        for _ in range(2):
            got = await asyncio.gather(*(client.read(f"{prefix}/k{i}") for i in range(4)))
            assert [r.value for r in got] == [f"v{i}" for i in range(4)]
    if (3, 5, 0) <= etcd_version < (3, 5, 5):
        assert transport.paths == {"/version": 1, "kv/range": 8}
    else:
        assert transport.paths == {"/version": 1, "kv/txn": 2}


async def answer(client: etcd.Client, key: str) -> object:
    """What a read of ``key`` returns or raises, comparable."""
    try:
        result = await client.read(key)
    except etcd.EtcdException as exc:
        return type(exc), exc.payload.error_code if exc.payload else None, str(exc)
    return result.key, result.value, result.dir, result.modified_index, result.ttl is not None


async def test_reads_started_together_answer_as_reads_alone(
    counted: tuple[etcd.Client, Counting], prefix: str
) -> None:
    client, transport = counted
    for i in range(30):
        await client.write(f"{prefix}/k{i}", f"v{i}")
    await client.write(f"{prefix}/dir/inner", "x")
    await client.write(f"{prefix}/leased", "t", ttl=60)
    await client.write(f"{prefix}/odd key ☃ %2F", "o")
    wanted = [
        *(f"{prefix}/k{i}" for i in range(30)),
        f"{prefix}/k3",  # twice in one turn
        f"{prefix}/missing",
        f"{prefix}/k1/below-a-file",
        f"{prefix}/dir",
        f"{prefix}/leased",
        f"{prefix}/odd key ☃ %2F",
    ]
    alone = [await answer(client, key) for key in wanted]
    transport.paths.clear()
    transport.txn_sizes.clear()
    together = await asyncio.gather(*(answer(client, key) for key in wanted))
    assert together == alone
    # 35 distinct keys: three txns of at most 16 ranges; then the misses and the directory
    # (the v2 emulation's own txn each) and the lease's TTL.
    assert sorted(transport.txn_sizes[:3]) == [3, 16, 16]
    assert transport.paths["kv/range"] == 0
    assert transport.paths["lease/timetolive"] == 1


async def test_a_lone_read_is_a_plain_range(
    counted: tuple[etcd.Client, Counting], prefix: str
) -> None:
    client, transport = counted
    await client.write(f"{prefix}/k", "v")
    transport.paths.clear()
    for _ in range(3):
        assert (await client.read(f"{prefix}/k")).value == "v"
    assert transport.paths == {"kv/range": 3}


async def test_quorum_reads_go_in_a_txn_of_their_own(
    counted: tuple[etcd.Client, Counting], prefix: str
) -> None:
    client, transport = counted
    await client.write(f"{prefix}/k", "v")
    transport.paths.clear()
    reads = [client.read(f"{prefix}/k", quorum=q) for q in (True, False, True, False)]
    assert [r.value for r in await asyncio.gather(*reads)] == ["v"] * 4
    # Same key, so one range each: two plain ranges, one serializable and one not.
    assert transport.paths == {"kv/range": 2}


@pytest.mark.parametrize("cancelled", [0, 2], ids=["the-first", "another"])
async def test_one_read_cancelled_leaves_the_others_their_answers(
    counted: tuple[etcd.Client, Counting], prefix: str, cancelled: int
) -> None:
    """The first read of a turn is the one that sends the others: cancelling it while it
    waits for them must not strand them."""
    client, transport = counted
    for i in range(4):
        await client.write(f"{prefix}/k{i}", f"v{i}")
    transport.paths.clear()
    tasks = [asyncio.ensure_future(client.read(f"{prefix}/k{i}")) for i in range(4)]
    await asyncio.sleep(0)  # queued, not yet sent
    tasks[cancelled].cancel()
    done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 5)
    assert isinstance(done.pop(cancelled), asyncio.CancelledError)
    values = [f"v{i}" for i in range(4) if i != cancelled]
    assert [r.value if isinstance(r, etcd.EtcdResult) else r for r in done] == values
    assert transport.paths == {"kv/txn": 1}


async def test_each_read_keeps_its_own_deadline_and_nothing_is_left_behind(prefix: str) -> None:
    with LocalEtcd(name="batch-frozen", enable_v2=False) as server:
        async with etcd.Client(port=server.port, api="v3") as client:
            await client.write(f"{prefix}/k", "v")
            server.pause()
            try:
                loop = asyncio.get_running_loop()
                started = loop.time()
                reads = [
                    client.read(f"{prefix}/k", timeout=0.3),
                    client.read(f"{prefix}/missing", timeout=1.0),
                    client.read(f"{prefix}/other", timeout=1.0),
                ]
                short, *rest = (asyncio.ensure_future(asyncio.wait_for(r, 5)) for r in reads)
                with pytest.raises(etcd.EtcdTimedOut):
                    await short
                assert 0.25 < loop.time() - started < 0.8
                for read in rest:
                    with pytest.raises(etcd.EtcdTimedOut):
                        await read
                assert 0.9 < loop.time() - started < 2.0
                # Every caller gave up: the shared request was stopped.
                await asyncio.sleep(0.1)
                assert not client._backend._keys._reads._sending  # type: ignore[attr-defined]
            finally:
                server.resume()
            assert (await client.read(f"{prefix}/k")).value == "v"


async def test_closing_the_client_ends_the_reads_still_out(prefix: str) -> None:
    with LocalEtcd(name="batch-close", enable_v2=False) as server:
        client = etcd.Client(port=server.port, api="v3")
        await client.write(f"{prefix}/k", "v")
        server.pause()
        try:
            reads = [asyncio.ensure_future(client.read(f"{prefix}/k{i}")) for i in range(3)]
            await asyncio.sleep(0.1)
            await asyncio.wait_for(client.close(), 5)
            for read in reads:
                # Out when the client closed; tried again on it, as a call made after close.
                with pytest.raises(RuntimeError, match="closed"):
                    await asyncio.wait_for(read, 5)
        finally:
            server.resume()


async def test_a_refused_txn_is_sent_again_read_by_read(prefix: str) -> None:
    """A server that takes fewer operations per txn than the batch holds."""
    with LocalEtcd(
        name="batch-few-ops", enable_v2=False, extra_args=("--max-txn-ops=12",)
    ) as server:
        transport = Counting()
        async with etcd.Client(port=server.port, api="v3", transport=transport) as client:
            share(client, server.port)
            for i in range(16):
                await client.write(f"{prefix}/k{i}", f"v{i}")
            transport.paths.clear()
            got = await asyncio.gather(*(client.read(f"{prefix}/k{i}") for i in range(16)))
            assert [r.value for r in got] == [f"v{i}" for i in range(16)]
            assert transport.paths == {"kv/txn": 1, "kv/range": 16}


async def test_a_key_the_user_may_not_read_fails_alone(prefix: str) -> None:
    root = ("root", "batch-r00t")
    with LocalEtcd(name="batch-auth", enable_v2=False) as server:
        async with etcd.Client(port=server.port, api="v3") as anonymous:
            user = EtcdUser(anonymous, "root")
            user.password = root[1]
            await user.write()
            await Auth(anonymous).set_active(True)
        async with etcd.Client(
            port=server.port, api="v3", username=root[0], password=root[1]
        ) as admin:
            await admin.write(f"{prefix}/open/k", "open")
            await admin.write(f"{prefix}/closed/k", "closed")
            role = EtcdRole(admin, "reader")
            role.acls = {f"{prefix}/open/*": "R"}
            await role.write()
            reader = EtcdUser(admin, "reader")
            reader.password = "reader-pass"
            reader.roles = {"reader"}
            await reader.write()
        transport = Counting()
        async with etcd.Client(
            port=server.port,
            api="v3",
            username="reader",
            password="reader-pass",
            transport=transport,
        ) as client:
            share(client, server.port)
            opened, closed = await asyncio.gather(
                client.read(f"{prefix}/open/k"),
                client.read(f"{prefix}/closed/k"),
                return_exceptions=True,
            )
            assert isinstance(opened, etcd.EtcdResult) and opened.value == "open"
            assert isinstance(closed, etcd.EtcdInsufficientPermissions)


async def test_closing_as_the_shared_request_is_made_still_answers_its_readers(
    etcd3_server: LocalEtcd, prefix: str
) -> None:
    """``close()`` that runs in the turn the first read sends the group: the request's task
    exists but has not started, and cancelling it then skips everything it would have done
    for its readers."""
    client = etcd.Client(port=etcd3_server.port, api="v3")
    await client.write(f"{prefix}/k0", "v")
    reads = [asyncio.ensure_future(client.read(f"{prefix}/k{i}")) for i in range(2)]
    await asyncio.sleep(0)  # the first waits one turn for the second, which joins it
    closing = asyncio.ensure_future(client.close())  # runs just after the group is sent
    done, pending = await asyncio.wait(reads, timeout=5)
    for read in pending:
        read.cancel()
    await closing
    assert not pending, "readers left waiting after close()"
    for read in done:
        with pytest.raises(RuntimeError, match="closed"):
            read.result()


async def test_closing_the_client_under_shared_reads_leaves_etcd_running(prefix: str) -> None:
    """etcd 3.5.0 to 3.5.4 panic when a read-only txn is cancelled as it runs
    (etcd-io/etcd#14110), as ``close()`` does to a request under a server slow to answer
    it: reads must not share a txn there. (A race in etcd: tried several times.)"""
    with LocalEtcd(name="batch-close-panic", enable_v2=False) as server:
        async with etcd.Client(port=server.port, api="v3") as writer:
            for i in range(16):
                await writer.write(f"{prefix}/k{i}", "v" * 1000)
        for _attempt in range(8):
            client = etcd.Client(port=server.port, api="v3")
            # Reads together before the freeze: the client knows the member's version.
            await asyncio.gather(client.read(f"{prefix}/k0"), client.read(f"{prefix}/k1"))
            server.pause()
            try:
                reads = [asyncio.ensure_future(client.read(f"{prefix}/k{i}")) for i in range(16)]
                await asyncio.sleep(0.1)  # the txn is out
                await asyncio.wait_for(client.close(), 15)
            finally:
                server.resume()
            await asyncio.wait_for(asyncio.gather(*reads, return_exceptions=True), 5)
            await asyncio.sleep(0.3)
            assert server.running, "etcd exited (panic: unexpected error during txn)"
        async with etcd.Client(port=server.port, api="v3") as again:
            assert (await again.read(f"{prefix}/k0")).value == "v" * 1000


class SickFirst(etcd.LeanTransport):
    """Answers for :data:`SICK` as a member cut off from its quorum does: every read gets
    etcd's 503 "request timed out", here after 1 s."""

    SICK = "http://127.0.0.1:9"  # never dialled

    def __init__(self) -> None:
        super().__init__()
        self.sick: collections.Counter[str] = collections.Counter()

    async def request(self, method: str, url: str, **kwargs: Any) -> etcd.HttpResponse:
        if url.startswith(self.SICK):
            path = urlsplit(url).path.removeprefix("/v3/")
            self.sick[path] += 1
            if path == "/version":  # answered without a quorum
                version = b'{"etcdserver":"3.5.5","etcdcluster":"3.5.0"}'
                return etcd.HttpResponse(200, {"content-type": "application/json"}, version)
            await asyncio.sleep(1)
            error = b'{"error":"etcdserver: request timed out","code":14}'
            return etcd.HttpResponse(503, {"content-type": "application/json"}, error)
        return await super().request(method, url, **kwargs)


async def test_a_txn_refused_for_the_member_not_a_key_moves_every_read_on(
    etcd3_server: LocalEtcd, prefix: str
) -> None:
    """An error about the member (no quorum, too many requests) is each read's answer as it
    would be alone: the reads fail over at once instead of asking the same member again."""
    async with etcd.Client(port=etcd3_server.port, api="v3") as writer:
        for i in range(4):
            await writer.write(f"{prefix}/k{i}", f"v{i}")
    transport = SickFirst()
    async with etcd.Client(
        host=(("127.0.0.1", 9), ("127.0.0.1", etcd3_server.port)),
        api="v3",
        use_proxies=True,
        transport=transport,
    ) as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        got = await asyncio.gather(*(client.read(f"{prefix}/k{i}", quorum=True) for i in range(4)))
        assert [r.value for r in got] == [f"v{i}" for i in range(4)]
        assert loop.time() - started < 1.8  # one sick reply, as for a read alone
        assert transport.sick == {"/version": 1, "kv/txn": 1}


async def test_reads_all_cancelled_before_the_group_is_sent_send_nothing(
    counted: tuple[etcd.Client, Counting], prefix: str
) -> None:
    """A TaskGroup that fails, or ``asyncio.run`` ending, cancels every read of the turn:
    no request should go out for them (a read-only txn nobody waits for is then kept
    running, uncut, for up to ``DRAIN`` seconds)."""
    client, transport = counted
    await client.write(f"{prefix}/k0", "v")
    transport.paths.clear()
    reads = [asyncio.ensure_future(client.read(f"{prefix}/k{i}")) for i in range(16)]
    await asyncio.sleep(0)  # queued; the first waits one turn
    for read in reads:
        read.cancel()
    await asyncio.gather(*reads, return_exceptions=True)
    await asyncio.sleep(0.1)
    assert transport.paths == {}
