"""user, role and auth against an etcd of our own (auth is turned on there), and TLS flags."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from aio_etcd._cli._errors import EXIT_BAD_ARGS, EXIT_BAD_AUTH, EXIT_BAD_CONNECTION
from aio_etcd._server import LOOPBACK, LocalEtcd, TlsFiles

from .test_cli import CLI, Ran, cli, environment, together

ROOT_PASSWORD = "r00t-CLI-s3cret"
ALICE_PASSWORD = "al1ce-CLI-s3cret"
NEW_PASSWORD = "n3w-CLI-s3cret"


@pytest.fixture(scope="module")
def auth_server() -> Iterator[LocalEtcd]:
    """An etcd whose auth the tests may turn on; stopped at the end of the module."""
    with LocalEtcd(name="cli-auth") as server:
        yield server


def test_users_roles_and_bad_credentials(auth_server: LocalEtcd) -> None:
    url = auth_server.client_url
    root = f"root:{ROOT_PASSWORD}"
    seen: list[Ran] = []

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Ran:
        ran = cli(*args, endpoint=url, input=input, env=env)
        seen.append(ran)
        return ran

    # The new password comes from standard input's first line when it is not a terminal.
    assert run("user", "add", "root", input=ROOT_PASSWORD + "\n") == Ran(
        0, "User root created\n", ""
    )
    again, no_password, role = together(
        lambda: run("user", "add", "root", input="other\n"),
        lambda: run("user", "add", "bob"),
        lambda: run("role", "add", "reader"),
    )
    assert again == Ran(EXIT_BAD_ARGS, "", "User root already exists\n")
    assert no_password == Ran(EXIT_BAD_ARGS, "", "Error reading password: no password given\n")
    assert role == Ran(0, "Role reader created\n", "")

    granted, role_again, alice = together(
        lambda: run("role", "grant", "reader", "--path", "/app/*", "--read"),
        lambda: run("role", "add", "reader"),
        lambda: run("user", "add", f"alice:{ALICE_PASSWORD}"),
    )
    assert granted == Ran(0, "Role reader updated\n", "")
    assert role_again == Ran(EXIT_BAD_ARGS, "", "Role reader already exists\n")
    assert alice == Ran(0, "User alice created\n", "")

    unchanged, no_path, not_canonical, two_kinds, no_kind, user_grant = together(
        lambda: run("role", "grant", "reader", "--path", "/app/*", "--read"),
        lambda: run("role", "grant", "reader", "--read"),
        lambda: run("role", "grant", "reader", "--path", "app//x/", "--rw"),
        lambda: run("role", "revoke", "reader", "--path", "/app/*", "--read", "--write"),
        lambda: run("role", "revoke", "reader", "--path", "/app/*"),
        lambda: run("user", "grant", "alice", "--roles", "reader"),
    )
    assert unchanged == Ran(0, "Role unchanged; already granted\nRole reader updated\n", "")
    assert no_path == Ran(EXIT_BAD_ARGS, "", "No path specified; please use `--path`\n")
    assert not_canonical == Ran(
        EXIT_BAD_ARGS, "", "Not canonical path; please use `--path=/app/x/`\n"
    )
    only_one = "Please specify exactly one of --read, --write or --readwrite\n"
    assert two_kinds == no_kind == Ran(EXIT_BAD_ARGS, "", only_one)
    assert user_grant == Ran(0, "User alice updated\n", "")

    role_get, role_json, roles, user_get, user_json, users = together(
        lambda: run("role", "get", "reader"),
        lambda: run("-o", "json", "role", "get", "reader"),
        lambda: run("role", "list"),
        lambda: run("user", "get", "alice"),
        lambda: run("-o", "json", "user", "get", "alice"),
        lambda: run("user", "list"),
    )
    assert role_get == Ran(0, "Role: reader\nKV Read:\n\t/app/*\nKV Write:\n", "")
    assert role_json.json() == {
        "role": "reader",
        "permissions": {"kv": {"read": ["/app/*"], "write": []}},
    }
    assert "reader\n" in roles.out and roles.code == 0
    assert user_get == Ran(0, "User: alice\nRoles: reader\n", "")
    assert user_json.json() == {"user": "alice", "roles": ["reader"]}
    assert users == Ran(0, "alice\nroot\n", "")

    assert run("set", "/app/config", "v1") == Ran(0, "v1\n", "")
    assert run("auth", "enable") == Ran(0, "Authentication Enabled\n", "")
    try:
        from_env = {"ETCDCTL_PASSWORD": ROOT_PASSWORD}
        runs = together(
            lambda: run("-u", "root:wrong", "get", "/app/config"),
            lambda: run("-u", "root:wrong", "-o", "json", "get", "/app/config"),
            lambda: run("--username", "root", "user", "list", env={"ETCDCTL_PASSWORD": "wrong"}),
            lambda: run("user", "list"),  # anonymous: guest may read keys, not users
            lambda: run("-u", f"alice:{ALICE_PASSWORD}", "set", "/app/config", "v2"),
            lambda: run("-u", "root", "user", "list", env=from_env),
            lambda: run("-u", f"alice:{ALICE_PASSWORD}", "get", "/app/config"),
            lambda: run("-u", "root", "get", "/app/config"),  # no password, no terminal
            lambda: run("get", "/app/config", env={"ETCDCTL_USERNAME": "root", **from_env}),
        )
        wrong, wrong_json, wrong_env, anonymous, read_only = runs[:5]
        listed, alice_reads, no_terminal, username_env = runs[5:]
        for ran in (wrong, wrong_json, wrong_env, anonymous, read_only):
            assert ran.code == EXIT_BAD_AUTH and ran.out == "", ran
        assert wrong.err == (
            "Error:  110: The request requires user authentication (Insufficient credentials) [0]\n"
        )
        assert wrong_json.err == (
            '{"errorCode":110,"message":"The request requires user authentication",'
            '"cause":"Insufficient credentials","index":0}\n'
        )
        assert wrong_env.err.startswith("Insufficient credentials")
        assert listed == Ran(0, "alice\nroot\n", "")
        assert alice_reads == Ran(0, "v1\n", "")
        assert no_terminal == Ran(
            EXIT_BAD_ARGS, "", "Error:  no terminal to ask for the password: set ETCDCTL_PASSWORD\n"
        )
        assert username_env == Ran(0, "v1\n", "")

        changed = run("-u", root, "user", "passwd", "alice", input=NEW_PASSWORD + "\n")
        assert changed == Ran(0, "Password updated\n", "")
        old, new, missing = together(
            lambda: run("-u", f"alice:{ALICE_PASSWORD}", "get", "/app/config"),
            lambda: run("-u", f"alice:{NEW_PASSWORD}", "get", "/app/config"),
            lambda: run("-u", root, "user", "passwd", "nobody", input="x\n"),
        )
        assert old.code == EXIT_BAD_AUTH and new == Ran(0, "v1\n", "")
        assert missing.code == EXIT_BAD_ARGS
        assert missing.err.startswith("auth: User nobody does not exist.")

        assert run("-u", root, "user", "revoke", "alice", "--roles", "reader").code == 0
        assert run("-u", root, "user", "get", "alice") == Ran(0, "User: alice\nRoles: \n", "")
        removed = together(
            lambda: run("-u", root, "user", "remove", "alice"),
            lambda: run("-u", root, "role", "revoke", "reader", "--path", "/app/*", "--read"),
        )
        assert removed == [Ran(0, "User alice removed\n", ""), Ran(0, "Role reader updated\n", "")]
        assert run("-u", root, "role", "remove", "reader") == Ran(0, "Role reader removed\n", "")
        assert run("-u", root, "role", "get", "reader").code == EXIT_BAD_ARGS
    finally:
        disabled = run("-u", root, "auth", "disable")
    assert disabled == Ran(0, "Authentication Disabled\n", "")

    assert len(seen) > 30
    for ran in seen:
        for password in (ROOT_PASSWORD, ALICE_PASSWORD, NEW_PASSWORD):
            assert password not in ran.out and password not in ran.err, ran
        assert "Traceback" not in ran.err


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def mtls_server(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEtcd]:
    """An https etcd that asks clients for a certificate its CA signed."""
    directory = tmp_path_factory.mktemp("cli-tls")
    server = ca.issue_cert(LOOPBACK)
    server.cert_chain_pems[0].write_to_path(str(directory / "server.crt"))
    server.private_key_pem.write_to_path(str(directory / "server.key"))
    ca.cert_pem.write_to_path(str(directory / "ca.crt"))
    files = TlsFiles(directory / "server.crt", directory / "server.key", directory / "ca.crt", True)
    with LocalEtcd(name="cli-tls", tls=files) as etcd:
        yield etcd


def test_tls_flags_and_their_environment_variables(
    mtls_server: LocalEtcd, ca: trustme.CA, tmp_path: Path
) -> None:
    assert mtls_server.tls is not None
    client = ca.issue_cert("cli-client")
    client.cert_chain_pems[0].write_to_path(str(tmp_path / "client.crt"))
    client.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    client.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    url = mtls_server.client_url
    ca_file = str(mtls_server.tls.ca)
    cert, key = str(tmp_path / "client.crt"), str(tmp_path / "client.key")

    flags = cli(
        "--ca-file",
        ca_file,
        "--cert-file",
        cert,
        "--key-file",
        key,
        "set",
        "/t/tls",
        "v",
        endpoint=url,
    )
    env, one_file, no_cert, key_only = together(
        lambda: cli(
            "get",
            "/t/tls",
            endpoint=url,
            env={"ETCDCTL_CA_FILE": ca_file, "ETCDCTL_CERT_FILE": cert, "ETCDCTL_KEY_FILE": key},
        ),
        lambda: cli(
            "--ca-file",
            ca_file,
            "--cert-file",
            str(tmp_path / "client.pem"),
            "ls",
            "/t",
            endpoint=url,
        ),
        lambda: cli("--ca-file", ca_file, "get", "/t/tls", endpoint=url),
        lambda: cli("--ca-file", ca_file, "--key-file", key, "get", "/t/tls", endpoint=url),
    )
    assert flags == Ran(0, "v\n", "")
    assert env.code == 0 and env.out == "v\n"
    assert one_file.code == 0 and "/t/tls\n" in one_file.out
    assert no_cert.code == EXIT_BAD_CONNECTION
    assert no_cert.err.startswith("Error:  client: etcd cluster is unavailable or misconfigured; ")
    assert key_only == Ran(EXIT_BAD_ARGS, "", "Error:  --key-file needs --cert-file\n")


def test_the_password_prompt_does_not_echo(etcd_server: LocalEtcd, prefix: str) -> None:
    key = f"{prefix}/prompted"
    assert cli("set", key, "seen", endpoint=etcd_server.client_url).code == 0
    typed = "typed-S3cret"
    argv = [*CLI, "--endpoints", etcd_server.client_url, "-u", "someone", "get", key]
    # A terminal of our own, as a person at a terminal has (auth is off: any password works).
    # In a new session the command has no controlling terminal, so the prompt uses this one.
    terminal, other_end = pty.openpty()
    process = subprocess.Popen(
        argv,
        stdin=other_end,
        stdout=other_end,
        stderr=other_end,
        env=environment(),
        start_new_session=True,
    )
    os.close(other_end)
    try:
        shown = read_until(terminal, b"Password: ")
        os.write(terminal, typed.encode() + b"\n")
        shown += read_until(terminal, None)
        status = process.wait(15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(terminal)
    assert status == 0, shown
    assert shown.startswith(b"Password: ") and shown.rstrip().endswith(b"seen")
    assert typed.encode() not in shown


def read_until(terminal: int, wanted: bytes | None, timeout: float = 15) -> bytes:
    """What the terminal shows until ``wanted`` appears (``None``: until the end)."""
    deadline = time.monotonic() + timeout
    shown = b""
    while wanted is None or wanted not in shown:
        assert time.monotonic() < deadline, shown
        ready, _, _ = select.select([terminal], [], [], 0.1)
        if not ready:
            continue
        try:
            chunk = os.read(terminal, 1024)
        except OSError:  # the other side closed: the command ended
            break
        if not chunk:
            break
        shown += chunk
    return shown
