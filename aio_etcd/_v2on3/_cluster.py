"""Members, leader, health, version and stats of the documented calls, from the v3 API.

``/version`` and ``/health`` are the same endpoints as with v2. Members come from
``cluster/member/list`` (ids decimal on the v3 wire, hex in v2's models); the leader from one
member's ``maintenance/status``. v3 keeps no operation counters (v2's ``/v2/stats/*``): self
stats are partial, store and leader stats are not available.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import ValidationError

from .._exceptions import (
    EtcdAPIUnavailable,
    EtcdLeaderElectionInProgress,
    EtcdMemberNotFound,
    EtcdValueError,
)
from .._v3._errors import error_for_reply, unexpected
from .._v3._gateway import Gateway
from ..models import EtcdModel, Health, LeaderInfo, Member, SelfStats, VersionInfo
from ..models.v3 import cluster as v3
from ..models.v3.maintenance import StatusRequest, StatusResponse

_M = TypeVar("_M", bound=EtcdModel)


def member(found: v3.Member) -> Member:
    """A v3 member as v2 describes it (id in hex)."""
    return Member(
        id=found.hex_id, name=found.name, peer_urls=found.peer_urls, client_urls=found.client_urls
    )


async def _get(gateway: Gateway, endpoint: str, path: str, model: type[_M], timeout: float | None,
               ok: tuple[int, ...] = (200,)) -> _M:  # fmt: skip
    url = endpoint + path
    response = await gateway.transport.request("GET", url, timeout=timeout)
    if response.status not in ok:
        raise error_for_reply(response.status, response.body, url)
    try:
        return model.model_validate_json(response.body)
    except ValidationError as exc:
        raise unexpected(
            response.status, response.body, url, f"not a valid {model.__name__}"
        ) from exc


async def version(gateway: Gateway, endpoint: str, timeout: float | None) -> VersionInfo:
    return await _get(gateway, endpoint, "/version", VersionInfo, timeout)


async def health(gateway: Gateway, endpoint: str, timeout: float | None) -> Health:
    # 503 carries the same body: not healthy.
    return await _get(gateway, endpoint, "/health", Health, timeout, ok=(200, 503))


async def _members(gateway: Gateway, endpoint: str, timeout: float | None) -> list[v3.Member]:
    request = v3.MemberListRequest()
    reply = await gateway.call_on(
        endpoint, "cluster/member/list", request, v3.MemberListResponse, timeout=timeout
    )
    return reply.members


async def members(gateway: Gateway, endpoint: str, timeout: float | None) -> list[Member]:
    return [member(found) for found in await _members(gateway, endpoint, timeout)]


async def _status(gateway: Gateway, endpoint: str, timeout: float | None) -> StatusResponse:
    return await gateway.call_on(
        endpoint, "maintenance/status", StatusRequest(), StatusResponse, timeout=timeout
    )


async def leader(gateway: Gateway, endpoint: str, timeout: float | None) -> Member:
    """The leader ``endpoint`` follows, from its status and the member list."""
    status = await _status(gateway, endpoint, timeout)
    if not status.leader:
        # Retried by the failover within the call's timeout: an election is under way.
        raise EtcdLeaderElectionInProgress(f"{endpoint} has no leader (an election is under way)")
    for found in await _members(gateway, endpoint, timeout):
        if found.id == status.leader:
            return member(found)
    raise EtcdMemberNotFound(f"the leader {status.leader:x} is not in the member list")


async def self_stats(gateway: Gateway, endpoint: str, timeout: float | None) -> SelfStats:
    """Name, id, state and leader of the member at ``endpoint``; v3 counts no raft messages
    (the counters and rates are 0 and ``None``)."""
    status = await _status(gateway, endpoint, timeout)
    me = status.header.member_id
    name = next((m.name for m in await _members(gateway, endpoint, timeout) if m.id == me), "")
    return SelfStats(
        name=name,
        id=format(me, "x"),
        state="StateLeader" if status.is_leader else "StateFollower",
        leader_info=LeaderInfo(leader=format(status.leader, "x") if status.leader else ""),
    )


def _id(member_id: str) -> int:
    """A hex member id as the v3 wire's integer."""
    value = int(member_id, 16)
    if not 0 < value < 2**64:
        raise EtcdValueError(f"member_id must be a 64-bit member id, not {member_id!r}")
    return value


def no_leader_stats() -> EtcdAPIUnavailable:
    return EtcdAPIUnavailable(
        "leader_stats() is not available with api='v3': etcd's v3 API has no equivalent of "
        "/v2/stats/leader (follower latencies are only in the peer histograms of /metrics)"
    )


def no_store_stats() -> EtcdAPIUnavailable:
    return EtcdAPIUnavailable(
        "store_stats() is not available with api='v3': etcd's v3 API keeps no per-operation "
        "counts like /v2/stats/store (its /metrics counts puts, ranges and txns instead)"
    )


async def add_member(
    gateway: Gateway, endpoint: str, peer_urls: Sequence[str], timeout: float | None
) -> Member:
    request = v3.MemberAddRequest(peer_urls=list(peer_urls))
    reply = await gateway.call_on(
        endpoint, "cluster/member/add", request, v3.MemberAddResponse, timeout=timeout
    )
    return member(reply.member)


async def update_member(
    gateway: Gateway,
    endpoint: str,
    member_id: str,
    peer_urls: Sequence[str],
    timeout: float | None,
) -> None:
    request = v3.MemberUpdateRequest(id=_id(member_id), peer_urls=list(peer_urls))
    await gateway.call_on(
        endpoint, "cluster/member/update", request, v3.MemberUpdateResponse, timeout=timeout
    )


async def remove_member(
    gateway: Gateway, endpoint: str, member_id: str, timeout: float | None
) -> None:
    request = v3.MemberRemoveRequest(id=_id(member_id))
    await gateway.call_on(
        endpoint, "cluster/member/remove", request, v3.MemberRemoveResponse, timeout=timeout
    )
