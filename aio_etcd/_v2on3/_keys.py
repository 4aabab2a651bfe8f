"""A keys request (read, write, delete) as one v3 transaction, and its reply as an EtcdResult.

Each call is one ``POST /v3/kv/txn`` whose compares are the request's conditions and whose
failure branch reads what is needed to tell which v2 error it was (codes 100, 101, 102, 104,
105, 107, 108 with v2's messages, causes and HTTP statuses, as etcd's v2 store raises them in
``server/etcdserver/api/v2store/store.go``). A TTL adds a ``lease/grant`` before it (one
lease per key); reads of leased keys add one ``lease/timetolive`` per lease; a refresh reads
the key, then keeps its lease alive (or attaches a new one); an append that loses a race for
its name tries again. Indexes are revisions: ``createdIndex`` is ``create_revision``,
``modifiedIndex`` is ``mod_revision``, ``etcd_index`` is the header's ``revision``.
"""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Sequence
from typing import TypeVar

from .._exceptions import (
    EtcdException,
    EtcdInsufficientPermissions,
    EtcdTimedOut,
    EtcdValueError,
    error_for,
)
from .._requests import DeleteRequest, KeysRequest, ReadRequest, WriteRequest
from .._v3._gateway import Gateway
from ..models import ErrorPayload, EtcdNode, EtcdResult
from ..models.result import Action
from ..models.v3._base import ResponseHeader, V3Model, V3Request
from ..models.v3.kv import (
    DeleteRangeRequest,
    KeyValue,
    PutRequest,
    RangeRequest,
    RangeResponse,
)
from ..models.v3.lease import (
    LeaseGrantRequest,
    LeaseGrantResponse,
    LeaseKeepAliveRequest,
    LeaseKeepAliveResponse,
    LeaseTimeToLiveRequest,
    LeaseTimeToLiveResponse,
)
from ..models.v3.txn import (
    Compare,
    CompareResult,
    CompareTarget,
    RequestOp,
    ResponseOp,
    TxnRequest,
    TxnResponse,
)
from ._batch import Reads
from ._tree import directory, expiry, file_node, leased, text

R = TypeVar("R", bound=V3Model)

_ERRORS: dict[int, tuple[str, int]] = {
    100: ("Key not found", 404),
    101: ("Compare failed", 412),
    102: ("Not a file", 403),
    104: ("Not a directory", 400),
    105: ("Key already exists", 412),
    107: ("Root is read only", 400),
    108: ("Directory not empty", 403),
}
"""v2's message and HTTP status of each error code (``server/etcdserver/api/v2error``)."""

_APPEND_BACKOFF = 0.002
"""Seconds of the first pause (jittered, doubling up to 50 ms) after losing an append race."""
_TTL_QUERIES = 8
"""``lease/timetolive`` requests a read of leased keys sends at once."""
_REFRESH_ATTEMPTS = 5
"""A refresh that needs a new lease re-reads the key when it changed meanwhile, this often."""


def v2_error(code: int, cause: str, index: int) -> EtcdException:
    """The exception etcd's v2 API raises for ``code`` about ``cause`` at store ``index``."""
    message, status = _ERRORS[code]
    payload = ErrorPayload(error_code=code, message=message, cause=cause, index=index)
    return error_for(payload, status)


def key_of(path: str) -> bytes:
    """The v3 key of a v2 path (``b""`` for the root); a trailing ``/`` is dropped, as v2
    does."""
    return path.rstrip("/").encode()


def path_of(path: str) -> str:
    return path.rstrip("/") or "/"


def _below(key: bytes) -> tuple[bytes, bytes]:
    """``[K/, K0)``: every key of the directory ``K``, its marker ``K/`` included."""
    return key + b"/", key + b"0"


def _ancestors(path: str) -> list[str]:
    """The directories above ``path``, outermost first, without the root."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:n]) for n in range(1, len(parts))]


def _range(
    key: bytes, end: bytes = b"", *, serializable: bool = False, count: bool = False
) -> RequestOp:
    return RequestOp(
        request_range=RangeRequest(
            key=key, range_end=end, serializable=serializable, count_only=count
        )
    )


def _compare(
    key: bytes, target: CompareTarget, result: CompareResult, end: bytes = b"", **operand: object
) -> Compare:
    return Compare.model_validate(
        {"key": key, "range_end": end, "target": target, "result": result, **operand}
    )


def _absent(key: bytes, end: bytes = b"") -> Compare:
    """Nothing in ``[key, end)`` (or at ``key``); true for an empty range."""
    return _compare(key, CompareTarget.VERSION, CompareResult.EQUAL, end, version=0)


class _Deadline:
    """What is left of one call's time, over the several requests it may send."""

    def __init__(self, timeout: float | None) -> None:
        loop = asyncio.get_running_loop()
        self._at = None if timeout is None else loop.time() + timeout

    def left(self) -> float | None:
        if self._at is None:
            return None
        left = self._at - asyncio.get_running_loop().time()
        if left <= 0:
            # Before sending the next request: what was sent so far changed no key.
            raise EtcdTimedOut("no reply within the call's timeout", sent=False)
        return left


class _Probe:
    """Failure-branch reads that tell which v2 error a refused request met: ``K`` itself,
    whether ``K`` is a directory, and for each ancestor whether it is a file or a directory."""

    def __init__(self, path: str, *, serializable: bool = False, ancestors: bool = True) -> None:
        self.path = path
        self.key = key_of(path)
        self.ancestors = _ancestors(path) if ancestors else []
        start, end = _below(self.key)
        self.ops = [
            _range(self.key, serializable=serializable),
            _range(start, end, serializable=serializable, count=True),
        ]
        for ancestor in self.ancestors:
            a_key = key_of(ancestor)
            a_start, a_end = _below(a_key)
            self.ops.append(_range(a_key, serializable=serializable, count=True))
            self.ops.append(_range(a_start, a_end, serializable=serializable, count=True))

    def read(self, reply: TxnResponse, offset: int = 0) -> _Found:
        ranges = [op.response_range or RangeResponse() for op in reply.responses[offset:]]
        kv = ranges[0].kvs[0] if ranges[0].kvs else None
        return _Found(self, kv, ranges[1].count > 0, ranges[2:], reply.header.revision)


class _Found:
    """What a probe saw."""

    def __init__(
        self,
        probe: _Probe,
        kv: KeyValue | None,
        is_dir: bool,
        ancestors: Sequence[RangeResponse],
        revision: int,
    ) -> None:
        self.probe = probe
        self.kv = kv
        self.is_dir = is_dir and kv is None
        self._ancestors = ancestors
        self.revision = revision

    def error(self, code: int, cause: str | None = None) -> EtcdException:
        return v2_error(code, cause or self.probe.path, self.revision)

    def missing(self) -> EtcdException:
        """Why ``K`` cannot be found, as v2 walks the path: 104 at the first ancestor that is
        a file, 100 at the first component that does not exist."""
        pairs = zip(self._ancestors[::2], self._ancestors[1::2], strict=True)
        for ancestor, (as_file, as_dir) in zip(self.probe.ancestors, pairs, strict=True):
            if as_file.count:
                return self.error(104, ancestor)
            if not as_dir.count:
                return self.error(100, ancestor)
        return self.error(100)

    def file_under_file(self) -> EtcdException | None:
        """104 when an ancestor of ``K`` is a file."""
        pairs = zip(self._ancestors[::2], self._ancestors[1::2], strict=True)
        for ancestor, (as_file, _) in zip(self.probe.ancestors, pairs, strict=True):
            if as_file.count:
                return self.error(104, ancestor)
        return None


class Keys:
    """Runs keys requests on one endpoint through the gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._reads = Reads(gateway)
        self._revision = 0
        """The newest store revision seen: where in-order key names start."""
        self._min_ttl = 0
        """The smallest TTL the server granted above what was asked: its minimum."""
        self._ancestors = True
        """Whether requests check the keys above theirs (see :meth:`run`)."""

    async def aclose(self) -> None:
        """Stop the reads still out."""
        await self._reads.aclose()

    async def run(self, endpoint: str, request: KeysRequest, timeout: float | None) -> EtcdResult:
        """Execute ``request`` on ``endpoint`` within ``timeout`` seconds.

        A user whose roles cover a key but not the keys of its ancestors (v2's ``/app/*``
        does not cover ``/app``) is refused the ancestor checks: from the first refusal
        on, calls are sent without them, and writing below a file is no longer refused
        (104) nor are missing ancestors named in 100's cause.
        """
        deadline = _Deadline(timeout)
        if not self._ancestors:
            return await self._run(endpoint, request, deadline)
        try:
            return await self._run(endpoint, request, deadline)
        except EtcdInsufficientPermissions:
            self._ancestors = False
            return await self._run(endpoint, request, deadline)

    async def _run(self, endpoint: str, request: KeysRequest, deadline: _Deadline) -> EtcdResult:
        if isinstance(request, WriteRequest):
            return await self._write(endpoint, request, deadline)
        if isinstance(request, ReadRequest):
            return await self._read(endpoint, request, deadline)
        if isinstance(request, DeleteRequest):
            return await self._delete(endpoint, request, deadline)
        raise TypeError(f"not a keys request: {request!r}")  # pragma: no cover

    # -- the wire ------------------------------------------------------------------------

    async def _call(
        self,
        endpoint: str,
        path: str,
        request: V3Request | bytes,
        reply: type[R],
        deadline: _Deadline,
    ) -> R:
        answer = await self._gateway.call_on(
            endpoint, path, request, reply, timeout=deadline.left()
        )
        header = getattr(answer, "header", None)
        if isinstance(header, ResponseHeader):
            self._seen(header)
        return answer

    def _seen(self, header: ResponseHeader) -> None:
        if header.revision > self._revision:
            self._revision = header.revision

    async def _txn(
        self,
        endpoint: str,
        deadline: _Deadline,
        compare: Sequence[Compare],
        success: Sequence[RequestOp],
        failure: Sequence[RequestOp] = (),
    ) -> TxnResponse:
        request = TxnRequest(compare=list(compare), success=list(success), failure=list(failure))
        return await self._call(endpoint, "kv/txn", request, TxnResponse, deadline)

    async def _grant(self, endpoint: str, ttl: int, deadline: _Deadline) -> tuple[int, int]:
        reply = await self._call(
            endpoint, "lease/grant", LeaseGrantRequest(ttl=ttl), LeaseGrantResponse, deadline
        )
        if reply.ttl > ttl:
            self._min_ttl = max(self._min_ttl, reply.ttl)
        return reply.id, reply.ttl

    async def _ttls(self, endpoint: str, leases: set[int], deadline: _Deadline) -> dict[int, int]:
        """Seconds left of each lease (one ``lease/timetolive`` each, concurrently)."""

        # A few at a time: each one in flight holds a connection of its own.
        gate = asyncio.Semaphore(_TTL_QUERIES)

        async def one(lease: int) -> tuple[int, int]:
            async with gate:
                reply = await self._call(
                    endpoint,
                    "lease/timetolive",
                    LeaseTimeToLiveRequest(id=lease),
                    LeaseTimeToLiveResponse,
                    deadline,
                )
            return lease, reply.ttl

        return dict(await asyncio.gather(*(one(lease) for lease in leases)))

    def _result(
        self,
        action: Action,
        node: EtcdNode,
        header: ResponseHeader,
        prev: EtcdNode | None = None,
        *,
        new_key: bool = False,
    ) -> EtcdResult:
        return EtcdResult(
            action=action,
            node=node,
            prev_node=prev,
            etcd_index=header.revision,
            raft_term=header.raft_term,
            cluster_id=format(header.cluster_id, "x") if header.cluster_id else None,
            new_key=new_key,
        )

    # -- read --------------------------------------------------------------------------

    async def _read(self, endpoint: str, request: ReadRequest, deadline: _Deadline) -> EtcdResult:
        path = path_of(request.key)
        if path != "/":
            # Most reads are of a key that holds a value: one range answers them (shared
            # with the reads started at the same time), at a fraction of the emulation's
            # txn's cost on the server. Only a miss needs that txn.
            held, header = await self._reads.get(
                endpoint, key_of(path), not request.quorum, deadline.left()
            )
            self._seen(header)
            if held is not None:
                ttls = await self._ttls(endpoint, {held.lease}, deadline) if held.lease else {}
                return self._result("get", file_node(path, held, ttls), header)
        txn, probe = _read_txn(path, not request.quorum, self._ancestors)
        reply = await self._call(endpoint, "kv/txn", txn, TxnResponse, deadline)
        if path == "/":
            kv = None
            below = _kvs(reply, 0)
        else:
            if reply.succeeded:
                raise probe.read(_pad(reply)).missing()
            found = _kvs(reply, 0)
            kv = found[0] if found else None
            below = _kvs(reply, 1)
        if kv is not None:
            ttls = await self._ttls(endpoint, {kv.lease} - {0}, deadline)
            return self._result("get", file_node(path, kv, ttls), reply.header)
        node = directory(path, below, recursive=request.recursive, ttls={})
        leases = leased(node, below, recursive=request.recursive)
        if leases:
            ttls = await self._ttls(endpoint, leases, deadline)
            node = directory(path, below, recursive=request.recursive, ttls=ttls)
        return self._result("get", node, reply.header)

    # -- write -------------------------------------------------------------------------

    async def _write(self, endpoint: str, request: WriteRequest, deadline: _Deadline) -> EtcdResult:
        path = path_of(request.key)
        if path == "/":
            raise v2_error(107, "/", self._revision)
        if request.dir and request.ttl is not None:
            raise EtcdValueError(
                "a directory cannot have a ttl with api='v3': a lease covers keys, not a "
                "prefix, and keys written below it later would not share it"
            )
        if request.refresh:
            return await self._refresh(endpoint, path, request, deadline)
        if request.append:
            return await self._append(endpoint, path, request, deadline)
        if request.dir and request.prev_exist:
            return await self._touch_dir(endpoint, path, deadline)
        key = key_of(path)
        start, end = _below(key)
        probe = _Probe(path, ancestors=self._ancestors)
        lease, granted = 0, None
        if request.ttl is not None:
            lease, granted = await self._grant(endpoint, request.ttl, deadline)
        is_cas = request.prev_value is not None or bool(request.prev_index)
        compares = [_absent(key_of(a)) for a in probe.ancestors]
        if not (is_cas or request.prev_exist):
            compares.append(_absent(start, end))  # not a directory (else: must be a file)
        action: Action = "set"
        if request.prev_exist is False:
            action = "create"
            compares.append(
                _compare(key, CompareTarget.CREATE, CompareResult.EQUAL, create_revision=0)
            )
        elif is_cas:
            action = "compareAndSwap"
        elif request.prev_exist:
            action = "update"
            compares.append(_compare(key, CompareTarget.VERSION, CompareResult.GREATER, version=0))
        if request.prev_value is not None:
            compares.append(
                _compare(
                    key, CompareTarget.VALUE, CompareResult.EQUAL, value=request.prev_value.encode()
                )
            )
        if request.prev_index:
            compares.append(
                _compare(
                    key, CompareTarget.MOD, CompareResult.EQUAL, mod_revision=request.prev_index
                )
            )
        if request.dir:
            # v2 replaces a file by a directory on a plain set, never a directory.
            success = [
                RequestOp(request_delete_range=DeleteRangeRequest(key=key, prev_kv=True)),
                RequestOp(request_put=PutRequest(key=start, prev_kv=True)),
            ]
        else:
            value = (request.value or "").encode()
            success = [
                RequestOp(request_put=PutRequest(key=key, value=value, lease=lease, prev_kv=True))
            ]
        reply = await self._txn(endpoint, deadline, compares, success, probe.ops)
        if not reply.succeeded:
            found = probe.read(reply)
            raise self._write_error(found, request, action)
        prev_kv: KeyValue | None
        if request.dir:
            deleted = reply.responses[0].response_delete_range
            prev_kv = deleted.prev_kvs[0] if deleted is not None and deleted.prev_kvs else None
        else:
            put = reply.responses[0].response_put
            prev_kv = put.prev_kv if put is not None else None
        revision = reply.header.revision
        created = prev_kv.create_revision if prev_kv is not None and not request.dir else revision
        ttl, expiration = expiry(granted)
        node = EtcdNode(
            key=path,
            value=None if request.dir else (request.value or ""),
            dir=request.dir,
            ttl=ttl,
            expiration=expiration,
            modified_index=revision,
            created_index=created,
        )
        prev = file_node(path, prev_kv, {}) if prev_kv is not None else None
        return self._result(action, node, reply.header, prev, new_key=prev_kv is None)

    def _write_error(self, found: _Found, request: WriteRequest, action: Action) -> EtcdException:
        above = found.file_under_file()
        if action == "create":
            if found.kv is not None or found.is_dir:
                return found.error(105)
            return above or found.error(105)  # pragma: no cover - a race
        if action in ("update", "compareAndSwap"):
            if found.is_dir:
                return found.error(102)
            if found.kv is None:
                return found.missing()
            return found.error(101, _cause(found.kv, request.prev_value, request.prev_index))
        if above is not None:
            return above
        return found.error(102)

    async def _touch_dir(self, endpoint: str, path: str, deadline: _Deadline) -> EtcdResult:
        """``dir=True, prevExist=True`` (what :meth:`Client.update` sends for a directory):
        the directory must exist; its marker is written, so that it now outlives its last
        child."""
        key = key_of(path)
        start, end = _below(key)
        probe = _Probe(path, ancestors=self._ancestors)
        # Nothing there: the probes say why. Something: the marker, unless it is a file.
        mark = TxnRequest(
            compare=[_absent(key)],
            success=[RequestOp(request_put=PutRequest(key=start, prev_kv=True))],
        )
        reply = await self._txn(
            endpoint,
            deadline,
            [_absent(key), _absent(start, end)],
            probe.ops[2:],
            [RequestOp(request_txn=mark)],
        )
        if reply.succeeded:
            raise probe.read(_pad(reply)).missing()
        nested = reply.responses[0].response_txn
        if nested is None or not nested.succeeded:
            raise v2_error(102, path, reply.header.revision)  # a file
        put = nested.responses[0].response_put
        marker = put.prev_kv if put is not None else None
        revision = reply.header.revision
        node = EtcdNode(
            key=path,
            dir=True,
            modified_index=revision,
            created_index=marker.create_revision if marker is not None else revision,
        )
        prev = EtcdNode(
            key=path,
            dir=True,
            modified_index=marker.mod_revision if marker else 0,
            created_index=marker.create_revision if marker else 0,
        )
        return self._result("update", node, reply.header, prev)

    # -- append ------------------------------------------------------------------------

    async def _append(
        self, endpoint: str, path: str, request: WriteRequest, deadline: _Deadline
    ) -> EtcdResult:
        """A new key below directory ``path`` named after a revision, so that names sort in
        creation order. The marker ``path/`` is the one point appends serialise on: each
        writes it, and succeeds only if nobody wrote it since the revision the name was
        taken from (as etcd's ``newSequentialKV`` recipe orders keys)."""
        key = key_of(path)
        marker = key + b"/"
        probe = _Probe(path, ancestors=self._ancestors)
        lease, granted = 0, None
        if request.ttl is not None:
            lease, granted = await self._grant(endpoint, request.ttl, deadline)
        value = (request.value or "").encode()
        pause = _APPEND_BACKOFF
        while True:
            revision = self._revision + 1
            name = marker + b"%020d" % revision
            compares = [_absent(key_of(a)) for a in probe.ancestors]
            compares += [
                _absent(key),
                _compare(marker, CompareTarget.MOD, CompareResult.LESS, mod_revision=revision),
                _compare(name, CompareTarget.CREATE, CompareResult.EQUAL, create_revision=0),
            ]
            success = [
                RequestOp(request_put=PutRequest(key=marker)),
                RequestOp(request_put=PutRequest(key=name, value=value, lease=lease)),
            ]
            reply = await self._txn(endpoint, deadline, compares, success, probe.ops)
            if reply.succeeded:
                break
            found = probe.read(reply)
            above = found.file_under_file()
            if above is not None:
                raise above
            if found.kv is not None:
                raise v2_error(104, path, reply.header.revision)
            await asyncio.sleep(random.uniform(0, pause))
            pause = min(pause * 2, 0.05)
        done = reply.header.revision
        ttl, expiration = expiry(granted)
        node = EtcdNode(
            key=text(name),
            value=request.value or "",
            ttl=ttl,
            expiration=expiration,
            modified_index=done,
            created_index=done,
        )
        return self._result("create", node, reply.header, new_key=True)

    # -- refresh -----------------------------------------------------------------------

    async def _refresh(
        self, endpoint: str, path: str, request: WriteRequest, deadline: _Deadline
    ) -> EtcdResult:
        """A new TTL for an existing key, its value kept. With the TTL its lease already has,
        a keep-alive: no event, no new index (v2 moved ``modifiedIndex``). Otherwise a new
        lease, attached by a put that keeps the value, if the key did not change meanwhile."""
        assert request.ttl is not None
        action: Action = (
            "compareAndSwap" if request.prev_value is not None or request.prev_index else "update"
        )
        for _ in range(_REFRESH_ATTEMPTS):
            probe = _Probe(path, ancestors=self._ancestors)
            reply = await self._txn(endpoint, deadline, [], probe.ops)
            found = probe.read(reply)
            kv = found.kv
            if found.is_dir:
                raise EtcdValueError(
                    f"{path} is a directory: a directory cannot have a ttl with api='v3'"
                )
            if kv is None:
                raise found.missing()
            value = text(kv.value)
            if (request.prev_value is not None and request.prev_value != value) or (
                request.prev_index and request.prev_index != kv.mod_revision
            ):
                raise found.error(101, _cause(kv, request.prev_value, request.prev_index))
            wanted = max(request.ttl, self._min_ttl)
            if kv.lease:
                alive = await self._gateway.first(
                    "lease/keepalive",
                    LeaseKeepAliveRequest(id=kv.lease),
                    LeaseKeepAliveResponse,
                    timeout=deadline.left(),
                    repeatable=True,
                    endpoint=endpoint,
                )
                if alive.ttl == wanted:
                    ttl, expiration = expiry(alive.ttl)
                    node = file_node(path, kv, {})
                    node.ttl, node.expiration = ttl, expiration
                    prev = file_node(path, kv, {})
                    return self._result(action, node, alive.header, prev)
            lease, granted = await self._grant(endpoint, request.ttl, deadline)
            key = key_of(path)
            reply = await self._txn(
                endpoint,
                deadline,
                [
                    _compare(
                        key, CompareTarget.MOD, CompareResult.EQUAL, mod_revision=kv.mod_revision
                    )
                ],
                [
                    RequestOp(
                        request_put=PutRequest(
                            key=key, lease=lease, ignore_value=True, prev_kv=True
                        )
                    )
                ],
            )
            if not reply.succeeded:
                continue  # written meanwhile: look again
            revision = reply.header.revision
            ttl, expiration = expiry(granted)
            node = EtcdNode(
                key=path,
                value=value,
                ttl=ttl,
                expiration=expiration,
                modified_index=revision,
                created_index=kv.create_revision,
            )
            return self._result(action, node, reply.header, file_node(path, kv, {}))
        raise v2_error(101, f"{path} kept changing during the refresh", self._revision)

    # -- delete ------------------------------------------------------------------------

    async def _delete(
        self, endpoint: str, request: DeleteRequest, deadline: _Deadline
    ) -> EtcdResult:
        path = path_of(request.key)
        if path == "/":
            raise v2_error(107, "/", self._revision)
        key = key_of(path)
        start, end = _below(key)
        probe = _Probe(path, ancestors=self._ancestors)
        is_cad = request.prev_value is not None or bool(request.prev_index)
        action: Action = "compareAndDelete" if is_cad else "delete"
        compares: list[Compare] = []
        if request.prev_value is not None:
            compares.append(
                _compare(
                    key, CompareTarget.VALUE, CompareResult.EQUAL, value=request.prev_value.encode()
                )
            )
        if request.prev_index:
            compares.append(
                _compare(
                    key, CompareTarget.MOD, CompareResult.EQUAL, mod_revision=request.prev_index
                )
            )
        deletes = [RequestOp(request_delete_range=DeleteRangeRequest(key=key, prev_kv=True))]
        if request.recursive and not is_cad:
            deletes.append(
                RequestOp(
                    request_delete_range=DeleteRangeRequest(key=start, range_end=end, prev_kv=True)
                )
            )
        elif request.dir and not is_cad:
            # Empty only: nothing below the marker.
            compares.append(_absent(start + b"\x00", end))
            deletes.append(
                RequestOp(request_delete_range=DeleteRangeRequest(key=start, prev_kv=True))
            )
        elif not is_cad:
            compares.append(_absent(start, end))  # a directory needs dir or recursive
        # After the deletes, the ancestor probes: they say why, when nothing was there.
        success = deletes + probe.ops[2:]
        reply = await self._txn(endpoint, deadline, compares, success, probe.ops)
        if not reply.succeeded:
            found = probe.read(reply)
            if is_cad:
                if found.is_dir:
                    raise found.error(102)
                if found.kv is None:
                    raise found.missing()
                raise found.error(101, _cause(found.kv, request.prev_value, request.prev_index))
            if request.dir and not request.recursive:
                raise found.error(108)
            raise found.error(102)
        responses = [op.response_delete_range for op in reply.responses[: len(deletes)]]
        file_kv = responses[0].prev_kvs[0] if responses[0] and responses[0].prev_kvs else None
        rest = [kv for r in responses[1:] if r is not None for kv in r.prev_kvs]
        if file_kv is None and not rest:
            probes = reply.model_copy(update={"responses": reply.responses[len(deletes) :]})
            raise probe.read(_pad(probes)).missing()
        revision = reply.header.revision
        if file_kv is not None:
            prev = file_node(path, file_kv, {})
            node = EtcdNode(
                key=path, modified_index=revision, created_index=file_kv.create_revision
            )
        else:
            marker = next((kv for kv in rest if kv.key == start), None)
            created = marker.create_revision if marker is not None else 0
            prev = EtcdNode(
                key=path,
                dir=True,
                modified_index=marker.mod_revision if marker is not None else 0,
                created_index=created,
            )
            node = EtcdNode(key=path, dir=True, modified_index=revision, created_index=created)
        return self._result(action, node, reply.header, prev)


@functools.lru_cache(maxsize=4096)
def _read_txn(path: str, serializable: bool, ancestors: bool) -> tuple[TxnRequest, _Probe]:
    """The one txn of a read of ``path``: if nothing is there (the compares hold), the probes
    that say why; else the key and everything below it. Cached: programs read the same keys
    again and again, and building the models costs more than sending them."""
    key = key_of(path)
    start, end = _below(key)
    listing = _range(start, end, serializable=serializable)
    probe = _Probe(path, serializable=serializable, ancestors=ancestors)
    if path == "/":
        return TxnRequest(success=[listing]), probe
    txn = TxnRequest(
        compare=[_absent(key), _absent(start, end)],
        success=probe.ops[2:],
        failure=[_range(key, serializable=serializable), listing],
    )
    return txn, probe


def _kvs(reply: TxnResponse, position: int) -> list[KeyValue]:
    response = reply.responses[position].response_range
    return response.kvs if response is not None else []


def _pad(reply: TxnResponse) -> TxnResponse:
    """A reply of ancestor probes only, with the two ranges of ``K`` itself put in front
    as empty ones, so that :meth:`_Probe.read` reads it."""
    blank = ResponseOp(response_range=RangeResponse())
    return reply.model_copy(update={"responses": [blank, blank, *reply.responses]})


def _cause(kv: KeyValue, prev_value: str | None, prev_index: int | None) -> str:
    """v2's cause of a failed compare (``v2store/store.go`` ``getCompareFailCause``)."""
    value = text(kv.value)
    value_ok = prev_value is None or prev_value == value
    index_ok = not prev_index or prev_index == kv.mod_revision
    if not value_ok and not index_ok:
        return f"[{prev_value} != {value}] [{prev_index} != {kv.mod_revision}]"
    if not value_ok:
        return f"[{prev_value} != {value}]"
    return f"[{prev_index} != {kv.mod_revision}]"
