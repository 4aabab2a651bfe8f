"""Every v2 error of the keys API, raised on v3 as v2 raises it: same class, code, message,
cause and HTTP status (checked against etcd's v2 API on the same requests)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import pytest_asyncio

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd

Call = Callable[[etcd.Client, str], Awaitable[object]]


@pytest_asyncio.fixture
async def v2_client(etcd_server: LocalEtcd) -> AsyncIterator[etcd.Client]:
    async with etcd.Client(port=etcd_server.port) as built:
        yield built


async def _setup(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/file", "v")
    await client.write(f"{prefix}/dir/child", "c")
    await client.write(f"{prefix}/empty", None, dir=True)


CASES: dict[str, tuple[Call, type[etcd.EtcdException], int]] = {
    "read missing, deep": (lambda c, p: c.read(f"{p}/missing/deeper"), etcd.EtcdKeyNotFound, 100),
    "read below a file": (lambda c, p: c.read(f"{p}/file/x"), etcd.EtcdNotDir, 104),
    "write below a file": (lambda c, p: c.write(f"{p}/file/x/y", "v"), etcd.EtcdNotDir, 104),
    "set a directory": (lambda c, p: c.write(f"{p}/dir", "v"), etcd.EtcdNotFile, 102),
    "set a directory as one": (
        lambda c, p: c.write(f"{p}/empty", None, dir=True),
        etcd.EtcdNotFile,
        102,
    ),
    "create existing": (
        lambda c, p: c.write(f"{p}/file", "v", prevExist=False),
        etcd.EtcdAlreadyExist,
        105,
    ),
    "create over a directory": (
        lambda c, p: c.write(f"{p}/dir", "v", prevExist=False),
        etcd.EtcdAlreadyExist,
        105,
    ),
    "update missing": (
        lambda c, p: c.write(f"{p}/none", "v", prevExist=True),
        etcd.EtcdKeyNotFound,
        100,
    ),
    "update a directory": (
        lambda c, p: c.write(f"{p}/dir", "v", prevExist=True),
        etcd.EtcdNotFile,
        102,
    ),
    "compare value": (
        lambda c, p: c.write(f"{p}/file", "new", prevValue="old"),
        etcd.EtcdCompareFailed,
        101,
    ),
    "compare index": (
        lambda c, p: c.write(f"{p}/file", "new", prevIndex=1),
        etcd.EtcdCompareFailed,
        101,
    ),
    "compare both": (
        lambda c, p: c.write(f"{p}/file", "new", prevValue="old", prevIndex=1),
        etcd.EtcdCompareFailed,
        101,
    ),
    "compare missing": (
        lambda c, p: c.write(f"{p}/none/x", "new", prevValue="old"),
        etcd.EtcdKeyNotFound,
        100,
    ),
    "compare a directory": (
        lambda c, p: c.write(f"{p}/dir", "new", prevValue="old"),
        etcd.EtcdNotFile,
        102,
    ),
    "delete missing": (lambda c, p: c.delete(f"{p}/none"), etcd.EtcdKeyNotFound, 100),
    "delete missing, deep": (
        lambda c, p: c.delete(f"{p}/none/deeper", recursive=True),
        etcd.EtcdKeyNotFound,
        100,
    ),
    "delete below a file": (lambda c, p: c.delete(f"{p}/file/x"), etcd.EtcdNotDir, 104),
    "delete a directory": (lambda c, p: c.delete(f"{p}/dir"), etcd.EtcdNotFile, 102),
    "delete a full directory": (
        lambda c, p: c.delete(f"{p}/dir", dir=True),
        etcd.EtcdDirNotEmpty,
        108,
    ),
    "compare and delete": (
        lambda c, p: c.delete(f"{p}/file", prevValue="old"),
        etcd.EtcdCompareFailed,
        101,
    ),
    "compare and delete missing": (
        lambda c, p: c.delete(f"{p}/none", prevValue="old"),
        etcd.EtcdKeyNotFound,
        100,
    ),
    "refresh missing": (lambda c, p: c.refresh(f"{p}/none", ttl=5), etcd.EtcdKeyNotFound, 100),
    "write the root": (lambda c, p: c.write("/", "v"), etcd.EtcdRootReadOnly, 107),
    "delete the root": (lambda c, p: c.delete("/", recursive=True), etcd.EtcdRootReadOnly, 107),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_v3_raises_what_v2_raises(
    client: etcd.Client, v2_client: etcd.Client, prefix: str, case: str
) -> None:
    call, cls, code = CASES[case]
    seen = []
    for each in (v2_client, client):
        await _setup(each, prefix)
        with pytest.raises(cls) as caught:
            await call(each, prefix)
        payload = caught.value.payload
        assert payload is not None and payload.error_code == code
        assert payload.index is not None and payload.index >= 0
        # v2 names indexes in the cause of a compare; they differ between the two stores.
        cause = payload.cause or ""
        if "!=" in cause and case != "compare value":
            cause = cause.replace(str(payload.index), "<index>")
        seen.append((type(caught.value), payload.message, caught.value.status, cause))
    v2, v3 = seen
    if case in ("compare index", "compare both"):
        # "[1 != <modifiedIndex>]": the current index is each store's own.
        assert v2[3].split(" != ")[0] == v3[3].split(" != ")[0]
        assert v2[:3] == v3[:3]
    else:
        assert v2 == v3
