"""The client: the documented calls, each checked, typed, and handed to a backend."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

from . import _validate as check
from ._backend import Backend
from ._constants import (
    DEFAULT_HOST,
    DEFAULT_LOCK_PREFIX,
    DEFAULT_PORT,
    DEFAULT_VERSION_PREFIX,
    READ_TIMEOUT,
)
from ._exceptions import EtcdKeyNotFound, EtcdUnexpectedResponse, EtcdValueError, StopWatching
from ._requests import ClusterRequest, DeleteRequest, KeysRequest, ReadRequest, WriteRequest
from ._transport import AiohttpTransport, Transport
from ._types import NOT_GIVEN, Timeout, Value
from ._v2 import V2Backend
from .models import EtcdNode, EtcdResult, Member

WatchCallback = Callable[[EtcdResult], "Awaitable[object] | object"]
"""Called with each event of :meth:`Client.eternal_watch`; may be a coroutine function."""


class Client:
    """An asynchronous etcd client.

    Creating one does no I/O and needs no running event loop. Use it as an async context
    manager, or ``await client.close()`` when done::

        async with aio_etcd.Client(port=2379) as client:
            await client.write("/nodes/n1", 1)
    """

    def __init__(
        self,
        host: str | Sequence[tuple[str, int]] = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        version_prefix: str = DEFAULT_VERSION_PREFIX,
        read_timeout: float = READ_TIMEOUT,
        allow_redirect: bool = True,
        protocol: str = "http",
        lock_prefix: str = DEFAULT_LOCK_PREFIX,
        transport: Transport | None = None,
        loop: object = None,
    ) -> None:
        """
        Args:
            host: the server's host name or address, or a sequence of ``(host, port)``.
            port: the client port, used with a single ``host``.
            version_prefix: the API's path prefix on the server.
            read_timeout: seconds a call may take by default; watches wait without limit.
            allow_redirect: kept for older code; etcd forwards requests to the leader itself,
                and this client never follows redirects.
            protocol: ``"http"`` or ``"https"``.
            lock_prefix: the directory :class:`~aio_etcd.Lock` keeps its keys under.
            transport: how requests are sent; an :class:`AiohttpTransport` by default.
            loop: ignored; accepted so that older code keeps running.
        """
        if loop is not None:
            warnings.warn(
                "Client(loop=...) is ignored: the client uses the running event loop",
                DeprecationWarning,
                stacklevel=2,
            )
        if protocol not in ("http", "https"):
            raise EtcdValueError(f"protocol must be 'http' or 'https', not {protocol!r}")
        self._endpoints = _endpoints(host, port)
        self._protocol = protocol
        self._version_prefix = check.url_path(version_prefix, "version_prefix").rstrip("/")
        self._read_timeout = check.timeout(read_timeout, READ_TIMEOUT, "read_timeout")
        self._allow_redirect = check.flag(allow_redirect, "allow_redirect")
        self._lock_prefix = check.key(lock_prefix, "lock_prefix")
        self._backend: Backend = V2Backend(
            transport if transport is not None else AiohttpTransport(),
            self.base_uri,
            self._version_prefix,
        )
        self._closed = False

    # -- the keys API -------------------------------------------------------------------

    async def write(
        self,
        key: str,
        value: Value | None,
        ttl: int | None = None,
        dir: bool = False,
        append: bool = False,
        *,
        prevValue: Value | None = None,
        prevIndex: int | None = None,
        prevExist: bool | None = None,
        refresh: bool = False,
        timeout: Timeout = NOT_GIVEN,
    ) -> EtcdResult:
        """Write ``value`` at ``key``, or create a directory, or append an in-order key.

        Args:
            key: the key; a leading ``/`` is added when missing.
            value: text, or a number (stored as its text). ``None`` for directories.
            ttl: seconds until etcd deletes the key; ``None`` for a permanent key. Every
                write without a ``ttl`` makes the key permanent.
            dir: create a directory instead of a file.
            append: create a new key in directory ``key``, named after its index, so that
                the names sort in creation order (``result.key`` is the new key).
            prevValue: write only if the current value is this (compare and swap).
            prevIndex: write only if the key was last modified at this index.
            prevExist: ``False``: create only; ``True``: the key must already exist.
            refresh: reset the TTL to ``ttl`` without changing the value and without waking
                watchers; see :meth:`refresh`.
            timeout: seconds; ``None`` for no limit; by default the client's ``read_timeout``.

        Raises:
            EtcdCompareFailed: ``prevValue`` or ``prevIndex`` did not match.
            EtcdAlreadyExist: ``prevExist=False`` and the key exists.
            EtcdKeyNotFound: ``prevExist=True``, a compare, or a refresh on a missing key.
            EtcdNotFile: a value write or compare on a directory.
        """
        path = check.key(key)
        text = check.text(value, "value")
        is_dir = check.flag(dir, "dir")
        is_append = check.flag(append, "append")
        is_refresh = check.flag(refresh, "refresh")
        prev_value = check.text(prevValue, "prevValue")
        prev_index = check.index(prevIndex, "prevIndex")
        prev_exist = check.tristate(prevExist, "prevExist")
        seconds = check.ttl(ttl)
        if is_dir and text:
            raise EtcdValueError("value must be None when dir=True: a directory has no value")
        if prev_value == "":
            raise EtcdValueError("prevValue must not be empty: etcd cannot compare with ''")
        if is_refresh:
            if text:
                raise EtcdValueError("value must be None with refresh=True: refresh keeps it")
            if seconds is None:
                raise EtcdValueError("ttl is required with refresh=True")
        if is_append and (prev_value is not None or prev_index or prev_exist is not None):
            raise EtcdValueError(
                "append=True cannot be combined with prevValue, prevIndex or prevExist: "
                "an appended key is always new"
            )
        if prev_exist is False and (prev_value is not None or prev_index):
            raise EtcdValueError(
                "prevExist=False cannot be combined with prevValue or prevIndex: "
                "a key that must not exist has nothing to compare"
            )
        return await self._keys(
            WriteRequest(
                key=path,
                value=text,
                ttl=seconds,
                dir=is_dir,
                append=is_append,
                prev_value=prev_value,
                prev_index=prev_index,
                prev_exist=prev_exist,
                refresh=is_refresh,
                timeout=check.timeout(timeout, self._read_timeout),
            )
        )

    set = write
    """Same as :meth:`write`."""

    async def read(
        self,
        key: str,
        *,
        recursive: bool | None = False,
        sorted: bool | None = False,
        quorum: bool | None = False,
        wait: bool | None = False,
        waitIndex: int | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> EtcdResult:
        """Read a key or a directory, or with ``wait=True`` wait for its next change.

        Args:
            key: the key or directory.
            recursive: read the whole tree below a directory (or watch it, with ``wait``).
            sorted: sort a directory's children by key.
            quorum: read through the cluster's consensus, never a stale value.
            wait: wait for the next change instead of reading the current value.
            waitIndex: with ``wait``, report the first change at or after this index.
            timeout: seconds; ``None`` for no limit. By default ``read_timeout``, except
                with ``wait``, which waits without limit.

        Raises:
            EtcdKeyNotFound: nothing is stored at ``key``.
            EtcdEventIndexCleared: ``waitIndex`` is older than the server's event history.
            EtcdWatchTimedOut: ``wait`` with a ``timeout`` that passed without a change.
        """
        path = check.key(key)
        waits = check.flag(wait, "wait")
        wait_index = check.index(waitIndex, "waitIndex")
        is_quorum = check.flag(quorum, "quorum")
        if wait_index is not None and not waits:
            raise EtcdValueError("waitIndex needs wait=True")
        if waits and is_quorum:
            raise EtcdValueError("quorum=True cannot be combined with wait=True")
        return await self._keys(
            ReadRequest(
                key=path,
                recursive=check.flag(recursive, "recursive"),
                sorted=check.flag(sorted, "sorted"),
                quorum=is_quorum,
                wait=waits,
                wait_index=wait_index,
                timeout=check.timeout(timeout, None if waits else self._read_timeout),
            )
        )

    get = read
    """Same as :meth:`read`."""

    async def delete(
        self,
        key: str,
        recursive: bool | None = None,
        dir: bool | None = None,
        *,
        prevValue: Value | None = None,
        prevIndex: int | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> EtcdResult:
        """Delete a key, or a directory (``dir=True`` when empty, ``recursive=True`` always).

        ``prevValue`` and ``prevIndex`` make it a compare-and-delete. The deleted node is in
        ``result.prev_node``.

        Raises:
            EtcdKeyNotFound: nothing is stored at ``key``.
            EtcdNotFile: ``key`` is a directory and neither ``dir`` nor ``recursive`` is set.
            EtcdDirNotEmpty: ``dir=True`` on a directory that has children.
            EtcdCompareFailed: ``prevValue`` or ``prevIndex`` did not match.
        """
        path = check.key(key)
        prev_value = check.text(prevValue, "prevValue")
        if prev_value == "":
            raise EtcdValueError("prevValue must not be empty: etcd cannot compare with ''")
        return await self._keys(
            DeleteRequest(
                key=path,
                recursive=check.flag(recursive, "recursive"),
                dir=check.flag(dir, "dir"),
                prev_value=prev_value,
                prev_index=check.index(prevIndex, "prevIndex"),
                timeout=check.timeout(timeout, self._read_timeout),
            )
        )

    async def pop(
        self,
        key: str,
        recursive: bool | None = None,
        dir: bool | None = None,
        *,
        prevValue: Value | None = None,
        prevIndex: int | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> EtcdNode:
        """Delete ``key`` like :meth:`delete` and return the node as it was before."""
        result = await self.delete(
            key, recursive, dir, prevValue=prevValue, prevIndex=prevIndex, timeout=timeout
        )
        if result.prev_node is None:
            raise EtcdUnexpectedResponse(f"etcd deleted {result.key!r} but sent no prevNode")
        return result.prev_node

    async def test_and_set(
        self,
        key: str,
        value: Value,
        prev_value: Value,
        ttl: int | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> EtcdResult:
        """Set ``key`` to ``value`` only if it holds ``prev_value`` now.

        Raises:
            EtcdCompareFailed: the key holds another value.
        """
        return await self.write(key, value, ttl, prevValue=prev_value, timeout=timeout)

    async def update(self, obj: EtcdResult, *, timeout: Timeout = NOT_GIVEN) -> EtcdResult:
        """Write back a result read earlier, with its (possibly changed) value and TTL.

        Fails with :class:`~aio_etcd.EtcdCompareFailed` if the key changed since ``obj`` was
        read, so no concurrent write is lost.
        """
        return await self.write(
            obj.key,
            None if obj.dir else obj.value,
            ttl=obj.ttl,
            dir=obj.dir,
            prevExist=True,
            # etcd refuses a compare on a directory ("Not a file").
            prevIndex=None if obj.dir else obj.modified_index,
            timeout=timeout,
        )

    async def refresh(
        self,
        key: str,
        ttl: int,
        *,
        prevValue: Value | None = None,
        prevIndex: int | None = None,
        timeout: Timeout = NOT_GIVEN,
    ) -> EtcdResult:
        """Reset the TTL of an existing key, keeping its value and not waking its watchers.

        Raises:
            EtcdKeyNotFound: the key does not exist (a refresh never creates it).
        """
        return await self.write(
            key,
            None,
            ttl,
            refresh=True,
            prevExist=True,
            prevValue=prevValue,
            prevIndex=prevIndex,
            timeout=timeout,
        )

    async def contains(self, key: str, *, timeout: Timeout = NOT_GIVEN) -> bool:
        """Whether anything is stored at ``key``."""
        try:
            await self.read(key, timeout=timeout)
        except EtcdKeyNotFound:
            return False
        return True

    async def watch(
        self,
        key: str,
        index: int | None = None,
        recursive: bool | None = None,
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> EtcdResult:
        """Wait for the next change of ``key``, or the first at or after ``index``.

        A watch on a key also reports the deletion or expiry of a directory above it; the
        event's ``key`` is then the directory's.
        """
        return await self.read(
            key, wait=True, waitIndex=index, recursive=recursive, timeout=timeout
        )

    async def eternal_watch(
        self,
        key: str,
        callback: WatchCallback,
        index: int | None = None,
        recursive: bool | None = None,
    ) -> int:
        """Call ``callback`` with every change of ``key``, in order, until it raises
        :class:`~aio_etcd.StopWatching`.

        ``callback`` may be a plain function or a coroutine function. Returns the index to
        continue watching from.
        """
        next_index = index
        while True:
            event = await self.watch(key, next_index, recursive)
            next_index = event.modified_index + 1
            try:
                outcome = callback(event)
                if inspect.isawaitable(outcome):
                    await outcome
            except StopWatching:
                return next_index

    # -- the cluster ------------------------------------------------------------------

    async def version(self, *, timeout: Timeout = NOT_GIVEN) -> str:
        """The version of the etcd server, e.g. ``3.5.1``."""
        return (await self._backend.version(self._cluster_request(timeout))).server

    async def cluster_version(self, *, timeout: Timeout = NOT_GIVEN) -> str:
        """The version the cluster runs at, e.g. ``3.5.0``."""
        return (await self._backend.version(self._cluster_request(timeout))).cluster

    async def machines(self, *, timeout: Timeout = NOT_GIVEN) -> list[str]:
        """The client URLs of every member of the cluster."""
        return await self._backend.machines(self._cluster_request(timeout))

    async def leader(self, *, timeout: Timeout = NOT_GIVEN) -> Member:
        """The member that leads the cluster (``leader()['clientURLs']`` works too)."""
        return await self._backend.leader(self._cluster_request(timeout))

    # -- the resource -----------------------------------------------------------------

    async def close(self) -> None:
        """Release every connection. Calls made afterwards raise :class:`RuntimeError`."""
        if not self._closed:
            self._closed = True
            await self._backend.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    # -- what older code reads ----------------------------------------------------------

    @property
    def host(self) -> str:
        return self._endpoints[0][0]

    @property
    def port(self) -> int:
        return self._endpoints[0][1]

    @property
    def protocol(self) -> str:
        return self._protocol

    @property
    def base_uri(self) -> str:
        host, port = self._endpoints[0]
        return f"{self._protocol}://{_bracket(host)}:{port}"

    @property
    def version_prefix(self) -> str:
        return self._version_prefix

    @property
    def key_endpoint(self) -> str:
        return self._version_prefix + "/keys"

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    @property
    def allow_redirect(self) -> bool:
        return self._allow_redirect

    @property
    def lock_prefix(self) -> str:
        return self._lock_prefix

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return f"<aio_etcd.Client {self.base_uri}{state}>"

    # -- one path for every call ---------------------------------------------------------

    async def _keys(self, request: KeysRequest) -> EtcdResult:
        self._check_open()
        return await self._backend.keys(request)

    def _cluster_request(self, timeout: Timeout) -> ClusterRequest:
        self._check_open()
        return ClusterRequest(timeout=check.timeout(timeout, self._read_timeout))

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this aio_etcd.Client is closed")


def _endpoints(host: object, port: object) -> list[tuple[str, int]]:
    """``(host, port)`` pairs from the two ways older code names servers."""
    if isinstance(host, str):
        return [(_host(host), _port(port, "port"))]
    if isinstance(host, Sequence) and host:
        pairs = []
        for item in host:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError(f"host must be a str or a sequence of (host, port), not {host!r}")
            pairs.append((_host(item[0]), _port(item[1], "host port")))
        return pairs
    raise TypeError(f"host must be a str or a non-empty sequence of (host, port), not {host!r}")


def _host(host: object) -> str:
    if not isinstance(host, str) or not host or any(c in host for c in "/?#@ "):
        raise EtcdValueError(f"host must be a host name or address, not {host!r}")
    return host


def _port(port: object, name: str) -> int:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"{name} must be an int, not {type(port).__name__}")
    if not 0 < port < 65536:
        raise EtcdValueError(f"{name} must be from 1 to 65535, not {port}")
    return port


def _bracket(host: str) -> str:
    """IPv6 addresses need brackets in a URL."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
