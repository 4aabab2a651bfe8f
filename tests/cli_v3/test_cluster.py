"""``member`` and ``endpoint`` compared with etcdctl's, in every output format.

Reads run on the shared v2-off etcd; changes of membership on an etcd of this module's own,
to which learners are added (a learner leaves the quorum as it is) and removed again.

Normalisers (``tests/cli_v3/_admin.py``): ``revisions``, ``timings``, ``db_sizes``,
``raft_indexes``, ``column_widths``, ``member_ids``.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
from collections.abc import Iterator, Sequence

import pytest

from aio_etcd._server import LocalEtcd, free_port
from tests.cli_v3 import _compare
from tests.cli_v3._admin import (
    add_learner,
    column_widths,
    compare_each,
    db_sizes,
    member_ids,
    member_order,
    members,
    raft_indexes,
    remove_unstarted,
    timings,
)
from tests.cli_v3._compare import Gateway, compare, revisions
from tests.cli_v3._inprocess import in_process

pytestmark = pytest.mark.etcdctl

FORMATS = ("simple", "json", "fields", "table")
STATUS = [revisions, db_sizes, raft_indexes, column_widths]


@pytest.fixture(autouse=True)
def _aio_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    in_process(monkeypatch)


@pytest.mark.parametrize("write_out", FORMATS)
def test_member_list(url: str, write_out: str) -> None:
    compare(url, "member", "list", "-w", write_out)


@pytest.mark.parametrize("write_out", FORMATS)
def test_member_list_hex(url: str, write_out: str) -> None:
    """Only JSON changes: ids in hex strings, written by etcdctl's own hand."""
    compare(url, "member", "list", "--hex", "-w", write_out)


def test_member_list_hex_raft_term() -> None:
    """etcdctl writes the raft term in hex too, without quotes: ``"raft_term":b`` once the
    term is 10 or more (each restart of a lone member starts a term)."""
    with LocalEtcd(enable_v2=False, name="terms") as server:
        gateway = Gateway(server.client_url)
        for _ in range(20):
            term = int(gateway.call("maintenance/status", {})["raftTerm"])
            if term >= 10:
                break
            server.restart()
        outcome = compare(server.client_url, "member", "list", "--hex", "-w", "json")
    assert term >= 10 and f'"raft_term":{term:x}}},' in outcome.aio.out


def test_member_help_lists_hex(url: str) -> None:
    """``--hex`` among the global flags, as etcdctl's help says it."""
    endpoint = url.removeprefix("http://")

    def hex_help(text: str) -> str:
        (line,) = [line for line in text.splitlines() if "--hex" in line]
        return re.sub(r"^\s*--hex(\[=false\])?\s+", "", line)

    theirs = _compare.etcdctl(endpoint, "member", "list", "--help")
    ours = _compare.aio(endpoint, "member", "list", "--help")
    assert hex_help(ours.out) == hex_help(theirs.out) == "print byte strings as hex encoded strings"


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("cluster", [False, True], ids=["endpoints", "cluster"])
def test_endpoint_status(url: str, write_out: str, cluster: bool) -> None:
    flags = ["--cluster"] if cluster else []
    compare(url, "endpoint", "status", *flags, "-w", write_out, normalise=STATUS)


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("cluster", [False, True], ids=["endpoints", "cluster"])
def test_endpoint_health(url: str, write_out: str, cluster: bool) -> None:
    flags = ["--cluster"] if cluster else []
    compare(url, "endpoint", "health", *flags, "-w", write_out, normalise=[timings, column_widths])


def test_endpoint_status_of_a_member_that_is_down(url: str) -> None:
    """etcdctl says which endpoint failed, shows the others, and exits 1."""
    down = f"127.0.0.1:{free_port()}"
    outcome = compare(
        url,
        f"--endpoints={url.removeprefix('http://')},{down}",
        "--command-timeout=1s",
        "endpoint",
        "status",
        normalise=STATUS,
    )
    assert outcome.aio.code == 1 and outcome.aio.first_err.startswith(
        f"Failed to get the status of endpoint {down}"
    )


def test_endpoint_hashkv_needs_etcd_3_5_10(url: str) -> None:
    """Listed in docs/cli.md: before etcd 3.5.10 the JSON gateway routes no HashKV, so
    aio-etcd says so where etcdctl (over gRPC) prints the hash."""
    endpoint = url.removeprefix("http://")
    theirs = _compare.etcdctl(endpoint, "endpoint", "hashkv")
    ours = _compare.aio(endpoint, "endpoint", "hashkv")
    assert theirs.code == 0 and theirs.out.startswith(url.removeprefix("http://") + ", ")
    assert ours.code == 1 and "routes HashKV from etcd 3.5.10 on" in ours.first_err


# -- changes of membership, on an etcd of this module's own -------------------------------

_PEERS = iter(range(2, 255))


def new_peer() -> str:
    """A peer URL no member of this module had and nothing listens at (etcd dials a member's
    peer URLs; an etcd of another test on a reused port answering there stalls the change).
    etcd derives a member's id from its peer URLs and the second it was added, and refuses
    an id it removed, so each URL is used once."""
    return f"http://127.0.0.{next(_PEERS)}:9"


@pytest.fixture(scope="module")
def solo() -> Iterator[LocalEtcd]:
    with LocalEtcd(enable_v2=False, name="solo") as server:
        yield server


@pytest.fixture
def solo_url(solo: LocalEtcd) -> Iterator[str]:
    yield solo.client_url
    remove_unstarted(Gateway(solo.client_url))


def own_ids(solo: LocalEtcd) -> list[int]:
    return [int(str(member["ID"])) for member in members(Gateway(solo.client_url))]


@pytest.mark.parametrize("write_out", FORMATS)
def test_member_add_a_learner(solo: LocalEtcd, solo_url: str, write_out: str) -> None:
    peer = new_peer()
    compare(
        solo_url,
        "member",
        "add",
        "newbie",
        "--learner",
        f"--peer-urls={peer}",
        "-w",
        write_out,
        setup=remove_unstarted,
        normalise=[member_ids(own_ids(solo)), member_order],
    )


def test_member_list_hex_with_an_unstarted_learner(solo_url: str) -> None:
    """A member not started yet: no name (``"name":""``), no client URLs (``null``)."""
    gateway = Gateway(solo_url)
    remove_unstarted(gateway)
    add_learner(gateway, new_peer())
    for write_out in FORMATS:
        compare(solo_url, "member", "list", "--hex", "-w", write_out)


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("a", "http://127.0.0.1:1"),
        ("a",),
    ],
)
def test_member_add_bad_args(solo_url: str, args: Sequence[str]) -> None:
    compare(solo_url, "member", "add", *args)


def test_member_add_a_peer_url_in_use(solo: LocalEtcd, solo_url: str) -> None:
    compare(solo_url, "member", "add", "twin", "--learner", f"--peer-urls={solo.peer_url}")


@pytest.mark.parametrize("write_out", FORMATS)
def test_member_update(solo: LocalEtcd, solo_url: str, write_out: str) -> None:
    """The running member, given the peer URL it has. (An unstarted learner cannot be used:
    etcd 3.5.1 makes a learner it updates a voter, and an unstarted voter takes the quorum
    of a one-member cluster away.)"""
    (own,) = own_ids(solo)
    compare(
        solo_url,
        "member",
        "update",
        f"{own:x}",
        f"--peer-urls={solo.peer_url}",
        "-w",
        write_out,
    )


@pytest.mark.parametrize("write_out", FORMATS)
def test_member_remove(solo: LocalEtcd, solo_url: str, write_out: str) -> None:
    def args(gateway: Gateway) -> list[str]:
        remove_unstarted(gateway)
        added = add_learner(gateway, new_peer())
        return ["member", "remove", f"{added:x}", "-w", write_out]

    compare_each(solo_url, args, normalise=[member_ids(own_ids(solo)), member_order])


@pytest.mark.parametrize(
    "args",
    [
        ("remove",),
        ("remove", "zz"),
        ("remove", "1234"),
        ("promote", "1234"),
        ("update", "1234", "--peer-urls=http://127.0.0.1:1"),
        ("update", "12"),
        ("remove", "1ffffffffffffffff"),
    ],
)
def test_member_errors(solo_url: str, args: Sequence[str]) -> None:
    compare(solo_url, "member", *args)


def test_member_promote_a_learner_not_started(solo: LocalEtcd, solo_url: str) -> None:
    def args(gateway: Gateway) -> list[str]:
        remove_unstarted(gateway)
        return ["member", "promote", f"{add_learner(gateway, new_peer()):x}"]

    compare_each(solo_url, args)


@pytest.mark.parametrize("write_out", ["simple", "json"])
def test_member_promote(solo: LocalEtcd, solo_url: str, write_out: str) -> None:
    """A learner that runs and has caught up becomes a voter; each side promotes one of its
    own, which is removed (and stopped) before the other side's is added.

    In JSON etcdctl 3.5.1 crashes (a nil pointer, exit 2; listed in docs/cli.md): aio-etcd
    prints the reply, the promoted member a voter."""
    learners: list[LocalEtcd] = []
    keep = own_ids(solo)

    def args(gateway: Gateway) -> list[str]:
        remove_others(gateway, keep)
        for learner in learners:
            learner.stop()
        port, peer_port = free_port(), free_port()
        peer = f"http://127.0.0.1:{peer_port}"
        added = add_learner(gateway, peer)
        learner = LocalEtcd(
            enable_v2=False,
            name="learner",
            port=port,
            peer_port=peer_port,
            initial_cluster=f"{solo.name}={solo.peer_url},learner={peer}",
            extra_args=("--initial-cluster-state=existing",),
        )
        learners.append(learner)
        learner.start(wait=False)
        return ["member", "promote", f"{added:x}", "-w", write_out]

    try:
        theirs, ours = compare_each(
            solo_url,
            args,
            normalise=[member_ids(keep), member_order],
            retry_while="can only promote a learner member which is in sync",
            same=write_out == "simple",
        )
        if write_out == "json":
            assert theirs.code == 2 and "nil pointer dereference" in theirs.err
            reply = json.loads(ours.out)
            assert ours.code == 0 and len(reply["members"]) == 2
            assert not any(member.get("isLearner") for member in reply["members"])
    finally:
        remove_others(Gateway(solo.client_url), keep)
        for learner in learners:
            learner.stop()


def remove_others(gateway: Gateway, keep: Sequence[int]) -> None:
    """Remove every member but ``keep``, while they run: a stopped voter would hold the
    quorum of two back. etcd refuses ("unhealthy cluster", HTTP 503) to remove a voter
    until the others have been connected for 5 s, so that is waited for."""
    deadline = time.monotonic() + 10
    for member in members(gateway):
        while int(str(member["ID"])) not in keep:
            try:
                gateway.call("cluster/member/remove", {"ID": member["ID"]})
                break
            except urllib.error.HTTPError as error:
                if error.code != 503 or time.monotonic() > deadline:
                    raise
                time.sleep(0.25)
