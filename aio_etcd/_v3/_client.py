"""The typed v3 client: etcd's v3 API over its JSON gateway.

The shape of the API:

- **One client object, flat calls where Python clients of etcd v3 put them** (python-etcd3,
  aetcd): ``get``, ``get_prefix``, ``put``, ``delete``, ``transaction``, ``grant_lease``,
  ``lease()``, ... are methods of :class:`Etcd3Client`, each in the module of its etcd
  service (``_kv.py``, ``_lease.py``, ...) as a part the client is composed of. Rarer
  administration is grouped as Go's clientv3 groups it (``client.cluster``,
  ``client.maintenance``, ``client.auth``).
- **Typed both ways.** Requests are built from models that refuse unknown fields (the
  gateway silently ignores a misspelled one); replies are models of the wire
  (``aio_etcd.models.v3``) with every field defaulted, because the gateway leaves zero
  values out. Keys and values are ``bytes``; ``str`` arguments are taken as UTF-8.
- **Transactions from typed compares**: ``Value(key) == b"x"``, ``ModRevision(key) < 5``,
  ``Op.put(key, value)``; a compare cannot carry its operand in the wrong field.
- **Built like** :class:`aio_etcd.Client`: the same endpoints, TLS, SRV discovery,
  transports, failover and retry policy (``aio_etcd/_retry.py``); a resource used with
  ``async with`` or closed with :meth:`Etcd3Client.close`; every call takes ``timeout=``
  (seconds).
- **Errors** are the classes of :mod:`aio_etcd` (one tree for both APIs), chosen by gRPC
  code and message in ``_v3/_errors.py``.

Nothing here uses gRPC: everything is a POST to ``/v3/...`` (etcd ≥ 3.4; etcd's
``api_grpc_gateway`` guide).
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from types import TracebackType

import dns.asyncresolver

from .. import _validate as check
from .._client import _bracket, _domain, _endpoints
from .._constants import DEFAULT_HOST, DEFAULT_PORT, READ_TIMEOUT
from .._discovery import discover
from .._endpoints import EndpointPool
from .._exceptions import EtcdValueError
from .._http11 import LeanTransport
from .._retry import Failover, RetryPolicy
from .._security import Cert, tls_context
from .._transport import Transport
from .._types import NOT_GIVEN, Timeout
from ..models.v3.cluster import Member
from ..models.v3.maintenance import StatusResponse
from ._args import KeyLike
from ._auth import TokenManager
from ._auth_admin import Auth
from ._cluster import Cluster
from ._concurrency import DEFAULT_TTL, Election, Lock
from ._gateway import Gateway
from ._kv import KV
from ._lease import Leases
from ._maintenance import Maintenance
from ._watch import Watches


class Etcd3Client(KV, Leases, Watches):
    """An asynchronous client of etcd's v3 API (etcd 3.4 and later, v2 API not needed)::

        async with aio_etcd.Etcd3Client(port=2379) as client:
            await client.put(b"/config/level", b"debug")
            kv = await client.get(b"/config/level")
            print(kv.value if kv else None)

    Creating one does no I/O and needs no running event loop. Use it as an async context
    manager, or ``await client.close()`` when done; calls after that raise
    :class:`RuntimeError`.
    """

    def __init__(
        self,
        host: str | Sequence[tuple[str, int]] = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        *,
        srv_domain: str | None = None,
        protocol: str = "http",
        read_timeout: float = READ_TIMEOUT,
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
        retry_policy: RetryPolicy | None = None,
        transport: Transport | None = None,
        srv_resolver: dns.asyncresolver.Resolver | None = None,
    ) -> None:
        """
        Args:
            host: the server's host name or address, or a sequence of ``(host, port)`` of
                several members (or proxies); calls fail over between them.
            port: the client port, used with a single ``host``.
            srv_domain: find the members through the DNS SRV records of this domain on first
                use, instead of ``host`` and ``port``.
            protocol: ``"http"`` or ``"https"``.
            read_timeout: seconds a call may take by default, every retry included.
            ca_cert: with https, the CA file that signed the servers' certificates.
            cert: with https, a client certificate: one file with the certificate and its
                key, or a ``(cert, key)`` tuple of files.
            ssl_verify: with https, check the server's certificate and host name (the
                default).
            ssl_context: with https, use this context as it is, instead of the three above.
            username: authenticate as this user (``POST /v3/auth/authenticate``) on first
                use, and send the token with every request. Neither it nor ``password``
                appears in ``repr()``, messages or logs.
            password: the password of ``username``.
            allow_reconnect: fail over to other members, and learn the members from the
                cluster. By default on with several hosts or an SRV domain.
            use_proxies: the endpoints are proxies: never talk to the members behind them.
            expected_cluster_id: refuse replies from any other cluster (its id in hex, as
                v2 and ``etcdctl -w table`` show it) with
                :class:`~aio_etcd.EtcdClusterIdChanged`; by default the first reply's.
            per_host_pool_size: at most this many connections per member for calls other
                than streams; ``None`` for no limit.
            retry_policy: how long to back off between rounds over the members.
            transport: how requests are sent; by default a :class:`~aio_etcd.LeanTransport`
                built from the TLS options and ``per_host_pool_size`` (see
                :class:`~aio_etcd.Client` for the choices); a transport passed here keeps
                its own settings.
            srv_resolver: the DNS resolver for ``srv_domain``.
        """
        if protocol not in ("http", "https"):
            raise EtcdValueError(f"protocol must be 'http' or 'https', not {protocol!r}")
        self._protocol = protocol
        read = check.timeout(read_timeout, READ_TIMEOUT, "read_timeout")
        use_proxies = check.flag(use_proxies, "use_proxies")
        if expected_cluster_id is not None and not isinstance(expected_cluster_id, str):
            raise TypeError("expected_cluster_id must be a str")
        pool_size = check.index(per_host_pool_size, "per_host_pool_size")
        seeds: list[str] = []
        discovery = None
        if srv_domain is not None:
            domain = _domain(srv_domain)

            async def find() -> list[str]:
                return await discover(domain, protocol, srv_resolver)

            discovery = find
        else:
            seeds = [f"{protocol}://{_bracket(h)}:{p}" for h, p in _endpoints(host, port)]
        reconnect = check.tristate(allow_reconnect, "allow_reconnect")
        if reconnect is None:
            reconnect = len(seeds) > 1 or srv_domain is not None
        pool = EndpointPool(
            seeds,
            reconnect=reconnect,
            use_proxies=use_proxies,
            expected_cluster_id=None
            if expected_cluster_id is None
            else expected_cluster_id.lower(),
            discover=discovery,
        )
        tls = None
        if protocol == "https":
            tls = tls_context(
                ca_cert=ca_cert, cert=cert, ssl_verify=ssl_verify, ssl_context=ssl_context
            )
        elif ca_cert is not None or cert is not None or ssl_context is not None:
            raise EtcdValueError("ca_cert, cert and ssl_context need protocol='https'")
        tokens = _tokens(username, password)
        if transport is None:
            transport = LeanTransport(per_host_pool_size=pool_size, ssl_context=tls)

        async def member_urls(endpoint: str, seconds: float) -> list[str]:
            return await self._gateway.member_urls(endpoint, seconds)

        failover = Failover(
            pool,
            retry_policy if retry_policy is not None else RetryPolicy(),
            retry_window=read if read is not None else READ_TIMEOUT,
            refresh=member_urls,
        )
        self._gateway = Gateway(transport, failover, read_timeout=read, tokens=tokens)
        self.cluster = Cluster(self._gateway)
        """Members: list, add (learners too), update, remove, promote."""
        self.maintenance = Maintenance(self._gateway)
        """Status, alarms, defragment, hashes, snapshots."""
        self.auth = Auth(self._gateway)
        """Auth on and off, users, roles and permissions."""

    async def members(self, *, timeout: Timeout = NOT_GIVEN) -> list[Member]:
        """Every member of the cluster (:meth:`Cluster.member_list`)."""
        return await self.cluster.member_list(timeout=timeout)

    async def status(
        self, endpoint: str | None = None, *, timeout: Timeout = NOT_GIVEN
    ) -> StatusResponse:
        """What a member says about itself (:meth:`Maintenance.status`)."""
        return await self.maintenance.status(endpoint, timeout=timeout)

    async def close(self) -> None:
        """Release every connection; open streams end. Safe to call more than once."""
        await self._gateway.aclose()

    @property
    def closed(self) -> bool:
        return self._gateway.closed

    async def __aenter__(self) -> Etcd3Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def lock(self, name: KeyLike, *, ttl: int = DEFAULT_TTL) -> Lock:
        """A :class:`~aio_etcd.v3.Lock` named ``name`` (no I/O until acquired), in the
        layout of ``etcdctl lock`` and Go's ``concurrency.Mutex``::

            async with client.lock("jobs"):
                ...

        ``ttl``: seconds the lock outlives a holder that stopped (crashed, cut off).
        """
        return Lock(self, name, ttl=ttl)

    def election(self, name: KeyLike, *, ttl: int = DEFAULT_TTL) -> Election:
        """An :class:`~aio_etcd.v3.Election` named ``name`` (no I/O until used), in the
        layout of ``etcdctl elect`` and Go's ``concurrency.Election``.

        ``ttl``: seconds a leader that stopped (crashed, cut off) keeps leading.
        """
        return Election(self, name, ttl=ttl)

    @property
    def endpoints(self) -> list[str]:
        """Every endpoint a call may go to, seeds first."""
        return self._gateway.failover.pool.known

    @property
    def username(self) -> str | None:
        return self._gateway.tokens.username

    @property
    def read_timeout(self) -> float | None:
        return self._gateway.read_timeout

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        where = self._gateway.failover.pool.current or "(SRV discovery)"
        return f"<aio_etcd.Etcd3Client {where}{state}>"


def _tokens(username: object, password: object) -> TokenManager:
    if username is None and password is None:
        return TokenManager(None, None)
    if not isinstance(username, str) or not username:
        raise EtcdValueError("username must be a non-empty str when a password is given")
    if not isinstance(password, str):
        raise TypeError("password must be a str when a username is given")
    return TokenManager(username, password)
