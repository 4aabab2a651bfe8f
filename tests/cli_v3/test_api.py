"""Choosing the API: ``--api`` and ``ETCDCTL_API`` (the flag wins), 3 by default."""

from __future__ import annotations

import pytest

from aio_etcd._server import LocalEtcd
from tests.cli_v3._compare import AIO, run


@pytest.mark.parametrize("command", ["set", "mk", "ls", "rmdir", "exec-watch", "cluster-health"])
def test_a_v2_command_in_v3_mode_says_how_to_run_it(command: str) -> None:
    ran = run([*AIO, command, "/a", "b"])
    assert ran.code == 128
    assert ran.err == (
        f'Error: "{command}" is a command of the v2 API: pass --api 2 or set '
        "ETCDCTL_API=2 to use it\n"
    )
    assert ran.out == ""


def test_the_flag_wins_over_the_environment(etcd_server: LocalEtcd) -> None:
    endpoint = etcd_server.client_url
    v2 = run(
        [*AIO, "--api", "2", "--endpoints", endpoint, "set", "/api/flag", "x"],
        env={"ETCDCTL_API": "3"},
    )
    assert (v2.code, v2.out) == (0, "x\n"), v2.err
    v3 = run(
        [*AIO, "--api=3", "--endpoints", endpoint, "set", "/api/flag", "y"],
        env={"ETCDCTL_API": "2"},
    )
    assert v3.code == 128
    v3 = run([*AIO, "--endpoints", endpoint, "put", "/api/v3", "z"], env={"ETCDCTL_API": "3"})
    assert (v3.code, v3.out) == (0, "OK\n"), v3.err


def test_v3_is_the_default_and_other_versions_are_refused(etcd_server: LocalEtcd) -> None:
    ran = run([*AIO, "--endpoints", etcd_server.client_url, "put", "/api/default", "v"])
    assert (ran.code, ran.out) == (0, "OK\n"), ran.err
    for argv, env in ((["--api", "4", "get", "a"], {}), (["get", "a"], {"ETCDCTL_API": "1"})):
        bad = run([*AIO, *argv], env=env)
        assert bad.code == 128
        assert bad.err.startswith("Error: unsupported API version") and bad.err.count("\n") == 1
