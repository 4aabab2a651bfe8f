"""Comparisons that change or see the whole store: ``compaction``, ``del --from-key``,
``lease list``, and a watch canceled by compaction. They run on an etcd of this module's
own (v2 off), so that no other test's keys, leases or history are touched."""

from __future__ import annotations

import signal
from collections.abc import Iterator, Mapping

import pytest

from aio_etcd._server import LocalEtcd
from tests.cli_v3._compare import AIO, Gateway, Started, compare, lease_ids, revisions, usage
from tests.v3._etcdctl import tool

pytestmark = pytest.mark.etcdctl

FORMATS = ("simple", "json", "fields", "table")


@pytest.fixture(scope="module")
def own() -> Iterator[str]:
    with LocalEtcd(enable_v2=False) as server:
        yield server.client_url


def test_compaction(own: str) -> None:
    """Each side compacts to the revision of its own third write."""

    def setup(gateway: Gateway) -> Mapping[str, object]:
        revisions = [gateway.put("/compact/k", str(n)) for n in range(3)]
        return {"rev": revisions[2]}

    compare(own, "compaction", "{rev}", setup=setup, normalise=[_revision_number])
    compare(own, "compaction", "--physical", "{rev}", setup=setup, normalise=[_revision_number])


def _revision_number(text: str, ran: object) -> str:
    """``compacted revision N``: N is a revision of each side's own writes."""
    return text.split(" revision ")[0] if text.startswith("compacted revision") else text


@pytest.mark.parametrize(
    "args",
    [
        ["compaction", "1"],  # compacted already
        ["compaction", "999999999"],
        ["compaction"],
        ["compaction", "1", "2"],
        ["compaction", "ten"],
        ["compaction", "-w", "json", "999999999"],
    ],
)
def test_compaction_errors(own: str, args: list[str]) -> None:
    gateway = Gateway(own)
    revision = gateway.put("/compact/first", "x")
    gateway.call("kv/compaction", {"revision": revision})
    compare(own, *args, normalise=[usage])


@pytest.mark.parametrize("write_out", FORMATS)
def test_delete_from_key(own: str, write_out: str) -> None:
    def setup(gateway: Gateway) -> Mapping[str, object]:
        for key in ("/z/a", "/z/b", "/z/c", "/zz"):
            gateway.put(key, key)
        return {}

    compare(
        own,
        "del",
        "--from-key",
        "--prev-kv",
        "/z/b",
        "-w",
        write_out,
        setup=setup,
        reset="/z",
        normalise=[revisions],
        state="/z",
    )


@pytest.mark.parametrize("write_out", FORMATS)
def test_lease_list(own: str, write_out: str) -> None:
    """The leases of this server only: each side grants two, and revokes them after."""
    granted: list[int] = []

    def setup(gateway: Gateway) -> Mapping[str, object]:
        for lease in granted:
            gateway.revoke(lease)
        granted[:] = [gateway.grant(600), gateway.grant(600)]
        return {}

    try:
        compare(
            own, "lease", "list", "-w", write_out, setup=setup, normalise=[revisions, lease_ids]
        )
    finally:
        for lease in granted:
            Gateway(own).revoke(lease)


@pytest.mark.parametrize("write_out", ["simple", "json", "fields"])
def test_watch_from_a_compacted_revision(own: str, write_out: str) -> None:
    """etcd cancels the watch: a line on stderr, then ``Error: watch is canceled by the
    server`` and exit 5."""
    gateway = Gateway(own)
    gateway.put("/compacted/k", "1")
    revision = gateway.put("/compacted/k", "2")
    gateway.call("kv/compaction", {"revision": revision})
    outcome = compare(own, "watch", "--rev=1", "/compacted/k", "-w", write_out)
    assert outcome.etcdctl.code == 5
    assert outcome.etcdctl.err.splitlines()[-1] == "Error: watch is canceled by the server"
    assert outcome.aio.err == outcome.etcdctl.err


@pytest.fixture(scope="module")
def notifying() -> Iterator[str]:
    """An etcd that sends idle watches a progress notification every second."""
    interval = ("--experimental-watch-progress-notify-interval=1s",)
    with LocalEtcd(enable_v2=False, extra_args=interval) as server:
        yield server.client_url


@pytest.mark.parametrize("write_out", ["simple", "json", "fields"])
def test_watch_progress_notify(notifying: str, write_out: str) -> None:
    """``progress notify: <revision>``, then the message in the format chosen."""
    lines = {"simple": 1, "json": 2, "fields": 5}[write_out]
    seen = []
    for program in ([str(tool("etcdctl"))], list(AIO)):
        watch = Started(program, notifying, "watch", "--progress-notify", "/quiet", "-w", write_out)
        try:
            seen.append(watch.lines(lines))
            end = watch.stop()
            assert end.code in (-signal.SIGINT, 130) and end.err == ""
        finally:
            watch.kill()
    theirs, ours = seen
    assert ours == theirs
    assert theirs[0].startswith("progress notify: ")
