"""``get`` and ``put`` compared with etcdctl's, in every format etcdctl prints them in."""

from __future__ import annotations

import pytest

from tests.cli_v3._compare import Gateway, compare, revisions

pytestmark = pytest.mark.etcdctl

FORMATS = ("simple", "json", "fields", "table")


@pytest.mark.parametrize("write_out", FORMATS)
def test_get_prefix(url: str, prefix: str, write_out: str) -> None:
    def setup(gateway: Gateway) -> None:
        gateway.put(f"{prefix}a", "1")
        gateway.put(f"{prefix}b", "2")

    compare(
        url,
        "get",
        "--prefix",
        prefix,
        "-w",
        write_out,
        setup=setup,
        reset=prefix,
        normalise=[revisions],
    )
