"""Cluster membership: the ``Cluster`` service (``/v3/cluster/member/*``).

The calls of Go's ``clientv3.Cluster`` (etcd-io/etcd ``client/v3/cluster.go``): list, add
(learners too), update, remove, promote. Member ids are ``uint64``: decimal on the v3 wire,
where the v2 API, ``etcdctl member list -w table`` and etcd's logs write them in hex
(:attr:`~aio_etcd.models.v3.Member.hex_id`). The calls here take either form: an ``int``, or
the hex ``str``.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from .._exceptions import EtcdValueError
from .._types import NOT_GIVEN, Timeout
from ..models.v3.cluster import (
    Member,
    MemberAddRequest,
    MemberAddResponse,
    MemberListRequest,
    MemberListResponse,
    MemberPromoteRequest,
    MemberPromoteResponse,
    MemberRemoveRequest,
    MemberRemoveResponse,
    MemberUpdateRequest,
    MemberUpdateResponse,
)
from . import _args as check
from ._gateway import Gateway, Part

MAX_ID = 2**64 - 1


class Cluster(Part):
    """``client.cluster``: who is in the cluster, and changing that.

    etcd answers a change with ``unhealthy cluster`` while a member is not connected to the
    others (for about 5 s after one returns); that answer means nothing changed, so it is
    retried within the call's timeout. A change that would leave too few started members
    for a quorum is refused (``re-configuration failed due to not enough started
    members``, :class:`~aio_etcd.EtcdException`).
    """

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    async def member_list(
        self, *, linearizable: bool = False, timeout: Timeout = NOT_GIVEN
    ) -> list[Member]:
        """Every member: voters, learners, and members added but not started yet.

        Args:
            linearizable: ask through the leader (etcd >= 3.5), so that a change made
                through another member is seen; by default the answering member's view.
                etcd 3.4 ignores it.
            timeout: seconds for the call, retries included; ``None`` for no limit; by
                default the client's ``read_timeout``.
        """
        request = MemberListRequest(linearizable=check.flag(linearizable, "linearizable"))
        reply = await self._gateway.call(
            "cluster/member/list",
            request,
            MemberListResponse,
            timeout=self._seconds(timeout),
            repeatable=True,
        )
        return reply.members

    async def member_add(
        self,
        peer_urls: str | Sequence[str],
        *,
        is_learner: bool = False,
        timeout: Timeout = NOT_GIVEN,
    ) -> MemberAddResponse:
        """Add a member that will listen for its peers at ``peer_urls``; start it next, with
        ``--initial-cluster-state=existing`` and an ``--initial-cluster`` naming it.

        Args:
            peer_urls: one or more ``http(s)://host:port`` URLs.
            is_learner: add a learner, which follows the log without voting (etcd >= 3.4)
                and serves no client calls but member list and status; promote it with
                :meth:`member_promote` once it has caught up. etcd allows one learner.
            timeout: as for :meth:`member_list`.

        Returns:
            ``member``, the one added (only ``id``, ``peer_urls`` and ``is_learner`` until
            it starts), and ``members``, the cluster after the change.

        Raises:
            EtcdAlreadyExist: a member has one of these peer URLs already.
            EtcdValueError: etcd finds the URLs invalid.
            EtcdOutcomeUnknown: the member in use failed before confirming the change;
                :meth:`member_list` tells whether it was made.
        """
        request = MemberAddRequest(
            peer_urls=_peer_urls(peer_urls), is_learner=check.flag(is_learner, "is_learner")
        )
        return await self._gateway.call(
            "cluster/member/add",
            request,
            MemberAddResponse,
            timeout=self._seconds(timeout),
            repeatable=False,
        )

    async def member_update(
        self,
        member_id: int | str,
        peer_urls: str | Sequence[str],
        *,
        timeout: Timeout = NOT_GIVEN,
    ) -> list[Member]:
        """Give member ``member_id`` new peer URLs; returns the members after the change.

        Update a learner only once promoted: etcd 3.4.23 and 3.5.1 drop the learner flag of
        a learner they update (their member list then shows a voter).

        Raises:
            EtcdMemberNotFound: there is no such member.
            EtcdAlreadyExist: another member has one of these peer URLs.
        """
        request = MemberUpdateRequest(id=_member_id(member_id), peer_urls=_peer_urls(peer_urls))
        reply = await self._gateway.call(
            "cluster/member/update",
            request,
            MemberUpdateResponse,
            timeout=self._seconds(timeout),
            repeatable=False,
        )
        return reply.members

    async def member_remove(
        self, member_id: int | str, *, timeout: Timeout = NOT_GIVEN
    ) -> list[Member]:
        """Remove member ``member_id``; returns the members left.

        Raises:
            EtcdMemberNotFound: there is no such member (or it was removed already).
        """
        request = MemberRemoveRequest(id=_member_id(member_id))
        reply = await self._gateway.call(
            "cluster/member/remove",
            request,
            MemberRemoveResponse,
            timeout=self._seconds(timeout),
            repeatable=False,
        )
        return reply.members

    async def member_promote(
        self, member_id: int | str, *, timeout: Timeout = NOT_GIVEN
    ) -> list[Member]:
        """Make learner ``member_id`` a voting member (etcd >= 3.4); returns the members.

        Raises:
            EtcdMemberNotFound: there is no such member.
            EtcdNotLearner: the member votes already.
            EtcdLearnerNotReady: the learner has not caught up with the leader (or not
                started); nothing changed: ask again once it has.
        """
        request = MemberPromoteRequest(id=_member_id(member_id))
        reply = await self._gateway.call(
            "cluster/member/promote",
            request,
            MemberPromoteResponse,
            timeout=self._seconds(timeout),
            repeatable=False,
        )
        return reply.members


def _member_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"member_id must be an int or a hex str, not {type(value).__name__}")
    if isinstance(value, str):
        digits = value.lower()
        if not digits or len(digits) > 16 or any(c not in "0123456789abcdef" for c in digits):
            raise EtcdValueError(f"member_id must be a member's hex id, not {value!r}")
        value = int(digits, 16)
    if not 0 < value <= MAX_ID:
        raise EtcdValueError(f"member_id must be from 1 to 2**64-1, not {value}")
    return value


def _peer_urls(value: object) -> list[str]:
    urls = [value] if isinstance(value, str) else value
    if not isinstance(urls, Sequence) or not urls:
        raise TypeError("peer_urls must be a URL or a non-empty sequence of URLs")
    for url in urls:
        if not isinstance(url, str):
            raise TypeError(f"peer_urls must hold str URLs, not {type(url).__name__}")
        # What etcd's types.NewURLs accepts: http(s), a host and a port, no path.
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
            raise EtcdValueError(f"peer_urls must be http(s)://host:port URLs, not {url!r}")
        if parts.path or parts.query or parts.fragment:
            raise EtcdValueError(f"peer_urls must not have a path, not {url!r}")
    return list(urls)
