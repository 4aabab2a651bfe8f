"""Retries and failover: the whole policy, in one place.

- One deadline per call covers every attempt, backoff included.
- A request that is safe to repeat (reads, watches, questions about the cluster) moves to the
  next member when one fails, and is retried with jittered backoff while the cluster has no
  leader (errorCode 300 "raft proposal dropped", 301, HTTP 5xx).
- A member that answers, but not as etcd (a proxy's error page), counts as one that cannot
  be reached: when no member can be reached for a few rounds, the call gives up early.
- A write moves on when it certainly never reached a member (it could not connect) or etcd
  said it did not propose it (v2 errorCode 300 "raft proposal dropped"; v3 "no leader",
  "not leader", "too many requests"). An unconditional set or a refresh also moves on when it may
  have been applied, since applying it twice ends in the same state (etcd's own v2 client
  does the same; ``retry_unconditional_writes=False`` turns it off). Any other write that
  may have been applied is not repeated: it fails with
  :class:`~aio_etcd.EtcdOutcomeUnknown`.
- A watch without a deadline keeps reconnecting for ``watch_retry_window`` seconds.
- When the deadline passes, the error lists what each member said.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

from ._constants import BACKOFF_INITIAL, BACKOFF_MAX, UNREACHABLE_ROUNDS, WATCH_RETRY_WINDOW
from ._endpoints import EndpointPool
from ._exceptions import (
    EtcdConnectionFailed,
    EtcdException,
    EtcdLeaderElectionInProgress,
    EtcdOutcomeUnknown,
    EtcdRaftInternalError,
    EtcdTimedOut,
    EtcdTLSFailed,
    EtcdTooManyRequests,
    EtcdUnexpectedResponse,
)
from .models.v3.error import GatewayError

T = TypeVar("T")

Attempt = Callable[[str, "float | None"], Awaitable[T]]
"""One try of a call: ``(endpoint, timeout) -> result``."""

NOT_PROPOSED = ("raft proposal dropped", "etcdserver: too many requests")
"""Causes of errorCode 300 that mean the write never entered the raft log."""
REFUSED_BY_STORE = "nodePath "
"""How the cause of an errorCode 300 starts when the store refused the write as it was
applied (e.g. etcd 3.5's directory-TTL bug): nothing changed."""

MIN_ATTEMPT = 0.01
"""Seconds below which another attempt is not started: it could only time out, and the
error it would give says less than the ones before."""

Verdict = Literal["retry", "raise", "unknown"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait between rounds over the members, and what may be sent again."""

    backoff_initial: float = BACKOFF_INITIAL
    backoff_max: float = BACKOFF_MAX
    unreachable_rounds: int = UNREACHABLE_ROUNDS
    """Give up after this many rounds in which no member could be reached at all, even
    with time left: a cluster that is down should say so, not hang until the deadline."""
    watch_retry_window: float | None = WATCH_RETRY_WINDOW
    """Seconds a watch without a deadline keeps trying to reach a member; ``None``: for
    ever."""
    retry_unconditional_writes: bool = True
    """Send a plain set or a refresh again when it may have been applied (see
    :func:`verdict`)."""

    def backoff(self, round_: int) -> float:
        """Seconds to wait after ``round_`` (0, 1, ...) full rounds failed: exponential,
        half of it random so that many clients do not retry in step."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0**round_)
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    @staticmethod
    def verdict(error: EtcdException, repeatable: bool, resendable: bool = False) -> Verdict:
        """What to do after ``error``: try again, give up, or report an unknown outcome.

        ``resendable``: a write whose second application changes nothing (an unconditional
        set, a refresh), so "may have been applied" is no reason to stop.
        """
        if isinstance(error, EtcdTLSFailed):
            return "raise"  # a certificate does not get better by asking again
        verdict = _verdict(error, repeatable)
        return "retry" if verdict == "unknown" and resendable else verdict

    @staticmethod
    def unreachable(error: EtcdException) -> bool:
        """Whether ``error`` says the member could not be reached, or answered, but not as
        etcd does (a proxy's error page): either way, no etcd was heard from."""
        return isinstance(error, EtcdConnectionFailed | EtcdUnexpectedResponse)


def _verdict(error: EtcdException, repeatable: bool) -> Verdict:
    if isinstance(error, EtcdConnectionFailed):
        return "retry" if repeatable or not error.sent else "unknown"
    if isinstance(error, EtcdTooManyRequests):
        return "retry"  # v3: shed before proposing
    busy = isinstance(error, EtcdRaftInternalError | EtcdLeaderElectionInProgress)
    if repeatable:
        # A v3 error's class says whether to retry: the gateway answers 500 for definite
        # errors too (gRPC code 2, e.g. a lock on an unknown lease).
        server_down = (
            error.status is not None
            and error.status >= 500
            and not isinstance(error.payload, GatewayError)
        )
        return "retry" if busy or server_down else "raise"
    if isinstance(error, EtcdLeaderElectionInProgress):
        return "retry"
    if isinstance(error, EtcdRaftInternalError):
        cause = (error.payload.cause if error.payload is not None else None) or ""
        if cause.startswith(REFUSED_BY_STORE):
            return "raise"
        return "retry" if cause in NOT_PROPOSED else "unknown"
    if isinstance(error, EtcdUnexpectedResponse) and (error.status or 0) >= 500:
        return "unknown"  # a proxy's 502/504: it may have passed the write on
    return "raise"


class Failover:
    """Runs each attempt of a call against the pool's members, as the policy says."""

    def __init__(
        self,
        pool: EndpointPool,
        policy: RetryPolicy,
        *,
        retry_window: float,
        refresh: Callable[[str, float], Awaitable[list[str]]] | None = None,
    ) -> None:
        """
        Args:
            retry_window: how long calls without a deadline keep trying to reach a member
                before giving up (watches: the policy's ``watch_retry_window``).
            refresh: asks an endpoint for every member's client URLs, within a timeout.
        """
        self.pool = pool
        self.policy = policy
        self._retry_window = retry_window
        self._refresh = refresh

    async def run(
        self,
        attempt: Attempt[T],
        *,
        timeout: float | None,
        repeatable: bool,
        resendable: bool = False,
        ride_out: bool = False,
        long_poll: bool = False,
    ) -> T:
        """Run ``attempt`` until it succeeds, the policy gives up, or ``timeout`` passes.

        ``resendable``: a write that applied twice leaves the same state as once.
        ``ride_out``: without a ``timeout``, keep trying for the policy's
        ``watch_retry_window`` while no member can be reached (a watch), instead of giving
        up after ``unreachable_rounds``.
        ``long_poll``: each attempt gets the whole time left, not a share of it (a call
        that is slow on any member, e.g. a snapshot).
        """
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = None if timeout is None else start + timeout
        ride_out = ride_out and deadline is None
        window = self.policy.watch_retry_window if ride_out else self._retry_window
        give_up_at = deadline if deadline is not None else start + (window or math.inf)
        resendable = resendable and self.policy.retry_unconditional_writes
        if self._refresh is not None and self.pool.refresh_due():
            await self._refresh_members(deadline)
        tried: list[tuple[str, EtcdException]] = []
        round_ = unreachable = 0
        while True:
            endpoints = self.pool.order or await self.pool.endpoints()
            reached = False
            for position, endpoint in enumerate(endpoints):
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= MIN_ATTEMPT and (tried or left <= 0):
                    raise _gave_up(tried, timeout)  # too little time left to learn anything
                # A member that hangs (stopped, partitioned) must leave time for the others.
                share = 1 if long_poll else len(endpoints) - position
                attempt_timeout = None if left is None else left / share
                try:
                    result = await attempt(endpoint, attempt_timeout)
                except EtcdException as error:
                    verdict = self.policy.verdict(error, repeatable, resendable)
                    if self.policy.unreachable(error):
                        self.pool.failed(endpoint)
                    else:
                        reached = True
                    if verdict == "raise":
                        raise
                    if verdict == "unknown":
                        raise EtcdOutcomeUnknown(
                            f"{endpoint} failed before confirming the write, which may or "
                            f"may not have been applied; read the key to find out ({error})",
                            error.payload,
                            cause=error,
                            status=error.status,
                        ) from error
                    tried.append((endpoint, error))
                    continue
                self.pool.answered(endpoint)
                return result
            unreachable = 0 if reached else unreachable + 1
            pause = self.policy.backoff(round_)
            round_ += 1
            if ride_out:
                # One more round at the end of the window: a member may be back by then.
                if loop.time() >= give_up_at:
                    raise _gave_up(tried, timeout, window)
                pause = min(pause, give_up_at - loop.time())
            elif unreachable >= self.policy.unreachable_rounds or loop.time() + pause >= give_up_at:
                raise _gave_up(tried, timeout)
            await asyncio.sleep(pause)

    async def _refresh_members(self, deadline: float | None) -> None:
        assert self._refresh is not None
        for endpoint in await self.pool.endpoints():
            try:
                urls = await self._refresh(endpoint, _refresh_timeout(deadline))
            except EtcdException:
                continue
            self.pool.refreshed(urls)
            return
        self.pool.refreshed(None)


def _refresh_timeout(deadline: float | None) -> float:
    """A member list is a nicety: it may use a little of a call's time, never all of it."""
    cap = 1.0
    if deadline is None:
        return cap
    return max(0.01, min(cap, (deadline - asyncio.get_running_loop().time()) / 4))


def _gave_up(
    tried: list[tuple[str, EtcdException]], timeout: float | None, window: float | None = None
) -> EtcdException:
    """The error for a call that ran out of time or members: the last server error as it
    was, or a connection error that lists what every member said."""
    if tried and not RetryPolicy.unreachable(tried[-1][1]):
        return tried[-1][1]
    seen = "; ".join(f"{endpoint}: {error}" for endpoint, error in tried[-6:])
    cause = tried[-1][1] if tried else None
    if isinstance(cause, EtcdUnexpectedResponse):
        return cause  # the member answered, not as etcd: what it said tells most
    if timeout is not None and (not tried or isinstance(cause, EtcdTimedOut)):
        return EtcdTimedOut(
            f"no etcd member answered within {timeout} s (tried {seen})", cause=cause
        )
    during = "" if window is None else f" for {window:g} s"
    return EtcdConnectionFailed(
        f"no etcd member could be reached{during} (tried {seen})", cause=cause
    )
