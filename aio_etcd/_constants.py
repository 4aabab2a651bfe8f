"""Named defaults, in one place."""

from __future__ import annotations

from typing import Final

VERSION: Final = "1.0.0.dev0"
USER_AGENT: Final = f"aio_etcd/{VERSION}"

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 2379
"""etcd's client port. Older clients defaulted to 4001, which etcd 3 no longer listens on."""
DEFAULT_VERSION_PREFIX: Final = "/v2"
DEFAULT_LOCK_PREFIX: Final = "/_locks"

READ_TIMEOUT: Final = 60.0
"""Seconds any call but a watch may take, unless the client or the call says otherwise."""
CONNECT_TIMEOUT: Final = 10.0
"""Seconds to open a connection; bounds even calls that may otherwise wait forever (watches)."""
