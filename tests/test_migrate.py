"""``aio-etcd migrate`` and :mod:`aio_etcd._migrate`: a v2 store copied into v3 keys.

One big v2 tree (a few thousand keys, nested and empty directories, TTLs, awkward names) is
written once and copied to the same etcd (which serves both APIs) and to another one with
v2 off; smaller trees of their own serve the tests that change things.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import pytest

import aio_etcd as etcd
from aio_etcd._cli._migrate import EXIT_DIFFERENT
from aio_etcd._migrate import keep_syncing, migrate, verify
from aio_etcd._server import LocalEtcd

from .v3._etcdctl import run_json

CLI = (sys.executable, "-m", "aio_etcd")
ODD_NAMES = (
    "with space",
    "per%cent",
    "plus+sign",
    "semi;colon",
    "hash#tag",
    "what?",
    "amp&eq=",
    "ключ",
    "日本語",
    "long-" + "x" * 1000,
)
ODD_VALUES = ("a b+c;d&e=f%", "ü €", "line1\nline2", "", "?#%+;", "x" * 2000)


@dataclass
class Tree:
    """What a test wrote into v2, as the v3 copy should show it."""

    root: str
    files: dict[str, str] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    leased: set[str] = field(default_factory=set)
    """v3 keys that must carry a lease."""
    hidden: set[str] = field(default_factory=set)

    def v3(self) -> dict[str, str]:
        return {**self.files, **{d + "/": "" for d in self.dirs}}


async def _write_all(client: etcd.Client, writes: dict[str, str]) -> None:
    gate = asyncio.Semaphore(64)

    async def one(key: str, value: str) -> None:
        async with gate:
            await client.write(key, value)

    await asyncio.gather(*(one(k, v) for k, v in writes.items()))


async def build(client: etcd.Client, bulk: int = 0) -> Tree:
    """A v2 tree under a fresh root: ``bulk`` plain keys in 40 directories, and a few of
    every kind of node."""
    tree = Tree(f"/migrate-{uuid.uuid4().hex[:8]}")
    r = tree.root
    for i in range(bulk):
        tree.files[f"{r}/bulk/g{i % 40:02d}/k{i:05d}"] = f"v{i}"
    tree.files[f"{r}/deep/a/b/c/d/leaf"] = "deep"
    for n, name in enumerate(ODD_NAMES):
        tree.files[f"{r}/odd/{name}"] = ODD_VALUES[n % len(ODD_VALUES)]
    tree.files[f"{r}/odd/папка %+/вложенный"] = "значение"
    await _write_all(client, tree.files)
    for empty in (f"{r}/empty", f"{r}/deep/a/empty2"):
        await client.write(empty, None, dir=True)
    for name in ("k1", "k2"):
        await client.write(f"{r}/ttl/{name}", name, ttl=300)
        tree.files[f"{r}/ttl/{name}"] = name
        tree.leased.add(f"{r}/ttl/{name}")
    await client.write(f"{r}/ttldir", None, dir=True, ttl=300)
    await client.write(f"{r}/ttldir/child", "c")
    tree.files[f"{r}/ttldir/child"] = "c"
    tree.leased |= {f"{r}/ttldir/", f"{r}/ttldir/child"}
    for hidden in (f"{r}/_hidden", f"{r}/odd/_secret"):
        await client.write(hidden, "h")
        tree.hidden.add(hidden)
    for key in [*tree.files, f"{r}/empty/x", f"{r}/deep/a/empty2/x", f"{r}/x"]:
        parts = key.split("/")
        tree.dirs |= {"/".join(parts[:i]) for i in range(2, len(parts))}
    return tree


@pytest.fixture(scope="module")
def big_tree(etcd_server: LocalEtcd) -> Tree:
    async def make() -> Tree:
        async with etcd.Client(port=etcd_server.port) as client:
            return await build(client, bulk=3000)

    return asyncio.run(make())


async def v3_keys(target: etcd.Etcd3Client, root: str) -> dict[str, tuple[str, int]]:
    reply = await target.get_prefix(root)
    return {kv.key.decode(): (kv.value.decode(), kv.lease) for kv in reply.kvs}


def etcdctl_keys(server: LocalEtcd, root: str) -> dict[str, str]:
    document = run_json("etcdctl", "--endpoints", server.client_url, "get", "--prefix", root)
    return {
        base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode()
        for kv in document.get("kvs", [])
    }


def check_copy(found: dict[str, tuple[str, int]], tree: Tree) -> None:
    assert {k: v for k, (v, _) in found.items()} == tree.v3()
    assert {k for k, (_, lease) in found.items() if lease} == tree.leased
    assert not any(k in found for k in tree.hidden)


async def test_copy_into_the_same_etcd_then_again_changes_nothing(
    etcd_server: LocalEtcd, big_tree: Tree
) -> None:
    lines: list[str] = []
    async with (
        etcd.Client(port=etcd_server.port) as source,
        etcd.Etcd3Client(port=etcd_server.port) as target,
    ):
        report = await migrate(source, target, big_tree.root, progress=lines.append)
        assert report.created == len(big_tree.v3()) == report.keys > 3000
        assert (report.updated, report.unchanged, report.extra) == (0, 0, [])
        assert report.leases == len(big_tree.leased)
        check_copy(await v3_keys(target, big_tree.root), big_tree)
        assert await verify(source, target, big_tree.root) == []
        for key in big_tree.leased:
            kv = await target.get(key)
            assert kv is not None
            left = (await target.get_lease_info(kv.lease)).ttl
            assert 290 <= left <= 300

        revision = (await target.status()).header.revision
        again = await migrate(source, target, big_tree.root, progress=lines.append)
        assert (again.created, again.updated, again.unchanged) == (0, 0, report.keys)
        assert (await target.status()).header.revision == revision
    assert etcdctl_keys(etcd_server, big_tree.root + "/") == big_tree.v3()
    assert any("keys/s" in line for line in lines)
    assert lines[-1].startswith("nothing to change")


def cli(
    *args: str, server: LocalEtcd, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")} | (env or {})
    return subprocess.run(
        [*CLI, "--endpoints", server.client_url, "migrate", *args],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
        env=env,
    )


def test_cli_copies_into_another_etcd_verifies_and_tells_a_tampered_key(
    etcd_server: LocalEtcd, etcd3_server: LocalEtcd, big_tree: Tree
) -> None:
    target = ("--target-endpoints", etcd3_server.client_url, "--prefix", big_tree.root)
    done = cli(*target, "--verify", server=etcd_server)
    assert done.returncode == 0, done.stderr
    assert "keys/s" in done.stderr and "verify: the" in done.stderr
    assert etcdctl_keys(etcd3_server, big_tree.root + "/") == big_tree.v3()

    async def check_and_tamper() -> int:
        async with etcd.Etcd3Client(port=etcd3_server.port) as client3:
            check_copy(await v3_keys(client3, big_tree.root), big_tree)
            await client3.put(f"{big_tree.root}/deep/a/b/c/d/leaf", "tampered")
            return (await client3.status()).header.revision

    revision = asyncio.run(check_and_tamper())
    dry = cli(*target, "--dry-run", "--verify", server=etcd_server)
    assert dry.returncode == EXIT_DIFFERENT, dry.stderr
    assert dry.stdout == f"value {big_tree.root}/deep/a/b/c/d/leaf: v2 'deep', v3 'tampered'\n"
    assert "would update 1" in dry.stderr

    async def revision_now() -> int:
        async with etcd.Etcd3Client(port=etcd3_server.port) as client3:
            return (await client3.status()).header.revision

    assert asyncio.run(revision_now()) == revision  # the dry run wrote nothing
    fixed = cli(*target, "--verify", server=etcd_server)
    assert fixed.returncode == 0, fixed.stderr
    assert "update 1," in fixed.stderr


async def test_a_rerun_updates_changed_values_and_reports_deleted_keys(
    etcd_server: LocalEtcd,
) -> None:
    async with (
        etcd.Client(port=etcd_server.port) as source,
        etcd.Etcd3Client(port=etcd_server.port) as target,
    ):
        tree = await build(source)
        await migrate(source, target, tree.root)
        await source.write(f"{tree.root}/deep/a/b/c/d/leaf", "changed")
        await source.delete(f"{tree.root}/odd", recursive=True)
        await source.write(f"{tree.root}/ttl/k1", "k1")  # the TTL goes
        await target.put(f"{tree.root}/_mine", "v3 only, hidden")

        report = await migrate(source, target, tree.root)
        assert (report.created, report.updated) == (0, 2)
        gone = sorted(k for k in tree.v3() if k.startswith(f"{tree.root}/odd/"))
        assert sorted(report.extra) == gone and report.deleted == 0
        assert f"{len(gone)} keys not in v2;" in report.summary()
        kv = await target.get(f"{tree.root}/deep/a/b/c/d/leaf")
        assert kv is not None and kv.value == b"changed"
        kv = await target.get(f"{tree.root}/ttl/k1")
        assert kv is not None and kv.lease == 0
        assert [d.kind for d in await verify(source, target, tree.root)] == ["extra"] * len(gone)

        report = await migrate(source, target, tree.root, delete_extra=True)
        assert report.deleted == len(gone) and not report.created and not report.updated
        assert await verify(source, target, tree.root) == []
        assert await target.get(f"{tree.root}/_mine") is not None  # hidden: left alone
        assert not (await target.get_prefix(f"{tree.root}/odd")).kvs


async def test_dry_run_writes_nothing(etcd_server: LocalEtcd, etcd3_server: LocalEtcd) -> None:
    async with (
        etcd.Client(port=etcd_server.port) as source,
        etcd.Etcd3Client(port=etcd3_server.port) as target,
    ):
        tree = await build(source)
        revision = (await target.status()).header.revision
        report = await migrate(source, target, tree.root, dry_run=True)
        assert report.created == len(tree.v3()) and report.dry_run
        assert "would create" in report.summary()
        assert (await target.status()).header.revision == revision
        assert len(await verify(source, target, tree.root)) == len(tree.v3())


async def test_a_missing_prefix_is_an_error(etcd_server: LocalEtcd) -> None:
    async with (
        etcd.Client(port=etcd_server.port) as source,
        etcd.Etcd3Client(port=etcd_server.port) as target,
    ):
        with pytest.raises(etcd.EtcdKeyNotFound):
            await migrate(source, target, f"/nowhere-{uuid.uuid4().hex}")
        with pytest.raises(etcd.EtcdValueError, match="prefix"):
            await migrate(source, target, "/a/../b")
        async with etcd.Client(port=etcd_server.port, api="v3") as on_v3:
            with pytest.raises(etcd.EtcdValueError, match="api='v2'"):
                await migrate(on_v3, target)
        with pytest.raises(TypeError, match="target"):
            await verify(source, source)  # type: ignore[arg-type]


def test_cli_refuses_bad_arguments_and_a_source_without_v2(
    etcd_server: LocalEtcd, etcd3_server: LocalEtcd
) -> None:
    both = cli("--keep-syncing", "--dry-run", server=etcd_server)
    assert both.returncode == 1
    assert both.stderr == "Error:  --keep-syncing cannot go with --dry-run\n"
    no_v2 = cli("--prefix", "/anything", server=etcd3_server)
    assert no_v2.returncode == 4, no_v2.stderr
    assert "serves no etcd v2 API" in no_v2.stderr and len(no_v2.stderr.splitlines()) == 1


def test_cli_authenticates_to_the_target(etcd_server: LocalEtcd) -> None:
    """A target with auth on: its credentials from ``--target-username`` and
    ``$ETCDCTL_TARGET_PASSWORD``; none given is a bad-credentials exit."""
    password = "t4rget-pw"

    async def prepare(port: int) -> str:
        async with etcd.Etcd3Client(port=port) as anonymous:
            await anonymous.auth.user_add("root", password)
            await anonymous.auth.user_grant_role("root", "root")
            await anonymous.auth.enable()
        async with etcd.Client(port=etcd_server.port) as source:
            return (await build(source)).root

    with LocalEtcd(name="migrate-auth", enable_v2=False) as secured:
        root = asyncio.run(prepare(secured.port))
        target = ("--prefix", root, "--target-endpoints", secured.client_url)
        refused = cli(*target, server=etcd_server)
        assert refused.returncode == 3, refused.stderr
        env = {"ETCDCTL_TARGET_PASSWORD": password}
        done = cli(*target, "--target-username", "root", "--verify", server=etcd_server, env=env)
        assert done.returncode == 0, done.stderr
        assert "verify: the" in done.stderr


class Syncing:
    """``aio-etcd migrate --keep-syncing`` running in the background."""

    def __init__(self, args: list[str]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
        self.process = subprocess.Popen(
            [*CLI, *args], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        assert self.process.stderr is not None
        self.lines: list[str] = []
        for line in self.process.stderr:
            self.lines.append(line)
            if "syncing changes from" in line:
                return
        pytest.fail(f"migrate ended before syncing: {''.join(self.lines)}")

    def stop(self, signum: int) -> tuple[int, str]:
        self.process.send_signal(signum)
        _, err = self.process.communicate(timeout=30)
        return self.process.returncode, "".join(self.lines) + err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "the v3 copy did not catch up"
        await asyncio.sleep(0.1)


@pytest.fixture
def syncing() -> Iterator[list[Syncing]]:
    started: list[Syncing] = []
    yield started
    for process in started:
        process.kill()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
async def test_keep_syncing_applies_every_change_until_a_signal(
    etcd_server: LocalEtcd, etcd3_server: LocalEtcd, syncing: list[Syncing], signum: int
) -> None:
    async with (
        etcd.Client(port=etcd_server.port) as source,
        etcd.Etcd3Client(port=etcd3_server.port) as target,
    ):
        r = f"/sync-{uuid.uuid4().hex[:8]}"
        await source.write(f"{r}/old/a", "1")
        await source.write(f"{r}/old/b", "2")
        await source.write(f"{r}/gone", "3")
        args = ["--endpoints", etcd_server.client_url, "migrate", "--prefix", r]
        args += ["--target-endpoints", etcd3_server.client_url, "--keep-syncing"]
        process = await asyncio.to_thread(Syncing, args)
        syncing.append(process)

        await source.write(f"{r}/old/a", "changed")
        await source.write(f"{r}/new/deeper/key", "fresh")
        await source.write(f"{r}/made", None, dir=True)
        await source.write(f"{r}/soon", "short", ttl=1)
        await source.delete(f"{r}/gone")
        await source.delete(f"{r}/old", recursive=True)
        await source.write(f"{r}/z-last", "done")
        expected = {
            f"{r}/": "",
            f"{r}/new/": "",
            f"{r}/new/deeper/": "",
            f"{r}/new/deeper/key": "fresh",
            f"{r}/made/": "",
            f"{r}/z-last": "done",
        }

        async def caught_up() -> bool:
            found = {k: v for k, (v, _) in (await v3_keys(target, r)).items()}
            return found == expected and not await source.contains(f"{r}/soon")

        await eventually(caught_up)  # the TTL key expired in v2, and went in v3
        assert await verify(source, target, r) == []
        code, err = await asyncio.to_thread(process.stop, signum)
    assert code == 0, err
    assert "stopped syncing at v2 index" in err
    assert "Traceback" not in err


async def test_keep_syncing_as_a_library_call_stops_when_told(
    etcd_server: LocalEtcd,
) -> None:
    async with (
        etcd.Client(port=etcd_server.port) as source,
        etcd.Etcd3Client(port=etcd_server.port) as target,
    ):
        r = f"/sync-{uuid.uuid4().hex[:8]}"
        await source.write(f"{r}/a", "1")
        await source.write(f"{r}/session", "alive", ttl=6)
        report = await migrate(source, target, r)
        stop = asyncio.Event()
        task = asyncio.create_task(
            keep_syncing(source, target, r, index=report.index + 1, stop=stop, renew_every=0.2)
        )
        await source.write(f"{r}/a", "2")
        await source.write(f"{r}/b/c", "3")
        await source.refresh(f"{r}/session", ttl=100)  # v2 tells no watcher of this

        async def caught_up() -> bool:
            found = await v3_keys(target, r)
            session = found.pop(f"{r}/session", ("", 0))
            left = (await target.get_lease_info(session[1])).ttl if session[1] else -1
            return (
                left > 50
                and session[0] == "alive"
                and found
                == {
                    f"{r}/": ("", 0),
                    f"{r}/a": ("2", 0),
                    f"{r}/b/": ("", 0),
                    f"{r}/b/c": ("3", 0),
                }
            )

        await eventually(caught_up)
        stop.set()
        synced = await asyncio.wait_for(task, 10)
        assert synced.changes == 2


def _shape(node: etcd.EtcdNode) -> set[tuple[str, bool, str | None, bool]]:
    """Every node below ``node``: key, dir, value, whether it has a TTL."""
    return {(n.key, n.dir, n.value, n.ttl is not None) for n in node.get_subtree()}


async def test_client_on_v3_reads_the_copy_as_v2_read_the_original(
    etcd_server: LocalEtcd, etcd3_server: LocalEtcd
) -> None:
    async with (
        etcd.Client(port=etcd_server.port) as source,
        etcd.Etcd3Client(port=etcd3_server.port) as target,
        etcd.Client(port=etcd3_server.port, api="v3") as on_v3,
    ):
        tree = await build(source)
        await migrate(source, target, tree.root)
        original = await source.read(tree.root, recursive=True, sorted=True)
        copy = await on_v3.read(tree.root, recursive=True, sorted=True)
        # A directory's TTL lives on as leases of the keys in it (a lease covers keys, not
        # a prefix): they still vanish together, and the TTL shows on the keys.
        moved = {
            (f"{tree.root}/ttldir", True, None, True),
            (f"{tree.root}/ttldir/child", False, "c", False),
        }
        assert moved <= _shape(original.node)
        assert _shape(copy.node) == _shape(original.node) - moved | {
            (f"{tree.root}/ttldir", True, None, False),
            (f"{tree.root}/ttldir/child", False, "c", True),
        }
        assert [n.key for n in copy.node.get_subtree()] == [
            n.key for n in original.node.get_subtree()
        ]
        for key in (f"{tree.root}/ttl/k1", f"{tree.root}/ttldir/child"):
            result = await on_v3.read(key)
            assert result.ttl is not None and 280 <= result.ttl <= 300
        for key in (f"{tree.root}/empty", f"{tree.root}/deep/a/empty2"):
            assert (await on_v3.read(key)).dir
        with pytest.raises(etcd.EtcdKeyNotFound):
            await on_v3.read(f"{tree.root}/_hidden")


async def test_the_whole_store_by_default() -> None:
    """No prefix: everything v2 lists, from the root (which has no marker)."""
    with LocalEtcd(name="migrate-root") as server:
        async with (
            etcd.Client(port=server.port) as source,
            etcd.Etcd3Client(port=server.port) as target,
            etcd.Client(port=server.port, api="v3") as on_v3,
        ):
            tree = await build(source)
            await source.write("/top", "level")
            await source.write("/_top_hidden", "h")
            report = await migrate(source, target)
            assert report.created == len(tree.v3()) + 1
            assert await verify(source, target) == []
            assert {k: v for k, (v, _) in (await v3_keys(target, "/")).items()} == {
                **tree.v3(),
                "/top": "level",
            }
            original = await source.read("/", recursive=True, sorted=True)
            copy = await on_v3.read("/", recursive=True, sorted=True)
            assert [n.key for n in copy.node.get_subtree()] == [
                n.key for n in original.node.get_subtree()
            ]
            assert (await migrate(source, target)).summary().startswith("nothing to change")
