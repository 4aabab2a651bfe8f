"""``lock`` and ``elect`` compared with etcdctl 3.5.1's, and run against it: a lock held by
one excludes the other, and both see the same leader."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable

import pytest

from tests.cli_v3._compare import (
    AIO,
    Gateway,
    Started,
    compare,
    lease_ids,
    revisions,
    usage,
)
from tests.v3._etcdctl import tool

pytestmark = pytest.mark.etcdctl


def etcdctl() -> list[str]:
    return [str(tool("etcdctl"))]


def aio_etcd() -> list[str]:
    return list(AIO)


PROGRAMS: dict[str, Callable[[], list[str]]] = {"etcdctl": etcdctl, "aio-etcd": aio_etcd}


def test_lock_runs_a_command_with_the_lock(url: str, prefix: str) -> None:
    """``ETCD_LOCK_KEY`` is ``<name>/<lease id>``, ``ETCD_LOCK_REV`` the revision it was
    made at; the command's exit status is the lock's, with ``Error: exit status 3``."""
    script = 'echo "$ETCD_LOCK_KEY \\"revision\\":$ETCD_LOCK_REV"; exit 3'
    compare(
        url,
        "lock",
        f"{prefix}lock",
        "--",
        "sh",
        "-c",
        script,
        normalise=[lease_ids, revisions],
        state=prefix,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["lock"],
        ["lock", "{p}lock", "no-such-command-here"],
        ["lock", "--ttl", "x", "{p}lock"],
        ["elect"],
        ["elect", "{p}e"],
        ["elect", "-l", "{p}e", "proposal"],
        ["elect", "{p}e", "a", "b"],
    ],
    ids=[
        "lock without a name",
        "lock with a missing command",
        "lock with a bad TTL",
        "elect without a name",
        "elect without a proposal",
        "elect a proposal while listening",
        "elect two proposals",
    ],
)
def test_lock_and_elect_errors(url: str, prefix: str, args: list[str]) -> None:
    compare(url, *(arg.replace("{p}", prefix) for arg in args), normalise=[usage], state=prefix)


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_lock_held_until_ctrl_c(url: str, prefix: str, program: str) -> None:
    """Without a command: the lock's key (and its empty value) is printed; Ctrl-C releases
    it and exits 0. Compared line for line with etcdctl's."""
    holder = Started(PROGRAMS[program](), url, "lock", f"{prefix}held")
    try:
        key, value = holder.lines(2)
        assert re.fullmatch(f"{prefix}held/[0-9a-f]+", key)
        assert value == ""
        end = holder.stop()
        assert (end.code, end.out, end.err) == (0, "", "")
        assert Gateway(url).dump(prefix) == []
    finally:
        holder.kill()


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_ctrl_c_while_waiting_for_a_lock(url: str, prefix: str, program: str) -> None:
    holder = Started(etcdctl(), url, "lock", f"{prefix}busy")
    try:
        holder.lines(2)
        waiter = Started(PROGRAMS[program](), url, "lock", f"{prefix}busy", "--", "echo", "got")
        try:
            assert waiter.quiet(2.5)
            end = waiter.stop()
            assert (end.code, end.out, end.err) == (1, "", "Error: context canceled\n")
        finally:
            waiter.kill()
        assert len(Gateway(url).dump(prefix)) == 1  # the waiter's key is gone
    finally:
        holder.kill()


@pytest.mark.parametrize(("first", "second"), [("etcdctl", "aio-etcd"), ("aio-etcd", "etcdctl")])
def test_lock_excludes_the_other_tool(url: str, prefix: str, first: str, second: str) -> None:
    holder = Started(PROGRAMS[first](), url, "lock", f"{prefix}shared")
    waiter: Started | None = None
    try:
        holder.lines(2)
        waiter = Started(PROGRAMS[second](), url, "lock", f"{prefix}shared", "--", "echo", "got")
        assert waiter.quiet(3), "the lock was taken while held"
        assert holder.stop().code == 0
        assert waiter.lines(1) == ["got"]
        assert waiter.wait().code == 0
        assert Gateway(url).dump(prefix) == []
    finally:
        holder.kill()
        if waiter is not None:
            waiter.kill()


@pytest.mark.parametrize("program", list(PROGRAMS))
def test_campaign_until_ctrl_c(url: str, prefix: str, program: str) -> None:
    """The leader prints its key and proposal; Ctrl-C resigns and exits 0."""
    leader = Started(PROGRAMS[program](), url, "elect", f"{prefix}e", "proposal-1")
    try:
        key, value = leader.lines(2)
        assert key.startswith(f"{prefix}e/") and value == "proposal-1"
        end = leader.stop()
        assert (end.code, end.out, end.err) == (0, "", "")
        assert Gateway(url).dump(prefix) == []
    finally:
        leader.kill()


@pytest.mark.parametrize(("first", "second"), [("etcdctl", "aio-etcd"), ("aio-etcd", "etcdctl")])
def test_election_agrees_with_the_other_tool(
    url: str, prefix: str, first: str, second: str
) -> None:
    """A leader elected by one tool is the leader the other observes; the other's candidate
    waits, and leads once the first resigns; the observer sees each leader."""
    name = f"{prefix}e"
    leader = Started(PROGRAMS[first](), url, "elect", name, "first")
    others: list[Started] = []
    try:
        key, _ = leader.lines(2)
        observer = Started(PROGRAMS[second](), url, "elect", "-l", name)
        others.append(observer)
        assert observer.lines(2) == [key, "first"]
        candidate = Started(PROGRAMS[second](), url, "elect", name, "second")
        others.append(candidate)
        assert candidate.quiet(3), "two leaders at once"
        assert leader.stop().code == 0
        new_key, value = candidate.lines(2)
        assert value == "second" and new_key != key
        assert observer.lines(2) == [new_key, "second"]
        assert candidate.stop().code == 0
        end = observer.stop()
        assert (end.code, end.err) == (0, "")
    finally:
        leader.kill()
        for process in others:
            process.kill()


def test_ctrl_c_ends_an_observer_quietly(url: str, prefix: str) -> None:
    outcomes = []
    for program in PROGRAMS.values():
        observer = Started(program(), url, "elect", "-l", f"{prefix}nobody")
        try:
            assert observer.quiet(2.5)
            outcomes.append(observer.stop(signal.SIGINT))
        finally:
            observer.kill()
    theirs, ours = outcomes
    assert (ours.code, ours.out, ours.err) == (theirs.code, theirs.out, theirs.err) == (0, "", "")
