"""Which members a call may go to, and in what order.

The user's endpoints (the seeds) are never dropped: an outage must not leave the client with
an empty list. With reconnecting allowed, the members the cluster reports are added to them;
with ``use_proxies`` the seeds are all there is, because they are proxies the user put in
front of the cluster on purpose.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from ._constants import FAILED_MEMBER_COOLDOWN, MEMBER_REFRESH_INTERVAL
from ._exceptions import EtcdClusterIdChanged

Discover = Callable[[], Awaitable[list[str]]]
"""Finds the seed endpoints (DNS SRV discovery), e.g. ``["http://10.0.0.1:2379"]``."""


class EndpointPool:
    """The members a client knows, the one it uses now, and the ones that failed lately."""

    def __init__(
        self,
        seeds: Sequence[str],
        *,
        reconnect: bool,
        use_proxies: bool = False,
        expected_cluster_id: str | None = None,
        discover: Discover | None = None,
    ) -> None:
        self._seeds = list(dict.fromkeys(seeds))
        self._known = list(self._seeds)
        self._current = self._seeds[0] if self._seeds else ""
        self._reconnect = reconnect
        self._use_proxies = use_proxies
        self._discover = discover
        self._failed_at: dict[str, float] = {}
        self._order: list[str] | None = None
        """What :meth:`endpoints` returns while nothing fails or changes."""
        self._refreshed_at: float | None = None
        self._cluster_id = expected_cluster_id
        self._cluster_id_fixed = expected_cluster_id is not None

    @property
    def current(self) -> str:
        """The endpoint calls go to first; empty until discovery has run."""
        return self._current

    @property
    def order(self) -> list[str] | None:
        """What :meth:`endpoints` would return, when that is known without any work."""
        return self._order

    @property
    def known(self) -> list[str]:
        """Every endpoint a call may go to, seeds first."""
        return list(self._known)

    @property
    def cluster_id(self) -> str | None:
        """The cluster this client talks to, as given or as first seen."""
        return self._cluster_id

    async def endpoints(self) -> list[str]:
        """The endpoints to try for one call, in order: the current one, then the others
        in turn; those that failed lately last, the longest ago first."""
        if self._order is not None:
            return self._order
        if not self._seeds and self._discover is not None:
            self._seeds = list(dict.fromkeys(await self._discover()))
            self._known = list(self._seeds)
            self._current = self._seeds[0]
        if not self._reconnect:
            self._order = [self._current]
            return self._order
        start = self._known.index(self._current) if self._current in self._known else 0
        ordered = self._known[start:] + self._known[:start]
        now = time.monotonic()
        cooling = [
            e for e in ordered if now - self._failed_at.get(e, -1e9) < FAILED_MEMBER_COOLDOWN
        ]
        healthy = [e for e in ordered if e not in cooling]
        order = healthy + sorted(cooling, key=self._failed_at.__getitem__)
        if not cooling:
            self._order = order  # the same for every call until something changes
        return order

    def failed(self, endpoint: str) -> None:
        """``endpoint`` did not answer: later calls start elsewhere."""
        self._order = None
        self._failed_at[endpoint] = time.monotonic()
        self._refreshed_at = None
        if self._reconnect and endpoint == self._current and len(self._known) > 1:
            following = self._known.index(endpoint) + 1 if endpoint in self._known else 0
            self._current = self._known[following % len(self._known)]

    def answered(self, endpoint: str) -> None:
        """``endpoint`` answered: stay with it."""
        if endpoint != self._current or self._failed_at:
            self._order = None
            self._failed_at.pop(endpoint, None)
            if self._reconnect:
                self._current = endpoint

    def refresh_due(self) -> bool:
        """Whether the member list should be asked for again before the next call."""
        if not self._reconnect or self._use_proxies:
            return False
        return (
            self._refreshed_at is None
            or time.monotonic() - self._refreshed_at > MEMBER_REFRESH_INTERVAL
        )

    def refreshed(self, member_urls: Sequence[str] | None) -> None:
        """The cluster reported these client URLs (``None``: asking failed; try later)."""
        self._refreshed_at = time.monotonic()
        self._order = None
        if member_urls:
            self._known = list(dict.fromkeys([*self._seeds, *member_urls]))
            if self._current not in self._known:
                self._current = self._known[0]

    def check_cluster_id(self, cluster_id: str | None, endpoint: str) -> None:
        """Refuse a reply from another cluster: its indexes mean nothing in this one."""
        if not cluster_id:
            return
        if self._cluster_id is None:
            self._cluster_id = cluster_id
            return
        if cluster_id != self._cluster_id:
            expected = self._cluster_id
            if not self._cluster_id_fixed:
                # Learned, not given: say it once, then go on with the new cluster.
                self._cluster_id = cluster_id
            raise EtcdClusterIdChanged(
                f"{endpoint} belongs to cluster {cluster_id}, not {expected}: "
                "indexes and watches from the old cluster mean nothing there"
            )
