"""Fixtures of the comparisons with etcdctl: the v2-off etcd's URL and a key prefix of each
test's own."""

from __future__ import annotations

import uuid

import pytest

from aio_etcd._server import LocalEtcd


@pytest.fixture
def url(etcd3_server: LocalEtcd) -> str:
    return etcd3_server.client_url


@pytest.fixture
def prefix() -> str:
    """Keys no other test uses, e.g. ``/c3/3f2a.../``."""
    return f"/c3/{uuid.uuid4().hex[:12]}/"
