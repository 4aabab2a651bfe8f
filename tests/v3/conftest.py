"""Fixtures of the v3 tests: the plugin's ``etcd3_server``/``etcd3_client`` (v2 off) and a
key prefix of each test's own."""

from __future__ import annotations

import uuid

import pytest

import aio_etcd as etcd


@pytest.fixture
def prefix() -> bytes:
    """Keys no other test uses, e.g. ``b"/t3/3f2a.../"``."""
    return f"/t3/{uuid.uuid4().hex}/".encode()


@pytest.fixture
def client(etcd3_client: etcd.Etcd3Client) -> etcd.Etcd3Client:
    return etcd3_client
