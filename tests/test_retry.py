"""The failover policy and the endpoint pool, on their own (no server needed)."""

from __future__ import annotations

import asyncio

import pytest

import aio_etcd as etcd
from aio_etcd._endpoints import EndpointPool
from aio_etcd._retry import Failover, RetryPolicy, Verdict
from aio_etcd.models import ErrorPayload

A, B, C = "http://a:2379", "http://b:2379", "http://c:2379"


def raft_error(cause: str) -> etcd.EtcdRaftInternalError:
    payload = ErrorPayload(error_code=300, message="Raft Internal Error", cause=cause)
    return etcd.EtcdRaftInternalError("raft", payload, status=500)


@pytest.mark.parametrize(
    ("error", "repeatable", "verdict"),
    [
        (etcd.EtcdConnectionFailed("refused", sent=False), False, "retry"),
        (etcd.EtcdConnectionFailed("reset"), False, "unknown"),
        (etcd.EtcdTimedOut("slow"), False, "unknown"),
        (etcd.EtcdConnectionFailed("reset"), True, "retry"),
        (raft_error("raft proposal dropped"), False, "retry"),
        (raft_error("etcdserver: request timed out"), False, "unknown"),
        (raft_error("etcdserver: request timed out"), True, "retry"),
        (raft_error("nodePath /1/d : Not a file ()"), False, "raise"),
        (etcd.EtcdLeaderElectionInProgress("election", status=500), False, "retry"),
        (etcd.EtcdException("During election", status=503), True, "retry"),
        (etcd.EtcdUnexpectedResponse("proxy", status=502), False, "unknown"),
        (etcd.EtcdUnexpectedResponse("proxy", status=502), True, "retry"),
        (etcd.EtcdKeyNotFound("missing", status=404), True, "raise"),
        (etcd.EtcdCompareFailed("no", status=412), False, "raise"),
    ],
)
def test_the_verdict_for_each_failure(
    error: etcd.EtcdException, repeatable: bool, verdict: Verdict
) -> None:
    assert RetryPolicy.verdict(error, repeatable) == verdict
    # A write that applied twice changes nothing more moves on where others are unknown.
    resent = RetryPolicy.verdict(error, repeatable, resendable=True)
    assert resent == ("retry" if verdict == "unknown" else verdict)


def test_backoff_grows_to_its_cap_with_jitter() -> None:
    policy = RetryPolicy(backoff_initial=0.1, backoff_max=0.4)
    for round_, ceiling in [(0, 0.1), (1, 0.2), (2, 0.4), (5, 0.4)]:
        pauses = {policy.backoff(round_) for _ in range(50)}
        assert all(ceiling / 2 <= pause <= ceiling for pause in pauses)
        assert len(pauses) > 1  # jittered


async def test_the_seed_list_never_shrinks() -> None:
    pool = EndpointPool([A, B], reconnect=True)
    assert pool.refresh_due()
    pool.refreshed([C])
    assert pool.known == [A, B, C]
    pool.refreshed([])
    assert pool.known == [A, B, C]
    pool.refreshed([B])
    assert pool.known == [A, B]
    assert not pool.refresh_due()


async def test_a_failed_member_goes_last_and_the_next_one_is_used() -> None:
    pool = EndpointPool([A, B, C], reconnect=True)
    assert await pool.endpoints() == [A, B, C]
    pool.failed(A)
    assert pool.current == B
    assert await pool.endpoints() == [B, C, A]
    pool.failed(C)
    assert await pool.endpoints() == [B, A, C]  # the one that failed longest ago first
    pool.answered(C)
    assert await pool.endpoints() == [C, B, A]
    assert pool.refresh_due()  # a failure asks for a fresh member list


async def test_without_reconnect_only_the_first_endpoint_is_used() -> None:
    pool = EndpointPool([A, B], reconnect=False)
    pool.failed(A)
    assert await pool.endpoints() == [A]
    assert not pool.refresh_due()


async def test_proxies_are_never_replaced_by_members() -> None:
    pool = EndpointPool([A], reconnect=True, use_proxies=True)
    assert not pool.refresh_due()


def test_the_cluster_id_is_learned_or_pinned() -> None:
    learned = EndpointPool([A], reconnect=False)
    learned.check_cluster_id("1", A)
    learned.check_cluster_id(None, A)
    with pytest.raises(etcd.EtcdClusterIdChanged, match="cluster 2, not 1"):
        learned.check_cluster_id("2", B)
    learned.check_cluster_id("2", B)  # said once; the new cluster is expected now

    pinned = EndpointPool([A], reconnect=False, expected_cluster_id="1")
    for _ in range(2):
        with pytest.raises(etcd.EtcdClusterIdChanged):
            pinned.check_cluster_id("2", A)


class Script:
    """An attempt that fails as told, per endpoint (then succeeds), and records what it
    was given."""

    def __init__(self, failures: dict[str, list[etcd.EtcdException]]) -> None:
        self.failures = failures
        self.calls: list[tuple[str, float | None]] = []

    async def __call__(self, endpoint: str, timeout: float | None) -> str:
        self.calls.append((endpoint, timeout))
        queue = self.failures.get(endpoint, [])
        if queue:
            raise queue.pop(0)
        return endpoint


def failover(*seeds: str, reconnect: bool = True) -> Failover:
    policy = RetryPolicy(backoff_initial=0.01, backoff_max=0.02)
    return Failover(EndpointPool(seeds, reconnect=reconnect), policy, retry_window=1.0)


async def test_a_read_moves_on_and_splits_the_time_left() -> None:
    script = Script({A: [etcd.EtcdTimedOut("slow")]})
    runner = failover(A, B, C)
    assert await runner.run(script, timeout=3.0, repeatable=True) == B
    (first, first_timeout), (second, second_timeout) = script.calls
    assert (first, second) == (A, B)
    assert first_timeout is not None and 0.9 < first_timeout <= 1.0  # a third of 3 s
    assert second_timeout is not None and 1.4 < second_timeout <= 1.5  # half of what is left
    assert runner.pool.current == B


async def test_a_write_that_may_have_arrived_is_not_repeated() -> None:
    script = Script({A: [etcd.EtcdConnectionFailed("reset")]})
    with pytest.raises(etcd.EtcdOutcomeUnknown) as caught:
        await failover(A, B).run(script, timeout=3.0, repeatable=False)
    assert [endpoint for endpoint, _ in script.calls] == [A]
    assert isinstance(caught.value.cause, etcd.EtcdConnectionFailed)


async def test_a_write_that_never_left_moves_on() -> None:
    script = Script({A: [etcd.EtcdConnectionFailed("refused", sent=False)]})
    assert await failover(A, B).run(script, timeout=3.0, repeatable=False) == B


async def test_no_leader_is_waited_out_within_the_deadline() -> None:
    dropped = raft_error("raft proposal dropped")
    script = Script({A: [dropped, dropped, dropped, dropped]})
    assert await failover(A).run(script, timeout=3.0, repeatable=False) == A
    assert len(script.calls) == 5


async def test_a_cluster_that_stays_busy_gives_its_error_at_the_deadline() -> None:
    script = Script({A: [raft_error("etcdserver: request timed out")] * 1000})
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(etcd.EtcdRaftInternalError):
        await failover(A).run(script, timeout=0.3, repeatable=True)
    assert 0.2 < loop.time() - started < 0.5


async def test_unreachable_members_are_listed_soon() -> None:
    refused = etcd.EtcdConnectionFailed("refused", sent=False)
    script = Script({A: [refused] * 10, B: [refused] * 10})
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(etcd.EtcdConnectionFailed) as caught:
        await failover(A, B).run(script, timeout=30.0, repeatable=True)
    assert loop.time() - started < 1  # RetryPolicy.unreachable_rounds, not the deadline
    assert A in str(caught.value) and B in str(caught.value)
    assert len(script.calls) == 2 * RetryPolicy().unreachable_rounds


async def test_a_watch_rides_out_an_outage_for_its_window() -> None:
    refused = etcd.EtcdConnectionFailed("refused", sent=False)
    script = Script({A: [refused] * 12})
    runner = Failover(
        EndpointPool([A], reconnect=False),
        RetryPolicy(backoff_initial=0.01, backoff_max=0.02, watch_retry_window=5.0),
        retry_window=0.1,
    )
    # Far more unreachable rounds than a call with a deadline is given.
    assert await runner.run(script, timeout=None, repeatable=True, ride_out=True) == A
    assert len(script.calls) == 13
    assert all(timeout is None for _, timeout in script.calls)

    short = Failover(
        EndpointPool([A], reconnect=False),
        RetryPolicy(backoff_initial=0.01, backoff_max=0.02, watch_retry_window=0.2),
        retry_window=0.1,
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(etcd.EtcdConnectionFailed, match=r"for 0\.2 s"):
        await short.run(Script({A: [refused] * 1000}), timeout=None, repeatable=True, ride_out=True)
    assert 0.2 <= loop.time() - started < 0.4


async def test_a_proxy_page_counts_as_an_unreachable_member() -> None:
    page = etcd.EtcdUnexpectedResponse("not an etcd reply: HTTP 502", status=502)
    script = Script({A: [page] * 10})
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(etcd.EtcdUnexpectedResponse) as caught:
        await failover(A).run(script, timeout=30.0, repeatable=True)
    assert caught.value is page
    assert loop.time() - started < 1
    assert len(script.calls) == RetryPolicy().unreachable_rounds


@pytest.mark.parametrize("strict", [False, True])
async def test_an_unconditional_write_is_sent_again_unless_strict(strict: bool) -> None:
    script = Script({A: [etcd.EtcdConnectionFailed("reset")]})
    runner = Failover(
        EndpointPool([A, B], reconnect=True),
        RetryPolicy(retry_unconditional_writes=not strict),
        retry_window=1.0,
    )
    if strict:
        with pytest.raises(etcd.EtcdOutcomeUnknown):
            await runner.run(script, timeout=3.0, repeatable=False, resendable=True)
    else:
        assert await runner.run(script, timeout=3.0, repeatable=False, resendable=True) == B
