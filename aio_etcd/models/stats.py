"""What a member counts about itself, its followers and its store (``/v2/stats/*``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from ._base import EtcdModel


class _CamelModel(EtcdModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class LeaderInfo(_CamelModel):
    leader: str = ""
    """The id of the member this one follows (or itself)."""
    uptime: str = ""
    """How long that member has led, as Go prints a duration (e.g. ``1m2.5s``)."""
    start_time: datetime | None = None


class SelfStats(_CamelModel):
    """The reply of ``GET /v2/stats/self``: one member's view of itself.

    ``state`` can lag: a leader that lost its quorum may still report ``StateLeader``. Ask
    :meth:`~aio_etcd.Client.leader` who leads.
    """

    name: str
    id: str
    state: str
    """``StateLeader`` or ``StateFollower``."""
    start_time: datetime | None = None
    leader_info: LeaderInfo = Field(default_factory=LeaderInfo)
    recv_append_request_cnt: int = 0
    send_append_request_cnt: int = 0
    recv_pkg_rate: float | None = None
    recv_bandwidth_rate: float | None = None
    send_pkg_rate: float | None = None
    send_bandwidth_rate: float | None = None


class Latency(_CamelModel):
    """Milliseconds."""

    current: float = 0.0
    average: float = 0.0
    standard_deviation: float = 0.0
    minimum: float = 0.0
    maximum: float = 0.0


class Counts(_CamelModel):
    fail: int = 0
    success: int = 0


class FollowerStats(_CamelModel):
    latency: Latency = Field(default_factory=Latency)
    counts: Counts = Field(default_factory=Counts)


class LeaderStats(_CamelModel):
    """The reply of ``GET /v2/stats/leader``, which only the leader answers."""

    leader: str
    """The leader's member id."""
    followers: dict[str, FollowerStats] = Field(default_factory=dict)
    """By member id."""


class StoreStats(_CamelModel):
    """The reply of ``GET /v2/stats/store``: operation counts of one member, since it started.

    Reads and watches count only on the member that served them.
    """

    gets_success: int = 0
    gets_fail: int = 0
    sets_success: int = 0
    sets_fail: int = 0
    delete_success: int = 0
    delete_fail: int = 0
    update_success: int = 0
    update_fail: int = 0
    create_success: int = 0
    create_fail: int = 0
    compare_and_swap_success: int = 0
    compare_and_swap_fail: int = 0
    compare_and_delete_success: int = 0
    compare_and_delete_fail: int = 0
    expire_count: int = 0
    watchers: int = 0
