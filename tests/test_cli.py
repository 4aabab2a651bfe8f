"""The command line, run as users run it (``python -m aio_etcd``), against a real etcd.

The helpers here (``cli``, ``together``, ``Running``) serve the other ``test_cli_*`` files
too. Independent commands run concurrently: each one is a new Python process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import pytest

from aio_etcd._cli._errors import (
    EXIT_BAD_ARGS,
    EXIT_BAD_AUTH,
    EXIT_BAD_CONNECTION,
    EXIT_SERVER_ERROR,
    report,
)
from aio_etcd._cli._settings import duration
from aio_etcd._server import LocalEtcd, free_port

T = TypeVar("T")

CLI = (sys.executable, "-m", "aio_etcd")


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> dict[str, object]:
        document = json.loads(self.out)
        assert isinstance(document, dict)
        return document


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Ours, without any ETCDCTL_* the person running the tests may have set, and with the
    v2 commands chosen (``ETCDCTL_API=2``): these tests are of the v2 command line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    env["ETCDCTL_API"] = "2"
    env.update(extra or {})
    return env


def cli(
    *args: str,
    endpoint: str | None = None,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Ran:
    """Run the command line to its end; stdin is empty unless ``input`` is given."""
    argv = [*CLI, *(["--endpoints", endpoint] if endpoint else []), *args]
    done = subprocess.run(
        argv,
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment(env),
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def together(*calls: Callable[[], T]) -> list[T]:
    """Run independent calls at the same time; their results in order."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda call: call(), calls))


class Running:
    """A command line left running (a watch, a lock holder), read line by line."""

    def __init__(self, *args: str, endpoint: str, env: Mapping[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [*CLI, "--endpoints", endpoint, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment(env),
        )

    def lines(self, count: int, timeout: float = 15) -> list[str]:
        """The next ``count`` lines of its output, waiting at most ``timeout`` seconds."""
        assert self.process.stdout is not None
        stdout = self.process.stdout
        read: list[str] = []

        def reader() -> None:
            while len(read) < count:
                line = stdout.readline()
                if not line:
                    return
                read.append(line.rstrip("\n"))

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        thread.join(timeout)
        assert len(read) == count, f"wanted {count} lines, got {read}"
        return read

    def stop(self, signum: int = signal.SIGINT, timeout: float = 15) -> Ran:
        """Send ``signum`` and wait for the end."""
        self.process.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float = 15) -> Ran:
        out, err = self.process.communicate(timeout=timeout)
        return Ran(self.process.returncode, out, err)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@pytest.fixture
def url(etcd_server: LocalEtcd) -> str:
    return etcd_server.client_url


def lock_keys(url: str, name: str) -> list[str]:
    """The keys queued for lock ``name``, asked without starting a process."""
    try:
        with urllib.request.urlopen(f"{url}/v2/keys/_locks/{name}?sorted=true", timeout=5) as reply:
            nodes = json.load(reply)["node"].get("nodes") or []
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return []
        raise
    return [str(node["key"]) for node in nodes]


def wait_for_contenders(url: str, name: str, count: int, timeout: float = 15) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(keys := lock_keys(url, name)) < count:
        assert time.monotonic() < deadline, f"only {keys} queued for {name}"
        time.sleep(0.05)
    return keys


def index_of(ran: Ran) -> int:
    """The ``Index:`` (etcd's index after the request) of an extended output."""
    found = re.search(r"^Index: (\d+)$", ran.out, re.MULTILINE)
    assert found, ran
    return int(found.group(1))


def test_set_and_get_in_the_three_formats(url: str, prefix: str) -> None:
    key = f"{prefix}/greeting"
    assert cli("set", key, "hello", endpoint=url) == Ran(0, "hello\n", "")

    simple, as_json, extended = together(
        lambda: cli("get", key, endpoint=url),
        lambda: cli("-o", "json", "get", key, endpoint=url),
        lambda: cli("--output", "extended", "get", key, endpoint=url),
    )
    assert simple == Ran(0, "hello\n", "")

    assert as_json.code == 0 and as_json.err == ""
    document = as_json.json()
    node = document["node"]
    assert isinstance(node, dict)
    index = node["modifiedIndex"]
    assert isinstance(index, int) and index > 0
    # As etcd's Go client marshals a response: no dir or ttl unless set, nodes null.
    assert document == {
        "action": "get",
        "node": {
            "key": key,
            "value": "hello",
            "nodes": None,
            "createdIndex": index,
            "modifiedIndex": index,
        },
        "prevNode": None,
    }

    assert extended.code == 0
    lines = extended.out.splitlines()
    assert lines[:4] == [
        f"Key: {key}",
        f"Created-Index: {index}",
        f"Modified-Index: {index}",
        "TTL: 0",
    ]
    assert re.fullmatch(r"Index: \d+", lines[4]) and int(lines[4].split()[1]) >= index
    assert lines[5:] == ["", "hello"]

    replaced = cli("-o", "extended", "set", key, "again", "--ttl", "300", endpoint=url)
    assert replaced.code == 0
    assert "PrevNode.Value: hello\n" in replaced.out and "TTL: 300\n" in replaced.out
    assert replaced.out.endswith("\n\nagain\n")
    with_ttl = cli("get", key, "-o", "json", endpoint=url).json()  # flags after the command too
    node = with_ttl["node"]
    assert isinstance(node, dict)
    assert 0 < node["ttl"] <= 300
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", node["expiration"])


def test_writes_keep_etcdctls_conditions(url: str, prefix: str) -> None:
    made, stdin, empty, queued = together(
        lambda: cli("mk", f"{prefix}/made", "first", endpoint=url),
        lambda: cli("set", f"{prefix}/stdin", endpoint=url, input="from stdin\n"),
        lambda: cli("set", f"{prefix}/empty", endpoint=url),
        lambda: cli("-o", "json", "mk", "--in-order", f"{prefix}/queue", "job", endpoint=url),
    )
    assert made == Ran(0, "first\n", "")
    assert stdin == Ran(0, "from stdin\n\n", "")  # all of stdin, newline included
    assert empty == Ran(EXIT_BAD_ARGS, "", "Error:  value required\n")
    queued_node = queued.json()["node"]
    assert isinstance(queued_node, dict)
    assert re.fullmatch(rf"{prefix}/queue/\d{{20}}", str(queued_node["key"]))

    again, missing, wrong_value, wrong_index, swapped = together(
        lambda: cli("mk", f"{prefix}/made", "second", endpoint=url),
        lambda: cli("update", f"{prefix}/missing", "x", endpoint=url),
        lambda: cli("set", f"{prefix}/made", "x", "--swap-with-value", "other", endpoint=url),
        lambda: cli("set", f"{prefix}/made", "x", "--swap-with-index", "1", endpoint=url),
        lambda: cli("set", f"{prefix}/made", "swapped", "--swap-with-value", "first", endpoint=url),
    )
    assert again.code == EXIT_SERVER_ERROR and again.out == ""
    assert re.fullmatch(rf"Error:  105: Key already exists \({prefix}/made\) \[\d+\]\n", again.err)
    assert missing.code == EXIT_SERVER_ERROR
    assert re.fullmatch(rf"Error:  100: Key not found \({prefix}/missing\) \[\d+\]\n", missing.err)
    assert wrong_value.code == EXIT_SERVER_ERROR
    assert wrong_value.err.startswith("Error:  101: Compare failed ([other != first]")
    assert wrong_index.code == EXIT_SERVER_ERROR
    assert wrong_index.err.startswith("Error:  101: Compare failed ([1 != ")
    assert swapped == Ran(0, "swapped\n", "")

    updated = cli("-o", "json", "update", f"{prefix}/made", "updated", endpoint=url).json()
    assert updated["action"] == "update"
    previous = updated["prevNode"]
    assert isinstance(previous, dict) and previous["value"] == "swapped"
    # A value that looks like a flag goes after "--", as with etcdctl.
    assert cli("set", "--", f"{prefix}/dash", "-v", endpoint=url) == Ran(0, "-v\n", "")


def test_directories_ls_and_rm(url: str, prefix: str) -> None:
    top = f"{prefix}/dir"
    assert cli("mkdir", top, endpoint=url) == Ran(0, "", "")  # etcdctl prints nothing
    again, is_dir, setdir, updatedir, file_a, file_b = together(
        lambda: cli("mkdir", top, endpoint=url),
        lambda: cli("get", top, endpoint=url),
        lambda: cli("setdir", f"{prefix}/other", "--ttl", "300", endpoint=url),
        lambda: cli("updatedir", f"{prefix}/missing", "--ttl", "300", endpoint=url),
        lambda: cli("set", f"{top}/a", "1", endpoint=url),
        lambda: cli("set", f"{top}/sub/b", "2", endpoint=url),
    )
    assert again.code == EXIT_SERVER_ERROR and "105: Key already exists" in again.err
    assert is_dir == Ran(EXIT_BAD_ARGS, "", f"{top}: is a directory\n")
    assert setdir == Ran(0, "", "")
    assert updatedir.code == EXIT_SERVER_ERROR and "100: Key not found" in updatedir.err
    assert file_a.code == file_b.code == 0

    plain, slashed, tree, as_json, extended, one_file = together(
        lambda: cli("ls", "--sort", top, endpoint=url),
        lambda: cli("ls", "--sort", "-p", top, endpoint=url),
        lambda: cli("ls", "--sort", "--recursive", "-p", top, endpoint=url),
        lambda: cli("-o", "json", "ls", "--sort", top, endpoint=url),
        lambda: cli("-o", "extended", "ls", top, endpoint=url),
        lambda: cli("ls", f"{top}/a", endpoint=url),
    )
    assert plain == Ran(0, f"{top}/a\n{top}/sub\n", "")
    assert slashed == Ran(0, f"{top}/a\n{top}/sub/\n", "")
    assert tree == Ran(0, f"{top}/a\n{top}/sub/\n{top}/sub/b\n", "")
    listing = as_json.json()
    node = listing["node"]
    assert isinstance(node, dict) and listing["action"] == "get"
    assert node["dir"] is True and node["value"] == "" and "ttl" not in node
    assert [child["key"] for child in node["nodes"]] == [f"{top}/a", f"{top}/sub"]
    assert extended.out.startswith(f"Key: {top}\nCreated-Index: ")
    assert one_file == Ran(0, f"{top}/a\n", "")

    not_empty, not_file, wrong_value, gone = together(
        lambda: cli("rmdir", f"{top}/sub", endpoint=url),
        lambda: cli("rm", f"{top}/sub", endpoint=url),
        lambda: cli("rm", f"{top}/sub/b", "--with-value", "other", endpoint=url),
        lambda: cli("rm", f"{top}/a", endpoint=url),
    )
    assert not_empty.code == EXIT_SERVER_ERROR and "108: Directory not empty" in not_empty.err
    assert not_file.code == EXIT_SERVER_ERROR and "102: Not a file" in not_file.err
    assert wrong_value.code == EXIT_SERVER_ERROR and "101: Compare failed" in wrong_value.err
    assert gone == Ran(0, "PrevNode.Value: 1\n", "")

    extended_rm = cli("-o", "extended", "rm", f"{top}/sub/b", "--with-value", "2", endpoint=url)
    assert extended_rm.code == 0
    assert "PrevNode.Value: 2\n" in extended_rm.out and not extended_rm.out.endswith("\n\n")
    assert cli("rmdir", f"{top}/sub", endpoint=url) == Ran(0, "", "")
    deleted = cli("-o", "json", "rm", "--recursive", prefix, endpoint=url).json()
    assert deleted["action"] == "delete"
    assert cli("ls", prefix, endpoint=url).code == EXIT_SERVER_ERROR


def test_errors_are_one_line_with_etcdctls_exit_codes(url: str, prefix: str) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    runs = together(
        lambda: cli("-o", "json", "get", f"{prefix}/none", endpoint=url),
        lambda: cli("get", endpoint=url),
        lambda: cli("frobnicate", endpoint=url),
        lambda: cli("set", f"{prefix}/k", "v", "--ttl", "soon", endpoint=url),
        lambda: cli("-o", "yaml", "get", f"{prefix}/k", endpoint=url),
        lambda: cli("get", f"{prefix}//double", endpoint=url),
        lambda: cli("--endpoints", "ftp://127.0.0.1:21", "get", "/k"),
        lambda: cli("--endpoints", "http://127.0.0.1:1,https://127.0.0.1:2", "get", "/k"),
        lambda: cli("--timeout", "0", "get", "/k", endpoint=url),
        lambda: cli("get", f"{prefix}/k", endpoint=unreachable),
        lambda: cli("set", f"{prefix}/k", "v", endpoint=unreachable),
    )
    missing, no_key, unknown, bad_ttl, bad_output, bad_key = runs[:6]
    bad_scheme, mixed, bad_timeout, unreachable_get, unreachable_set = runs[6:]

    assert missing.code == EXIT_SERVER_ERROR and missing.out == ""
    assert json.loads(missing.err) == {
        "errorCode": 100,
        "message": "Key not found",
        "cause": prefix,  # etcd names the first part of the path that is missing
        "index": json.loads(missing.err)["index"],
    }
    for ran in (no_key, unknown, bad_ttl, bad_output, bad_key, bad_scheme, mixed, bad_timeout):
        assert ran.code == EXIT_BAD_ARGS, ran
        assert ran.err.startswith("Error:  ") and ran.err.count("\n") == 1, ran
    assert "required: key" in no_key.err
    assert "invalid choice: 'frobnicate'" in unknown.err
    assert "'//'" in bad_key.err or "//" in bad_key.err
    for ran in (unreachable_get, unreachable_set):
        assert ran.code == EXIT_BAD_CONNECTION, ran
        assert ran.err.startswith("Error:  client: etcd cluster is unavailable or misconfigured; ")
        assert ran.err.count("\n") == 1 and "Traceback" not in ran.err

    for ran in runs:
        assert "Traceback" not in ran.err


def test_endpoints_from_the_environment_and_version(url: str, prefix: str) -> None:
    key = f"{prefix}/env"
    from_env, version, helped = together(
        lambda: cli("set", key, "via env", env={"ETCDCTL_ENDPOINTS": url}),
        lambda: cli("--version"),
        lambda: cli("member", "--help"),
    )
    assert from_env == Ran(0, "via env\n", "")
    assert version.code == 0 and version.out.startswith("aio-etcd version: ")
    assert "API version: 2" in version.out
    assert helped.code == 0 and "list" in helped.out and "remove" in helped.out
    # The flag wins over the environment.
    unused = f"http://127.0.0.1:{free_port()}"
    assert cli("get", key, endpoint=url, env={"ETCDCTL_ENDPOINTS": unused}) == Ran(
        0, "via env\n", ""
    )


def test_timeouts_and_failover_between_endpoints(url: str, prefix: str) -> None:
    key = f"{prefix}/failover"
    dead = f"http://127.0.0.1:{free_port()}"
    # A socket that accepts connections (the kernel does, into the backlog) and never answers.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mute = f"http://127.0.0.1:{silent.getsockname()[1]}"
        per_request, whole, failover, no_sync = together(
            lambda: cli("--timeout", "500ms", "get", key, endpoint=mute),
            lambda: cli("--timeout", "30", "--total-timeout", "0.5", "get", key, endpoint=mute),
            lambda: cli("set", key, "v", endpoint=f"{dead},{url}"),
            lambda: cli("--no-sync", "get", "/", endpoint=f"{dead},{url}"),
        )
    for ran in (per_request, whole):
        assert ran.code == EXIT_BAD_CONNECTION and ran.err.count("\n") == 1, ran
    assert per_request.err.startswith("Error:  client: etcd cluster is unavailable")
    assert whole.err == (
        "Error:  context deadline exceeded: get took longer than --total-timeout 0.5s\n"
    )
    assert failover == Ran(0, "v\n", "")
    assert no_sync == Ran(EXIT_BAD_ARGS, "", "/: is a directory\n")


def test_watch_after_an_index_and_recursively(url: str, prefix: str) -> None:
    key = f"{prefix}/watched"
    first = cli("-o", "extended", "set", key, "one", endpoint=url)
    second = cli("-o", "extended", "set", key, "two", endpoint=url)
    removed = cli("-o", "extended", "rm", key, endpoint=url)
    one, two, gone = index_of(first), index_of(second), index_of(removed)

    after_one, after_two, tree, as_json = together(
        lambda: cli("watch", key, "--after-index", str(one), endpoint=url),
        lambda: cli("watch", key, "--after-index", str(two), endpoint=url),
        lambda: cli("watch", "-r", prefix, "--after-index", str(one - 1), endpoint=url),
        lambda: cli("-o", "json", "watch", key, "--after-index", str(one), endpoint=url),
    )
    assert after_one == Ran(0, "two\n", "")  # the first change after the index, then exit
    assert after_two == Ran(0, "PrevNode.Value: two\n", "")  # a deletion
    assert tree == Ran(0, f"[set] {key}\none\n", "")
    event = as_json.json()
    node = event["node"]
    assert isinstance(node, dict)
    assert event["action"] == "set" and node["modifiedIndex"] == two

    # --forever goes on until Ctrl-C, which ends it with status 0, as etcdctl's does.
    watching = Running(
        "watch", "--forever", "-r", prefix, "--after-index", str(one - 1), endpoint=url
    )
    try:
        lines = watching.lines(6)
        assert lines == [
            f"[set] {key}",
            "one",
            f"[set] {key}",
            "two",
            f"[delete] {key}",
            "PrevNode.Value: two",
        ]
        assert cli("set", f"{prefix}/later", "live", endpoint=url).code == 0
        assert watching.lines(2) == [f"[set] {prefix}/later", "live"]
        assert gone < index_of(cli("-o", "extended", "get", f"{prefix}/later", endpoint=url))
        assert watching.stop(signal.SIGINT) == Ran(0, "", "")
    finally:
        watching.kill()


def test_exec_watch_runs_the_command_for_each_change(url: str, prefix: str) -> None:
    key = f"{prefix}/exec"
    start = index_of(cli("-o", "extended", "set", f"{prefix}/before", "x", endpoint=url))
    show = (
        "import os; "
        "print(*(os.environ[n] for n in sorted(os.environ) if n.startswith('ETCD_WATCH_')))"
    )
    watching = Running(
        "exec-watch",
        "--after-index",
        str(start),
        key,
        "--",
        sys.executable,
        "-c",
        show,
        endpoint=url,
    )
    try:
        written = cli("-o", "json", "set", key, "new value", endpoint=url).json()
        node = written["node"]
        assert isinstance(node, dict)
        index = node["modifiedIndex"]
        assert cli("rm", key, endpoint=url).code == 0
        # ACTION, KEY, MODIFIED_INDEX, VALUE (sorted by name)
        assert watching.lines(2) == [f"set {key} {index} new value", f"delete {key} {index + 1} "]
        ended = watching.stop(signal.SIGINT)
        assert ended.code == 0 and "Traceback" not in ended.err
    finally:
        watching.kill()

    no_command, not_found = together(
        lambda: cli("exec-watch", key, endpoint=url),
        lambda: cli(
            "exec-watch",
            "--after-index",
            str(start),
            key,
            "--",
            "no-such-command-here",
            endpoint=url,
        ),
    )
    assert no_command == Ran(EXIT_BAD_ARGS, "", "Error:  key and command to exec required\n")
    assert not_found.code == 127 and "no-such-command-here" in not_found.err


def test_lock_runs_the_command_and_exits_with_its_code(url: str) -> None:
    name = f"cli-{uuid.uuid4().hex}"
    check = (
        "import os, sys; key = os.environ['ETCD_LOCK_KEY']; "
        f"assert key.startswith('/_locks/{name}/'), key; "
        "print('held', key, os.environ['ETCD_LOCK_REV']); sys.exit(7)"
    )
    held = cli("lock", name, "--", sys.executable, "-c", check, endpoint=url)
    assert held.code == 7, held
    _, key, revision = held.out.split()
    assert key.endswith(f"/{int(revision):020d}")
    assert lock_keys(url, name) == []  # released

    # Another command waits until the holder is done; SIGTERM ends the holder's command
    # and the holder goes with it, releasing the lock.
    holder = Running(
        "lock",
        "--ttl",
        "5",
        name,
        "--",
        sys.executable,
        "-c",
        "import time; print('holding', flush=True); time.sleep(60)",
        endpoint=url,
    )
    waiter = None
    try:
        assert holder.lines(1) == ["holding"]
        waiter = Running("lock", name, "--", sys.executable, "-c", "print('second')", endpoint=url)
        wait_for_contenders(url, name, 2)
        assert waiter.process.poll() is None
        assert holder.stop(signal.SIGTERM) == Ran(128 + signal.SIGTERM, "", "")
        assert waiter.wait() == Ran(0, "second\n", "")
    finally:
        holder.kill()
        if waiter is not None:
            waiter.kill()
    assert lock_keys(url, name) == []

    missing, bad_name = together(
        lambda: cli("lock", name, "--", "no-such-command-here", endpoint=url),
        lambda: cli("lock", "a//b", "true", endpoint=url),
    )
    assert missing.code == 127 and "not found" in missing.err
    assert bad_name.code == EXIT_BAD_ARGS and "lock_name" in bad_name.err


def test_ctrl_c_while_waiting_for_a_lock_exits_130_quietly(url: str) -> None:
    name = f"cli-{uuid.uuid4().hex}"
    holder = Running("lock", name, endpoint=url)  # no command: holds until a signal
    waiter = None
    try:
        (key,) = holder.lines(1)
        assert key.startswith(f"/_locks/{name}/")
        waiter = Running("lock", name, "--", "true", endpoint=url)
        wait_for_contenders(url, name, 2)
        assert waiter.stop(signal.SIGINT) == Ran(130, "", "")
        assert lock_keys(url, name) == [key]  # the waiter's key is gone
        assert holder.stop(signal.SIGINT) == Ran(0, "", "")
    finally:
        holder.kill()
        if waiter is not None:
            waiter.kill()
    assert lock_keys(url, name) == []


def test_durations_take_seconds_and_go_units() -> None:
    assert duration("2") == 2.0
    assert duration("2.5") == 2.5
    assert duration("500ms") == 0.5
    assert duration("1m30s") == 90.0
    for bad in ("0", "-1", "soon", "5 s", "1x", "inf"):
        with pytest.raises(Exception, match="invalid duration"):
            duration(bad)


def test_every_failure_maps_to_one_exit_code() -> None:
    import aio_etcd as etcd
    from aio_etcd.models import ErrorPayload

    not_found = ErrorPayload(error_code=100, message="Key not found", cause="/a", index=7)
    denied = ErrorPayload(message="Insufficient credentials")
    cases: Sequence[tuple[BaseException, str, int, str]] = [
        (etcd.EtcdKeyNotFound("x", not_found), "keys", 4, "Error:  100: Key not found (/a) [7]"),
        (etcd.EtcdKeyNotFound("gone", not_found), "admin", EXIT_BAD_ARGS, "gone"),
        (etcd.EtcdInsufficientPermissions("denied", denied), "admin", EXIT_BAD_AUTH, "denied"),
        (etcd.EtcdInsufficientPermissions("no"), "keys", EXIT_BAD_AUTH, "Error:  no"),
        (etcd.EtcdValueError("bad ttl"), "keys", EXIT_BAD_ARGS, "Error:  bad ttl"),
        (etcd.EtcdOutcomeUnknown("may have"), "keys", EXIT_BAD_CONNECTION, "Error:  may have"),
        (
            etcd.EtcdTimedOut("slow"),
            "admin",
            EXIT_BAD_CONNECTION,
            "Error:  client: etcd cluster is unavailable or misconfigured; slow",
        ),
        (etcd.EtcdDiscoveryFailed("no SRV"), "keys", EXIT_BAD_ARGS, "Error:  no SRV"),
        (etcd.EtcdUnexpectedResponse("odd\nreply"), "keys", EXIT_SERVER_ERROR, "Error:  odd reply"),
        (RuntimeError("bug"), "keys", EXIT_BAD_ARGS, "Error:  RuntimeError: bug"),
    ]
    for exc, style, code, text in cases:
        assert report(exc, style=style) == (code, text), exc  # type: ignore[arg-type]
