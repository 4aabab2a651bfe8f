"""Maintenance against a real etcd with the v2 API off: status, alarms, defragment, hashes,
snapshots (checked with etcd's own etcdutl, and restored into a running etcd)."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalEtcd, free_port
from aio_etcd._transport import AiohttpTransport, HttpResponse, HttpStream
from aio_etcd.v3 import AlarmMember, AlarmRequest, AlarmResponse

from ._etcdctl import run, run_json


@pytest.fixture(scope="module")
def own_server() -> Iterator[LocalEtcd]:
    """A server of this module's own: alarms and compaction would disturb other tests."""
    with LocalEtcd(name="maint", enable_v2=False) as server:
        yield server


@pytest_asyncio.fixture
async def own(own_server: LocalEtcd) -> AsyncIterator[etcd.Etcd3Client]:
    async with etcd.Etcd3Client(port=own_server.port) as client:
        yield client


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-")[0].split("."))


async def test_status_says_what_etcdctl_says(client: etcd.Etcd3Client) -> None:
    endpoint = client.endpoints[0]
    status = await client.maintenance.status(endpoint)
    assert status.member_id != 0 and status.leader == status.member_id and status.is_leader
    assert 0 < status.db_size_in_use <= status.db_size
    assert 0 < status.raft_applied_index <= status.raft_index and status.raft_term >= 1
    assert status.errors == [] and not status.is_learner
    flat = await client.status()
    assert (flat.member_id, flat.version) == (status.member_id, status.version)

    [theirs] = run_json("etcdctl", f"--endpoints={endpoint}", "endpoint", "status")
    assert theirs["Endpoint"] == endpoint
    assert theirs["Status"]["header"]["member_id"] == status.member_id
    assert theirs["Status"]["leader"] == status.leader
    assert theirs["Status"]["version"] == status.version
    assert theirs["Status"]["raftTerm"] == status.raft_term
    assert _version(status.version) >= (3, 4)


async def test_hash_changes_with_the_database(client: etcd.Etcd3Client, prefix: bytes) -> None:
    first = await client.maintenance.hash()
    again = await client.maintenance.hash(client.endpoints[0])
    assert first.hash == again.hash and 0 <= first.hash < 2**32
    assert first.header.revision == again.header.revision
    await client.put(prefix + b"h", b"changed")
    after = await client.maintenance.hash()
    assert after.header.revision > first.header.revision and after.hash != first.hash


async def test_hashkv_is_never_passed_off_as_hash(client: etcd.Etcd3Client, prefix: bytes) -> None:
    await client.put(prefix + b"k", b"v")
    status = await client.status()
    if _version(status.version) >= (3, 5, 10):  # routed: it must agree with etcdctl
        reply = await client.maintenance.hashkv()
        theirs = run_json("etcdctl", f"--endpoints={client.endpoints[0]}", "endpoint", "hashkv")
        assert reply.hash == theirs[0]["HashKV"]["hash"]
        return
    with pytest.raises(etcd.EtcdAPIUnavailable, match=r"hashkv needs etcd >= 3\.5\.10") as caught:
        await client.maintenance.hashkv()
    assert caught.value.status == 404
    with pytest.raises(etcd.EtcdAPIUnavailable, match=r"3\.5\.10"):
        await client.maintenance.hashkv(status.header.revision, endpoint=client.endpoints[0])


async def test_alarms_are_listed_and_disarmed(own: etcd.Etcd3Client, prefix: bytes) -> None:
    assert await own.maintenance.alarms() == []
    member = (await own.status()).member_id
    # etcd raises NOSPACE itself only when the quota is reached; the API can raise it too.
    raised = await own._gateway.call(
        "maintenance/alarm",
        AlarmRequest(action="ACTIVATE", member_id=member, alarm="NOSPACE"),
        AlarmResponse,
        timeout=5,
        repeatable=False,
    )
    assert raised.alarms == [AlarmMember(member_id=member, alarm="NOSPACE")]
    try:
        assert await own.maintenance.alarms() == raised.alarms
        with pytest.raises(etcd.EtcdNoSpace, match="database space exceeded"):
            await own.put(prefix + b"full", b"x")
        assert any("NOSPACE" in error for error in (await own.status()).errors)
    finally:
        cleared = await own.maintenance.disarm()
    assert cleared == raised.alarms
    assert await own.maintenance.alarms() == []
    assert await own.maintenance.disarm() == []
    await own.put(prefix + b"full", b"writable again")


async def test_one_alarm_is_disarmed_by_itself(own: etcd.Etcd3Client) -> None:
    member = (await own.status()).member_id
    for kind in ("NOSPACE", "CORRUPT"):
        await own._gateway.call(
            "maintenance/alarm",
            AlarmRequest(action="ACTIVATE", member_id=member, alarm=kind),
            AlarmResponse,
            timeout=5,
            repeatable=False,
        )
    try:
        alarms = await own.maintenance.alarms()
        assert sorted(alarm.alarm for alarm in alarms) == ["CORRUPT", "NOSPACE"]
        nospace = next(alarm for alarm in alarms if alarm.alarm == "NOSPACE")
        assert await own.maintenance.disarm(nospace) == [nospace]
        assert [alarm.alarm for alarm in await own.maintenance.alarms()] == ["CORRUPT"]
    finally:
        await own.maintenance.disarm()
    assert await own.maintenance.alarms() == []


async def test_defragment_gives_space_back(own: etcd.Etcd3Client, prefix: bytes) -> None:
    endpoint = own.endpoints[0]
    value = os.urandom(16 * 1024)
    for index in range(120):
        await own.put(prefix + b"%03d" % index, value)
    deleted = await own.delete_prefix(prefix)
    await own.compact(deleted.header.revision, physical=True)
    # Free pages stay in the file until a defragmentation; how soon etcd counts them out of
    # dbSizeInUse varies between versions, so only the file's size is compared.
    before = await own.maintenance.status(endpoint)
    await own.maintenance.defragment(endpoint)
    after = await own.maintenance.status(endpoint)
    assert after.db_size < before.db_size - 1024 * 1024
    await own.maintenance.defragment()  # the member in use: no endpoint needed
    assert (await own.get(prefix + b"000")) is None


async def _write_keys(client: etcd.Etcd3Client, prefix: bytes) -> int:
    for index in range(20):
        await client.put(prefix + b"%02d" % index, b"value %d" % index)
    return (await client.put(prefix + b"last", b"the end")).header.revision


async def test_snapshot_to_a_path_is_what_etcdutl_and_etcd_can_use(
    own: etcd.Etcd3Client, prefix: bytes, tmp_path: Path
) -> None:
    revision = await _write_keys(own, prefix)
    path = tmp_path / "backup.db"
    size = await own.maintenance.snapshot(path)
    assert size == path.stat().st_size and size > 20 * 1024
    assert not (tmp_path / "backup.db.part").exists()

    status = run_json("etcdutl", "snapshot", "status", str(path))
    assert status["revision"] >= revision and status["totalKey"] >= 21
    # Restore it (etcdutl checks the SHA-256 at its end) and read the keys back from it.
    peer_port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="aio-etcd-restore-"))
    run(
        "etcdutl",
        "snapshot",
        "restore",
        str(path),
        f"--data-dir={workdir / 'data'}",
        "--name=restored",
        f"--initial-cluster=restored=http://{LOOPBACK}:{peer_port}",
        f"--initial-advertise-peer-urls=http://{LOOPBACK}:{peer_port}",
    )
    restored = LocalEtcd(name="restored", enable_v2=False, port=free_port(), peer_port=peer_port)
    restored._workdir = workdir  # start on the restored data, not on a fresh directory
    try:
        restored.restart()
        async with etcd.Etcd3Client(port=restored.port) as reader:
            kv = await reader.get(prefix + b"last")
            assert kv is not None and kv.value == b"the end" and kv.mod_revision == revision
            assert (await reader.get_prefix(prefix)).count == 21
    finally:
        restored.stop()


async def test_snapshot_to_a_file_object_writes_from_its_position(
    client: etcd.Etcd3Client, prefix: bytes, tmp_path: Path
) -> None:
    await _write_keys(client, prefix)
    buffer = io.BytesIO()
    buffer.write(b"HEAD")
    size = await client.maintenance.snapshot(buffer, endpoint=client.endpoints[0])
    assert buffer.getvalue()[:4] == b"HEAD" and len(buffer.getvalue()) == 4 + size
    # The same bytes on disk are a snapshot etcdutl reads.
    with open(tmp_path / "copy.db", "wb") as file:  # noqa: ASYNC230 - a test
        assert await client.maintenance.snapshot(file) > 0
    assert run_json("etcdutl", "snapshot", "status", str(tmp_path / "copy.db"))["totalKey"] > 0


async def test_snapshot_moves_to_a_member_that_answers(
    etcd3_server: LocalEtcd, tmp_path: Path
) -> None:
    dead = free_port()
    hosts = ((LOOPBACK, dead), (LOOPBACK, etcd3_server.port))
    async with etcd.Etcd3Client(hosts) as client:
        size = await client.maintenance.snapshot(tmp_path / "s.db", timeout=20)
    assert size == (tmp_path / "s.db").stat().st_size
    async with etcd.Etcd3Client(port=dead) as nobody:
        with pytest.raises(etcd.EtcdConnectionFailed):
            await nobody.maintenance.snapshot(tmp_path / "none.db", timeout=5)
    assert sorted(os.listdir(tmp_path)) == ["s.db"]  # no partial file left behind


class _CutSnapshot:
    """A transport that passes everything to a real one, but ends a snapshot stream one
    message early: the damage a proxy or a broken member could do."""

    def __init__(self) -> None:
        self.real = AiohttpTransport()

    async def request(self, method: str, url: str, **options: Any) -> HttpResponse:
        return await self.real.request(method, url, **options)

    def stream(
        self, method: str, url: str, **options: Any
    ) -> AbstractAsyncContextManager[HttpStream]:
        return _Cut(self.real.stream(method, url, **options))

    async def aclose(self) -> None:
        await self.real.aclose()


class _Cut:
    def __init__(self, inner: AbstractAsyncContextManager[HttpStream]) -> None:
        self.inner = inner

    async def __aenter__(self) -> HttpStream:
        stream = await self.inner.__aenter__()
        lines = []
        while line := await stream.readline():
            lines.append(line)
        body = b"".join(lines[:-1])  # the last message holds the checksum's end

        class Short:
            status = stream.status
            headers = stream.headers
            rest = io.BytesIO(body)

            async def readline(self) -> bytes:
                return self.rest.readline()

            async def read(self) -> bytes:
                return self.rest.read()

        return Short()

    async def __aexit__(self, *exc: object) -> None:
        await self.inner.__aexit__(None, None, None)


async def test_a_cut_snapshot_is_refused_and_no_file_is_left(
    etcd3_server: LocalEtcd, tmp_path: Path
) -> None:
    async with etcd.Etcd3Client(port=etcd3_server.port, transport=_CutSnapshot()) as client:
        with pytest.raises(etcd.EtcdUnexpectedResponse, match="SHA-256"):
            await client.maintenance.snapshot(tmp_path / "cut.db")
        assert os.listdir(tmp_path) == []
        buffer = io.BytesIO()
        with pytest.raises(etcd.EtcdUnexpectedResponse, match="cut short"):
            await client.maintenance.snapshot(buffer)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda c: c.maintenance.status("127.0.0.1:2379"), etcd.EtcdValueError, "endpoint"),
        (lambda c: c.maintenance.hash("http://h:1/v3"), etcd.EtcdValueError, "path"),
        (lambda c: c.maintenance.defragment(2379), TypeError, "endpoint"),
        (lambda c: c.maintenance.hashkv(0), etcd.EtcdValueError, "revision"),
        (lambda c: c.maintenance.disarm("NOSPACE"), TypeError, "alarm"),
        (lambda c: c.maintenance.snapshot(3), TypeError, "destination"),
        (lambda c: c.maintenance.snapshot("x.db", timeout=0), etcd.EtcdValueError, "timeout"),
    ],
)
async def test_maintenance_arguments_are_checked_before_sending(
    call: Any, error: type[Exception], message: str
) -> None:
    async with etcd.Etcd3Client(port=free_port()) as client:  # nothing listens there
        with pytest.raises(error, match=message):
            await call(client)
