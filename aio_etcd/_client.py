"""The client: the documented calls, each checked, typed, and handed to a backend."""

from __future__ import annotations

import inspect
import ssl
import warnings
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from types import TracebackType
from typing import TypeVar
from urllib.parse import urlsplit

import dns.asyncresolver

from . import _validate as check
from ._backend import AuthReply, Backend
from ._constants import (
    DEFAULT_HOST,
    DEFAULT_LOCK_PREFIX,
    DEFAULT_PORT,
    DEFAULT_VERSION_PREFIX,
    READ_TIMEOUT,
    WATCH_PROBE_INTERVAL,
)
from ._discovery import discover
from ._endpoints import EndpointPool
from ._exceptions import (
    EtcdKeyNotFound,
    EtcdUnexpectedResponse,
    EtcdValueError,
    StopWatching,
)
from ._http11 import LeanTransport
from ._requests import AuthRequest, DeleteRequest, KeysRequest, ReadRequest, WriteRequest
from ._retry import Failover, RetryPolicy
from ._security import Cert, basic_auth, tls_context
from ._transport import Transport
from ._types import NOT_GIVEN, NotGiven, Timeout, Value
from ._v2 import V2Backend
from ._v2on3._backend import V3Backend
from ._v3._auth import TokenManager
from ._v3._gateway import Gateway
from ._watch import Watch, first_event
from .models import (
    EtcdNode,
    EtcdResult,
    Health,
    LeaderStats,
    Member,
    SelfStats,
    StoreStats,
    VersionInfo,
)

T = TypeVar("T")

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
        srv_domain: str | None = None,
        api: str = "v2",
        version_prefix: str = DEFAULT_VERSION_PREFIX,
        read_timeout: float = READ_TIMEOUT,
        allow_redirect: bool = True,
        protocol: str = "http",
        ca_cert: str | None = None,
        cert: Cert | None = None,
        ssl_verify: bool | int = True,
        ssl_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        allow_reconnect: bool | None = None,
        use_proxies: bool = False,
        expected_cluster_id: str | None = None,
        per_host_pool_size: int | None = None,
        lock_prefix: str = DEFAULT_LOCK_PREFIX,
        watch_retry_window: float | NotGiven | None = NOT_GIVEN,
        retry_unconditional_writes: bool | NotGiven = NOT_GIVEN,
        retry_policy: RetryPolicy | None = None,
        transport: Transport | None = None,
        srv_resolver: dns.asyncresolver.Resolver | None = None,
        loop: object = None,
    ) -> None:
        """
        Args:
            host: the server's host name or address, or a sequence of ``(host, port)`` of
                several members (or proxies); calls fail over between them.
            port: the client port, used with a single ``host``.
            srv_domain: find the members through the DNS SRV records of this domain
                (``_etcd-client-ssl._tcp`` with https, ``_etcd-client._tcp``, then
                ``_etcd._tcp``) on first use, instead of ``host`` and ``port``.
            api: ``"v2"`` (the default) runs the calls on etcd's v2 API; ``"v3"`` runs the
                same calls on its v3 API (etcd >= 3.4, through its JSON gateway), for
                servers without v2 (etcd 3.6, or 3.4/3.5 started without
                ``--enable-v2=true``). The two APIs keep separate stores: keys written
                through one are not seen through the other, so nothing switches by
                itself. On v3 a path is the v3 key of the same bytes (``etcdctl get``
                sees it); TTLs are leases, no shorter than the server's minimum; a
                directory cannot have a TTL; ``username`` and ``password`` log in once,
                for a token; ``leader_stats()``, ``store_stats()`` and the
                ``guest`` role have no v3 equivalent and raise
                :class:`~aio_etcd.EtcdAPIUnavailable`; watch events of other clients'
                writes carry inferred actions. See the docs' page "etcd v2 and v3"
                (``docs/v2-and-v3.md``).
            version_prefix: the v2 API's path prefix on the server (with ``api="v3"``, only
                the default is accepted).
            read_timeout: seconds a call may take by default, every retry included; watches
                wait without limit.
            allow_redirect: kept for older code; etcd forwards requests to the leader itself,
                and this client never follows redirects.
            protocol: ``"http"`` or ``"https"``.
            ca_cert: with https, the CA file that signed the servers' certificates; the
                system's CAs by default.
            cert: with https, a client certificate: one file with the certificate and its
                key, or a ``(cert, key)`` tuple of files.
            ssl_verify: with https, check the server's certificate and host name (the
                default). ``False`` turns both off.
            ssl_context: with https, use this context as it is, instead of the three above.
                These four options and ``per_host_pool_size`` configure the default
                transport; a ``transport`` passed in keeps its own settings.
            username: sent with ``password`` on every request (HTTP basic auth). Neither
                appears in ``repr()``, messages or logs.
            password: the password of ``username``.
            allow_reconnect: fail over to other members, and learn the members from the
                cluster. By default on with several hosts or an SRV domain, off with one host.
            use_proxies: the endpoints are proxies: never talk to the members behind them.
            expected_cluster_id: refuse replies from any other cluster with
                :class:`~aio_etcd.EtcdClusterIdChanged`. Not given, the first reply's
                cluster is expected.
            per_host_pool_size: at most this many connections per member for calls other
                than watches; ``None`` for no limit. For the default transport only.
            lock_prefix: the directory :class:`~aio_etcd.Lock` keeps its keys under.
            watch_retry_window: seconds a watch without a timeout (``watch_iter``,
                ``eternal_watch``, ``watch()``) keeps reconnecting, with backoff, while no
                member can be reached: 300 by default, enough for a restart or a rolling
                upgrade; ``None`` for ever. The error that ends it carries ``next_index``.
                Calls with a timeout give up after a few unreachable rounds instead.
            retry_unconditional_writes: send a write again, to the next member, when it
                may have been applied (a connection broken after sending, etcd's "request
                timed out" during a leader change) if it is a plain set (no ``prev*``
                condition, no ``append``, no ``dir``) or a refresh: either way the key
                ends up with the caller's value. The cost: a watcher may see that value
                set twice, and a write by someone else between the two may be overwritten
                (as if this one had arrived later). ``False`` raises
                :class:`~aio_etcd.EtcdOutcomeUnknown` for those too. Conditional writes,
                creates, appends and deletes are never sent again once they may have been
                applied. ``True`` by default.
            retry_policy: how long to back off between rounds over the members; the two
                options above, given, replace its fields of the same name.
            transport: how requests are sent. By default a :class:`~aio_etcd.LeanTransport`
                (HTTP/1.1 on httptools) built from the TLS options and
                ``per_host_pool_size`` above; it does not go through HTTP proxies, and a call
                to an endpoint that a proxy set in the environment applies to raises
                :class:`~aio_etcd.EtcdValueError` before sending. Pass
                ``aio_etcd.AiohttpTransport()`` to send through aiohttp instead,
                ``AiohttpTransport(trust_env=True)`` through the environment's proxies, or
                ``AiohttpTransport(session=...)`` through your own ``aiohttp.ClientSession``,
                which the client never closes. A transport passed here keeps its own
                settings: the client's ``ca_cert``, ``cert``, ``ssl_verify``, ``ssl_context``
                and ``per_host_pool_size`` do not reach it (give them to the transport, e.g.
                ``AiohttpTransport(ssl_context=..., per_host_pool_size=...)``).
            srv_resolver: the DNS resolver for ``srv_domain``; the system's by default.
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
        if api not in ("v2", "v3"):
            raise EtcdValueError(f"api must be 'v2' or 'v3', not {api!r}")
        if api == "v3" and version_prefix != DEFAULT_VERSION_PREFIX:
            raise EtcdValueError("version_prefix is for api='v2': the v3 gateway is at /v3")
        self._api = api
        self._protocol = protocol
        self._version_prefix = check.url_path(version_prefix, "version_prefix").rstrip("/")
        self._read_timeout = check.timeout(read_timeout, READ_TIMEOUT, "read_timeout")
        self._allow_redirect = check.flag(allow_redirect, "allow_redirect")
        self._lock_prefix = check.key(lock_prefix, "lock_prefix")
        self._use_proxies = check.flag(use_proxies, "use_proxies")
        if expected_cluster_id is not None and not isinstance(expected_cluster_id, str):
            raise TypeError("expected_cluster_id must be a str")
        pool_size = check.index(per_host_pool_size, "per_host_pool_size")
        seeds: list[str] = []
        if srv_domain is not None:
            domain = _domain(srv_domain)

            async def find() -> list[str]:
                return await discover(domain, protocol, srv_resolver)

            discovery = find
        else:
            seeds = [f"{protocol}://{_bracket(h)}:{p}" for h, p in _endpoints(host, port)]
            discovery = None
        reconnect = check.tristate(allow_reconnect, "allow_reconnect")
        if reconnect is None:
            reconnect = len(seeds) > 1 or srv_domain is not None
        self._allow_reconnect = reconnect
        self._pool = EndpointPool(
            seeds,
            reconnect=reconnect,
            use_proxies=self._use_proxies,
            expected_cluster_id=expected_cluster_id,
            discover=discovery,
        )
        tls = None
        if protocol == "https":
            tls = tls_context(
                ca_cert=ca_cert, cert=cert, ssl_verify=ssl_verify, ssl_context=ssl_context
            )
        elif ca_cert is not None or cert is not None or ssl_context is not None:
            raise EtcdValueError("ca_cert, cert and ssl_context need protocol='https'")
        self._username = username
        authorization = basic_auth(username, password)  # checks both, for either API
        if transport is None:
            transport = LeanTransport(per_host_pool_size=pool_size, ssl_context=tls)
        policy = retry_policy if retry_policy is not None else RetryPolicy()
        if not isinstance(watch_retry_window, NotGiven):
            window = (
                None
                if watch_retry_window is None
                else check.timeout(watch_retry_window, None, "watch_retry_window")
            )
            policy = replace(policy, watch_retry_window=window)
        if not isinstance(retry_unconditional_writes, NotGiven):
            resend = check.flag(retry_unconditional_writes, "retry_unconditional_writes")
            policy = replace(policy, retry_unconditional_writes=resend)
        self._failover = Failover(
            self._pool,
            policy,
            retry_window=self._read_timeout if self._read_timeout is not None else READ_TIMEOUT,
            refresh=lambda endpoint, seconds: self._backend.machines(endpoint, seconds),
        )
        # The one place the API is chosen: everything else speaks to a Backend.
        self._backend: Backend
        if api == "v3":
            # A token from auth/authenticate instead of the password on every request.
            tokens = TokenManager(username, password)
            gateway = Gateway(
                transport, self._failover, read_timeout=self._read_timeout, tokens=tokens
            )
            self._backend = V3Backend(gateway)
        else:
            self._backend = V2Backend(
                transport,
                self._version_prefix,
                check_reply=self._pool.check_cluster_id,
                authorization=authorization,
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
        if waits:
            check.flag(sorted, "sorted")  # nothing to sort in an event
            return await self._watch_once(
                path,
                recursive=check.flag(recursive, "recursive"),
                index=wait_index,
                timeout=check.timeout(timeout, None),
            )
        return await self._keys(
            ReadRequest(
                key=path,
                recursive=check.flag(recursive, "recursive"),
                sorted=check.flag(sorted, "sorted"),
                quorum=is_quorum,
                timeout=check.timeout(timeout, self._read_timeout),
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
        event's ``key`` is then the directory's. Fails over as :meth:`watch_iter` does: a
        member that does not answer within a second, or goes silent, is left for another,
        from the same index; without ``timeout``, an outage is ridden out for the client's
        ``watch_retry_window``.

        Raises:
            EtcdWatchTimedOut: ``timeout`` seconds passed without a change, or without a
                member that answered (the message says which; both say "timed out").
            EtcdEventIndexCleared: ``index`` is older than etcd's history.
            EtcdConnectionFailed: no member could be reached (with ``timeout``, after a few
                rounds; without, for ``watch_retry_window``); ``next_index`` says where to
                watch from again.
        """
        return await self.read(
            key, wait=True, waitIndex=index, recursive=recursive, timeout=timeout
        )

    def watch_iter(
        self,
        key: str,
        *,
        recursive: bool | None = False,
        index: int | None = None,
        resync: bool = False,
        probe_interval: float | None = WATCH_PROBE_INTERVAL,
    ) -> Watch:
        """Every change of ``key`` (or the tree below it), in order, each exactly once::

            async for event in client.watch_iter("/config", recursive=True):
                ...

        One streaming request carries many events. When the connection breaks or the
        member dies or falls silent, the watch goes on from another member where it left
        off. A watch of a key also reports the deletion or expiry of a directory above it,
        with the directory's key.

        Unlike :meth:`watch`, whose ``index`` and ``recursive`` may be given by position,
        every option here is a keyword.

        Args:
            index: the first index to report (e.g. a read's ``etcd_index + 1``); by
                default, changes from when the iteration starts (the first ``anext``).
            resync: when etcd's history (v2: its last 1000 changes; v3: the revisions
                left by compaction) no longer reaches back to the next index wanted,
                re-read the key or tree, yield that as an event with ``snapshot=True``,
                and go on from there, instead of raising
                :class:`~aio_etcd.EtcdEventIndexCleared`.
            probe_interval: after this many quiet seconds, check on another connection
                that the member is alive and healthy (it has a second to answer), and move
                on if it is not; ``None`` never checks.

        Raises (from the iteration):
            EtcdConnectionFailed: no member could be reached for the client's
                ``watch_retry_window`` (300 s by default); its ``next_index``, like
                :attr:`Watch.next_index`, is where to watch from again.
            EtcdEventIndexCleared: without ``resync``, the history no longer reaches back.
        """
        path = check.key(key)
        self._check_open()
        if probe_interval is not None:
            probe_interval = check.timeout(probe_interval, None, "probe_interval")
        return Watch(
            self._backend,
            self._failover,
            self._reread,
            path,
            recursive=check.flag(recursive, "recursive"),
            index=check.index(index, "index"),
            resync=check.flag(resync, "resync"),
            probe_interval=probe_interval,
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
        continue watching from. Runs on :meth:`watch_iter`, so no change is missed between
        two callbacks, and rides out a restart or an outage of the members for the client's
        ``watch_retry_window``.

        Raises:
            EtcdConnectionFailed: no member could be reached for ``watch_retry_window``
                seconds; its ``next_index`` is where to watch from again.
            EtcdEventIndexCleared: ``index`` is older than etcd's history.
        """
        async with self.watch_iter(key, recursive=recursive, index=index) as events:
            async for event in events:
                try:
                    outcome = callback(event)
                    if inspect.isawaitable(outcome):
                        await outcome
                except StopWatching:
                    # The event's index + 1, unless more events share its index (v3).
                    next_index = events.next_index
                    assert next_index is not None
                    return next_index
        raise AssertionError("a watch never ends by itself")  # pragma: no cover

    # -- the cluster ------------------------------------------------------------------

    async def version(self, *, timeout: Timeout = NOT_GIVEN) -> str:
        """The version of the etcd server, e.g. ``3.5.1``."""
        return (await self.version_info(timeout=timeout)).server

    async def cluster_version(self, *, timeout: Timeout = NOT_GIVEN) -> str:
        """The version the cluster runs at, e.g. ``3.5.0``."""
        return (await self.version_info(timeout=timeout)).cluster

    async def version_info(self, *, timeout: Timeout = NOT_GIVEN) -> VersionInfo:
        """Both versions, from one reply."""
        return await self._ask(self._backend.version, timeout)

    async def health(self, *, timeout: Timeout = NOT_GIVEN) -> Health:
        """Whether the member in use has a leader and can serve; ``bool()`` of it says."""
        return await self._ask(self._backend.health, timeout)

    async def machines(self, *, timeout: Timeout = NOT_GIVEN) -> list[str]:
        """The client URLs of every member of the cluster."""
        return await self._ask(self._backend.machines, timeout)

    async def members(self, *, timeout: Timeout = NOT_GIVEN) -> dict[str, Member]:
        """Every member, by id (``members[id]['clientURLs']`` works too)."""
        found = await self._ask(self._backend.members, timeout)
        return {member.id: member for member in found}

    async def leader(self, *, timeout: Timeout = NOT_GIVEN) -> Member:
        """The member that leads the cluster (``leader()['clientURLs']`` works too).

        While the cluster elects a leader this waits, within ``timeout``, for the result.
        """
        return await self._ask(self._backend.leader, timeout)

    async def stats(self, *, timeout: Timeout = NOT_GIVEN) -> SelfStats:
        """What the member in use says about itself."""
        return await self._ask(self._backend.self_stats, timeout)

    async def store_stats(self, *, timeout: Timeout = NOT_GIVEN) -> StoreStats:
        """The operation counts of the member in use."""
        return await self._ask(self._backend.store_stats, timeout)

    async def leader_stats(self, *, timeout: Timeout = NOT_GIVEN) -> LeaderStats:
        """The leader's view of its followers: latencies and counts.

        Only the leader answers this, so it is asked directly, unless the client talks
        through proxies.
        """
        if self._use_proxies:
            return await self._ask(self._backend.leader_stats, timeout)
        leader = await self.leader(timeout=timeout)
        urls = leader.client_urls
        if not urls:
            raise EtcdUnexpectedResponse(f"the leader {leader.id} has no client URL")
        seconds = check.timeout(timeout, self._read_timeout)
        return await self._backend.leader_stats(urls[0], seconds)

    async def add_member(
        self, peer_urls: str | Sequence[str], *, timeout: Timeout = NOT_GIVEN
    ) -> Member:
        """Add a member that will listen for its peers at ``peer_urls``; start it next.

        The new member has no name and no client URLs until it runs.
        """
        urls = _peer_urls(peer_urls)
        return await self._ask(
            lambda endpoint, seconds: self._backend.add_member(endpoint, urls, seconds),
            timeout,
            repeatable=False,
        )

    async def update_member(
        self, member_id: str, peer_urls: str | Sequence[str], *, timeout: Timeout = NOT_GIVEN
    ) -> None:
        """Change the peer URLs of member ``member_id``.

        Raises:
            EtcdKeyNotFound: there is no such member.
        """
        urls = _peer_urls(peer_urls)
        member = _member_id(member_id)
        await self._ask(
            lambda endpoint, seconds: self._backend.update_member(endpoint, member, urls, seconds),
            timeout,
            repeatable=False,
        )

    async def remove_member(self, member_id: str, *, timeout: Timeout = NOT_GIVEN) -> None:
        """Remove member ``member_id`` from the cluster.

        Raises:
            EtcdKeyNotFound: there is no such member, or it was removed before.
        """
        member = _member_id(member_id)
        await self._ask(
            lambda endpoint, seconds: self._backend.remove_member(endpoint, member, seconds),
            timeout,
            repeatable=False,
        )

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
        """The host of the member in use."""
        return urlsplit(self.base_uri).hostname or ""

    @property
    def port(self) -> int:
        """The port of the member in use."""
        return urlsplit(self.base_uri).port or 0

    @property
    def api(self) -> str:
        """``"v2"`` or ``"v3"``: the etcd API the calls run on."""
        return self._api

    @property
    def protocol(self) -> str:
        return self._protocol

    @property
    def base_uri(self) -> str:
        """The member in use, e.g. ``http://127.0.0.1:2379``; empty before SRV discovery."""
        return self._pool.current

    @property
    def endpoints(self) -> list[str]:
        """Every endpoint calls may go to: the given ones first, then members learned."""
        return self._pool.known

    @property
    def username(self) -> str | None:
        return self._username

    @property
    def allow_reconnect(self) -> bool:
        return self._allow_reconnect

    @property
    def use_proxies(self) -> bool:
        return self._use_proxies

    @property
    def expected_cluster_id(self) -> str | None:
        """The cluster replies must come from, as given or as first seen."""
        return self._pool.cluster_id

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

    def _keys(self, request: KeysRequest) -> Awaitable[EtcdResult]:
        # Not a coroutine itself: one frame less on every call.
        self._check_open()
        return self._failover.run(
            lambda endpoint, seconds: self._backend.keys(endpoint, request, seconds),
            timeout=request.timeout,
            repeatable=isinstance(request, ReadRequest),
            resendable=isinstance(request, WriteRequest) and request.idempotent,
        )

    async def _watch_once(
        self, key: str, *, recursive: bool, index: int | None, timeout: float | None
    ) -> EtcdResult:
        """The first change of ``key`` from ``index`` on, failing over as ``watch_iter``
        does (a plain watch, not a stream, so that its connection is used again)."""
        self._check_open()
        watch = Watch(
            self._backend,
            self._failover,
            self._reread,
            key,
            recursive=recursive,
            index=index,
            resync=False,
            probe_interval=WATCH_PROBE_INTERVAL,
            timeout=timeout,
            stream=False,
        )
        return await first_event(watch)

    async def _reread(self, key: str, recursive: bool) -> EtcdResult:
        return await self.read(key, recursive=recursive)

    async def _ask(
        self,
        call: Callable[[str, float | None], Awaitable[T]],
        timeout: Timeout,
        *,
        repeatable: bool = True,
    ) -> T:
        seconds = check.timeout(timeout, self._read_timeout)
        self._check_open()
        return await self._failover.run(call, timeout=seconds, repeatable=repeatable)

    async def _auth(self, request: AuthRequest, timeout: Timeout = NOT_GIVEN) -> AuthReply:
        """A call of the auth admin API; used by :mod:`aio_etcd.auth`."""
        return await self._ask(
            lambda endpoint, seconds: self._backend.auth(endpoint, request, seconds),
            timeout,
            repeatable=request.reads,
        )

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this aio_etcd.Client is closed")


def _peer_urls(value: object) -> list[str]:
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, Sequence) or not urls:
        raise TypeError("peer_urls must be a URL or a non-empty sequence of URLs")
    for url in urls:
        if not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            raise EtcdValueError(f"peer_urls must be http:// or https:// URLs, not {url!r}")
    return list(urls)


def _member_id(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"member_id must be a str, not {type(value).__name__}")
    if not value or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise EtcdValueError(f"member_id must be a member's hex id, not {value!r}")
    return value.lower()


def _domain(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"srv_domain must be a str, not {type(value).__name__}")
    if not value.strip(".") or any(c in value for c in "/:@ "):
        raise EtcdValueError(f"srv_domain must be a DNS domain, not {value!r}")
    return value


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
