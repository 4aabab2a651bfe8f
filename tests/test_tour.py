"""The README's first command: the tour, run as users run it."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd, free_port


def test_tour_starts_its_own_etcd() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aio_etcd", "tour"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "The throwaway etcd is stopped" in done.stdout
    assert "-> 'barbar'" in done.stdout
    assert "EtcdKeyNotFound" in done.stdout and "EtcdCompareFailed" in done.stdout
    assert "['set one', 'set two']" in done.stdout
    assert "(await client.stats()).state\n    -> StateLeader" in done.stdout
    assert "acquire(blocking=False)\n    -> False" in done.stdout


def test_tour_against_an_endpoint_leaves_nothing_behind(etcd_server: LocalEtcd) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "aio_etcd", "tour", "--endpoint", etcd_server.client_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "throwaway" not in done.stdout

    async def tour_leftovers() -> list[etcd.EtcdNode]:
        async with etcd.Client(port=etcd_server.port) as client:
            return list((await client.read("/aio-etcd-tour")).children)

    assert asyncio.run(tour_leftovers()) == []


def test_tour_reports_an_unreachable_endpoint_in_one_line() -> None:
    unused = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [sys.executable, "-m", "aio_etcd", "tour", "--endpoint", unused],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("aio-etcd: EtcdConnectionFailed")
    assert "Traceback" not in done.stderr


def test_tour_on_v3_leaves_nothing_behind(etcd3_server: LocalEtcd) -> None:
    """``tour --api v3``: the same walk with Client(api="v3"), on a server without v2."""
    endpoint = etcd3_server.client_url
    done = subprocess.run(
        [sys.executable, "-m", "aio_etcd", "tour", "--api", "v3", "--endpoint", endpoint],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "-> 'barbar'" in done.stdout
    assert "EtcdKeyNotFound" in done.stdout and "EtcdCompareFailed" in done.stdout
    assert "['set one', 'set two']" in done.stdout
    assert "acquire(blocking=False)\n    -> False" in done.stdout

    async def tour_leftovers() -> int:
        async with etcd.Etcd3Client(port=etcd3_server.port) as client:
            return (await client.get_prefix("/aio-etcd-tour/", count_only=True)).count

    assert asyncio.run(tour_leftovers()) == 0


def test_tour_on_v3_starts_its_own_etcd_without_v2() -> None:
    """``tour --api v3`` with no endpoint: a throwaway etcd with its v2 API off."""
    done = subprocess.run(
        [sys.executable, "-m", "aio_etcd", "tour", "--api", "v3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "The throwaway etcd is stopped" in done.stdout
    assert "-> 'barbar'" in done.stdout
    assert "['set one', 'set two']" in done.stdout
    assert "(await client.stats()).state\n    -> StateLeader" in done.stdout
    assert "acquire(blocking=False)\n    -> False" in done.stdout
