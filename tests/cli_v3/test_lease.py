"""``lease grant|revoke|timetolive|keep-alive`` compared with etcdctl 3.5.1's, in every
format (``lease list``, which sees every lease of the server, is in ``test_own_server.py``).
Lease ids differ between the two runs: ``lease_ids`` names them in order of appearance."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Mapping

import pytest

from tests.cli_v3._compare import (
    AIO,
    Gateway,
    Run,
    compare,
    environment,
    lease_ids,
    revisions,
    ttls,
    usage,
)
from tests.v3._etcdctl import tool

pytestmark = pytest.mark.etcdctl

FORMATS = ("simple", "json", "fields", "table")


def a_lease(gateway: Gateway, prefix: str) -> Mapping[str, object]:
    """``{lease}``: a lease of 600 s (hex) with a key (one: etcd lists several in no fixed
    order); ``{gone}``: one revoked."""
    lease = gateway.grant(600)
    gateway.put(f"{prefix}k1", "v", lease=lease)
    gone = gateway.grant(600)
    gateway.revoke(gone)
    return {"lease": f"{lease:x}", "gone": f"{gone:x}"}


LEASE_CASES: dict[str, list[str]] = {
    "grant": ["lease", "grant", "600"],
    "grant below the minimum": ["lease", "grant", "0"],
    "grant a negative TTL": ["lease", "grant", "--", "-5"],
    "grant without a TTL": ["lease", "grant"],
    "grant a bad TTL": ["lease", "grant", "10s"],
    "revoke": ["lease", "revoke", "{lease}"],
    "revoke a revoked lease": ["lease", "revoke", "{gone}"],
    "revoke a bad id": ["lease", "revoke", "xyz"],
    "revoke without an id": ["lease", "revoke"],
    "time to live": ["lease", "timetolive", "{lease}"],
    "time to live and keys": ["lease", "timetolive", "--keys", "{lease}"],
    "time to live of a revoked lease": ["lease", "timetolive", "{gone}"],
    "time to live without an id": ["lease", "timetolive"],
    "keep alive once": ["lease", "keep-alive", "--once", "{lease}"],
    "keep alive a revoked lease once": ["lease", "keep-alive", "--once", "{gone}"],
    "keep alive without an id": ["lease", "keep-alive"],
    "unknown subcommand flag": ["lease", "grant", "--keys", "5"],
}


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("case", list(LEASE_CASES))
def test_lease(url: str, prefix: str, case: str, write_out: str) -> None:
    def setup(gateway: Gateway) -> Mapping[str, object]:
        return a_lease(gateway, prefix)

    compare(
        url,
        *LEASE_CASES[case],
        "-w",
        write_out,
        setup=setup,
        reset=prefix,
        normalise=[revisions, lease_ids, ttls, usage],
        state=prefix,
    )


def _keep_alive(argv: list[str], url: str, env: Mapping[str, str] | None = None) -> Run:
    """Run ``lease keep-alive`` on a new lease of 3 s; revoke the lease once the first
    renewal is printed; the whole output."""
    gateway = Gateway(url)
    lease = gateway.grant(3)
    process = subprocess.Popen(
        [*argv, f"--endpoints={url}", "lease", "keep-alive", f"{lease:x}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(env),
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    gateway.revoke(lease)
    timer = threading.Timer(20, process.kill)
    timer.start()
    try:
        rest, err = process.communicate()
    finally:
        timer.cancel()
    ran = Run(process.returncode, (first + rest).decode(), err.decode())
    ran.leases = {}
    return ran


@pytest.mark.parametrize("write_out", ["simple", "json"])
def test_keep_alive_until_revoked(url: str, write_out: str) -> None:
    """Renewals are printed until the lease is gone; then (simple format only) one line
    saying so, and exit 0."""
    env = {"ETCDCTL_WRITE_OUT": write_out}
    theirs = _keep_alive([str(tool("etcdctl"))], url, env)
    ours = _keep_alive(list(AIO), url, env)
    for side in (theirs, ours):
        side.out = lease_ids(revisions(side.out, side), side)
    assert (ours.code, ours.out, ours.err) == (theirs.code, theirs.out, "")
    assert theirs.code == 0 and theirs.out.count("\n") == 1 + (write_out == "simple")
