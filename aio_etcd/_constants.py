"""Named defaults, in one place."""

from __future__ import annotations

from typing import Final

VERSION: Final = "1.0.0.dev0"

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 2379
"""etcd's client port. Older clients defaulted to 4001, which etcd 3 no longer listens on."""
DEFAULT_VERSION_PREFIX: Final = "/v2"
DEFAULT_LOCK_PREFIX: Final = "/_locks"

READ_TIMEOUT: Final = 60.0
"""Seconds any call but a watch may take, unless the client or the call says otherwise."""
CONNECT_TIMEOUT: Final = 10.0
"""Seconds to open a connection; bounds even calls that may otherwise wait forever (watches)."""

BACKOFF_INITIAL: Final = 0.05
"""Seconds to wait after the first round over the members failed; doubles each round."""
BACKOFF_MAX: Final = 1.0
"""The longest wait between two rounds over the members."""
FAILED_MEMBER_COOLDOWN: Final = 5.0
"""Seconds a member that failed is tried only after the others."""
MEMBER_REFRESH_INTERVAL: Final = 60.0
"""Seconds between two refreshes of the member list (sooner after a member failed)."""
UNREACHABLE_ROUNDS: Final = 3
"""Rounds over the members, all unreachable, after which a call gives up before its deadline."""
WATCH_PROBE_INTERVAL: Final = 10.0
"""Seconds a watch may stay quiet before its member is asked whether it is alive."""
WATCH_PROBE_TIMEOUT: Final = 1.0
"""Seconds a watched member has to answer that health check; silence counts as a failure."""
WATCH_OPEN_TIMEOUT: Final = 1.0
"""Seconds a member has to answer a watch with its headers. etcd sends them at once, before
any event, so a member that does not (frozen, partitioned) is left for another."""
WATCH_RETRY_WINDOW: Final = 300.0
"""Seconds a watch without a deadline keeps reconnecting (with backoff) while no member can
be reached: long enough to ride out a restart, a rolling upgrade or a short outage."""
