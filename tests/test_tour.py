"""The README's first command: the tour, run as users run it, on either API."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd, free_port


def tour(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aio_etcd", "tour", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_tour_starts_its_own_etcd(api: str) -> None:
    done = tour("--api", api)
    assert done.returncode == 0, done.stderr
    assert f"Client(api='{api}')" in done.stdout
    assert ("v2 API off" in done.stdout) == (api == "v3")
    assert "The throwaway etcd is stopped" in done.stdout
    assert "-> 'barbar'" in done.stdout
    assert "EtcdKeyNotFound" in done.stdout and "EtcdCompareFailed" in done.stdout
    assert "['set one', 'set two']" in done.stdout
    assert "(await client.stats()).state\n    -> StateLeader" in done.stdout
    assert "acquire(blocking=False)\n    -> False" in done.stdout


def test_tour_against_an_endpoint_leaves_nothing_behind(
    api: str, etcd_server: LocalEtcd, etcd3_server: LocalEtcd
) -> None:
    server = etcd_server if api == "v2" else etcd3_server
    done = tour("--endpoint", server.client_url, "--api", api)
    assert done.returncode == 0, done.stderr
    assert "throwaway" not in done.stdout

    async def tour_leftovers() -> list[bytes]:
        async with etcd.Etcd3Client(port=server.port) as client3:
            return [kv.key for kv in (await client3.get_prefix("/aio-etcd-tour/")).kvs]

    async def tour_leftovers_v2() -> list[etcd.EtcdNode]:
        async with etcd.Client(port=server.port) as client:
            return list((await client.read("/aio-etcd-tour")).children)

    # v2 keeps its tree apart from v3 keys; Client(api="v3") writes v3 keys.
    if api == "v2":
        assert asyncio.run(tour_leftovers_v2()) == []
    else:
        assert asyncio.run(tour_leftovers()) == []


def test_tour_reports_an_unreachable_endpoint_in_one_line() -> None:
    done = tour("--endpoint", f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert done.stderr.startswith("aio-etcd: EtcdConnectionFailed")
    assert "Traceback" not in done.stderr
