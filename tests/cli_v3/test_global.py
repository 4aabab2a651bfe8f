"""The global flags and their ``ETCDCTL_*`` variables, compared with etcdctl 3.5.1."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from aio_etcd._server import free_port
from tests.cli_v3._compare import (
    AIO,
    Gateway,
    aio,
    compare,
    etcdctl,
    program_name,
    revisions,
    run,
    usage,
)

pytestmark = pytest.mark.etcdctl


def one_key(prefix: str) -> Mapping[str, object]:
    return {}


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["get", "--prefix", "{p}"], {"ETCDCTL_WRITE_OUT": "json"}),
        (["get", "--prefix", "{p}"], {"ETCDCTL_WRITE_OUT": "fields"}),
        (["get", "--prefix", "{p}"], {"ETCDCTL_HEX": "true"}),
        (["get", "--prefix", "{p}"], {"ETCDCTL_HEX": "1", "ETCDCTL_COMMAND_TIMEOUT": "3s"}),
        (["get", "--prefix", "{p}"], {"ETCDCTL_HEX": "maybe"}),
        (["get", "--prefix", "{p}"], {"ETCDCTL_DIAL_TIMEOUT": "1x"}),
        (["get", "-wjson", "--prefix", "{p}"], {}),
        (["get", "-w=fields", "--prefix", "{p}"], {}),
        (["get", "-w", "yaml", "--prefix", "{p}"], {}),
        (["--hex=false", "get", "--prefix", "{p}"], {}),
        (["--command-timeout=2s", "--dial-timeout", "500ms", "get", "{p}a"], {}),
        (["--command-timeout=2", "get", "{p}a"], {}),
        (["--keepalive-time=1s", "--keepalive-timeout=3s", "--debug=false", "get", "{p}a"], {}),
        (["get", "{p}a", "--bogus-global"], {}),
        (["-x", "get", "{p}a"], {}),
        (["frobnicate", "{p}a"], {}),
        (["get", "-w"], {}),
    ],
    ids=[
        "write-out from the environment",
        "fields from the environment",
        "hex from the environment",
        "two variables",
        "bad boolean in the environment",
        "bad duration in the environment",
        "short flag with its value",
        "short flag with =",
        "unknown format",
        "boolean flag with =false",
        "durations",
        "duration without a unit",
        "accepted flags",
        "unknown flag",
        "unknown short flag",
        "unknown command",
        "flag without its value",
    ],
)
def test_global_flags(url: str, prefix: str, args: list[str], env: dict[str, str]) -> None:
    def setup(gateway: Gateway) -> Mapping[str, object]:
        gateway.put(f"{prefix}a", "1")
        gateway.put(f"{prefix}b", "2")
        return {"p": prefix}

    compare(
        url,
        *args,
        env=env,
        setup=setup,
        reset=prefix,
        normalise=[revisions, usage, program_name],
    )


def test_endpoints_from_the_environment(url: str, prefix: str) -> None:
    """``ETCDCTL_ENDPOINTS`` when no flag is given (etcdctl refuses both; see docs/cli.md)."""
    Gateway(url).put(f"{prefix}env", "from env")
    env = {"ETCDCTL_ENDPOINTS": url}
    theirs = run([str(_etcdctl()), "get", f"{prefix}env"], env=env)
    ours = run([*AIO, "get", f"{prefix}env"], env=env)
    assert (ours.code, ours.out, ours.err) == (theirs.code, theirs.out, theirs.err)
    assert ours.out == f"{prefix}env\nfrom env\n"


def test_flag_wins_over_the_environment(url: str, prefix: str) -> None:
    """A deliberate difference: etcdctl 3.5 exits when a flag and its variable are both
    set; aio-etcd takes the flag."""
    Gateway(url).put(f"{prefix}k", "v")
    endpoint = url.removeprefix("http://")
    env = {"ETCDCTL_ENDPOINTS": f"127.0.0.1:{free_port()}", "ETCDCTL_WRITE_OUT": "json"}
    theirs = run([str(_etcdctl()), f"--endpoints={endpoint}", "get", f"{prefix}k"], env=env)
    assert theirs.code == 1 and "conflicting environment variable" in theirs.err
    ours = aio(endpoint, "get", f"{prefix}k", "-w", "simple", env=env)
    assert (ours.code, ours.out, ours.err) == (0, f"{prefix}k\nv\n", "")


def test_unreachable_endpoint(prefix: str) -> None:
    """Both give up after ``--command-timeout`` with etcdctl's one line."""
    nobody = f"127.0.0.1:{free_port()}"
    theirs = etcdctl(nobody, "--command-timeout=1s", "get", f"{prefix}a")
    ours = aio(nobody, "--command-timeout=1s", "get", f"{prefix}a")
    assert (ours.code, ours.out, ours.first_err) == (theirs.code, theirs.out, theirs.first_err)
    assert theirs.first_err == "Error: context deadline exceeded"


def _etcdctl() -> object:
    from tests.v3._etcdctl import tool

    return tool("etcdctl")


def test_no_protobuf_output(url: str, prefix: str) -> None:
    """A deliberate difference: the JSON gateway gives no protobuf to print."""
    ours = aio(url.removeprefix("http://"), "get", "-w", "protobuf", f"{prefix}a")
    assert (ours.code, ours.out, ours.err) == (
        4,
        "",
        "Error: protobuf not supported as output format\n",
    )
