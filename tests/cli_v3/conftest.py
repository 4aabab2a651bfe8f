"""Fixtures of the comparisons with etcdctl: the v2-off etcd's URL and a key prefix of each
test's own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from aio_etcd._server import LocalEtcd
from tests.cli_v3._compare import environment, forks


@pytest.fixture
def url(etcd3_server: LocalEtcd) -> str:
    return etcd3_server.client_url


@pytest.fixture
def prefix() -> str:
    """Keys no other test uses, e.g. ``/c3/3f2a.../``."""
    return f"/c3/{uuid.uuid4().hex[:12]}/"


@pytest.fixture(scope="session", autouse=True)
def _forkserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """``aio-etcd`` runs forked from one process that imported it once (see
    ``_forkserver.py``): a comparison then costs milliseconds, not a Python start."""
    directory = tmp_path_factory.mktemp("forks")
    path = str(directory / "socket")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.cli_v3._forkserver", path],
        stdin=subprocess.DEVNULL,
        env=environment(),
    )
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(path):
            assert server.poll() is None, "the fork server ended"
            assert time.monotonic() < deadline, "the fork server did not start"
            time.sleep(0.05)
        forks.path, forks.directory = path, str(directory)
        yield
    finally:
        forks.path = None
        server.kill()
        server.wait()
