"""``watch`` compared with etcdctl 3.5.1's.

A watch runs until interrupted, so each side first writes its history, then watches from the
revision before it (``--rev``): etcd replays the same messages to both. The history ends with
a sentinel value; once it is printed (``marks`` times: twice when a command echoes it too)
the watch gets SIGINT and everything it printed is compared.

etcdctl has no SIGINT handler: it dies of the signal (status -2 to Python), where aio-etcd
exits 130 as a shell reports that death (``ctrl_c_status`` normalises the one to the other).
"""

from __future__ import annotations

import base64
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence

import pytest

from tests.cli_v3._compare import (
    AIO,
    Gateway,
    Run,
    compare,
    environment,
    fill,
    revisions,
    usage,
)
from tests.v3._etcdctl import tool

pytestmark = pytest.mark.etcdctl

END = "END-OF-HISTORY"
MARKS = (END.encode(), base64.b64encode(END.encode()))


def history(gateway: Gateway, prefix: str) -> None:
    gateway.put(f"{prefix}a", "1")
    gateway.put(f"{prefix}b", "2")
    gateway.put(f"{prefix}a", "one\ttab")
    gateway.call(
        "kv/deleterange",
        {"key": _b64(f"{prefix}a"), "range_end": _b64(f"{prefix}c"), "prev_kv": True},
    )  # one message with two DELETE events
    gateway.put(f"{prefix}z", END)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def ctrl_c_status(code: int) -> int:
    return 130 if code == -signal.SIGINT else code


def watch_side(
    program: Sequence[str],
    url: str,
    prefix: str,
    args: Sequence[str],
    *,
    marks: int,
    env: Mapping[str, str] | None = None,
) -> Run:
    gateway = Gateway(url)
    gateway.delete_prefix(prefix)
    base = gateway.revision()
    history(gateway, prefix)
    values = {"p": prefix, "rev": base + 1}
    argv = [fill(arg, values) for arg in args]
    process = subprocess.Popen(
        [*program, f"--endpoints={url}", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment({k: fill(v, values) for k, v in (env or {}).items()}),
    )
    assert process.stdout is not None
    timer = threading.Timer(30, process.kill)
    timer.start()
    lines: list[bytes] = []
    try:
        seen = 0
        while seen < marks:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            seen += any(mark in line for mark in MARKS)
        if seen == marks and lines[-1].startswith(b'"Value"'):
            lines.append(process.stdout.readline())  # the fields format's "Lease" line
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        rest, err = process.communicate()
    finally:
        timer.cancel()
    ran = Run(
        ctrl_c_status(process.returncode),
        (b"".join(lines) + rest).decode(errors="backslashreplace"),
        err.decode(errors="backslashreplace"),
    )
    ran.base = base
    ran.out = revisions(ran.out, ran)
    return ran


def compare_watch(
    url: str,
    prefix: str,
    args: Sequence[str],
    *,
    marks: int = 1,
    env: Mapping[str, str] | None = None,
) -> Run:
    theirs = watch_side([str(tool("etcdctl"))], url, prefix, args, marks=marks, env=env)
    ours = watch_side(AIO, url, prefix, args, marks=marks, env=env)
    assert (ours.out, ours.first_err, ours.code) == (theirs.out, theirs.first_err, theirs.code), (
        f"watch {' '.join(args)}\n  etcdctl: {theirs}\n  aio-etcd: {ours}"
    )
    return theirs


@pytest.mark.parametrize("write_out", ["simple", "json", "fields"])
@pytest.mark.parametrize(
    "case",
    [
        ["watch", "--rev={rev}", "--prefix", "{p}"],
        ["watch", "--rev={rev}", "--prefix", "--prev-kv", "{p}"],
        ["watch", "--rev={rev}", "--prev-kv", "{p}a", "{p}zz"],
    ],
    ids=["prefix", "prefix, previous values", "range"],
)
def test_watch(url: str, prefix: str, case: list[str], write_out: str) -> None:
    theirs = compare_watch(url, prefix, [*case, "-w", write_out])
    assert theirs.code == 130


def test_watch_hex(url: str, prefix: str) -> None:
    compare_watch(url, prefix, ["watch", "--hex", "--rev={rev}", "--prefix", "{p}"])


def test_watch_runs_a_command_per_event(url: str, prefix: str) -> None:
    """``ETCD_WATCH_*`` as etcdctl sets them: the event type, key and value Go-quoted."""
    script = (
        'echo "\\"revision\\":$ETCD_WATCH_REVISION $ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY '
        '$ETCD_WATCH_VALUE"'
    )
    args = ["watch", "--rev={rev}", "--prefix", "{p}", "--", "sh", "-c", script]
    theirs = compare_watch(url, prefix, args, marks=2)
    assert '"DELETE"' in theirs.out


def test_watch_ends_when_its_command_fails(url: str, prefix: str) -> None:
    args = ["watch", "--rev={rev}", "--prefix", "{p}", "--", "sh", "-c", "exit 3"]
    theirs = compare_watch(url, prefix, args, marks=99)
    assert theirs.code == 1
    assert theirs.first_err == 'command ["sh" "-c" "exit 3"] error (exit status 3)'


def test_watch_key_from_the_environment(url: str, prefix: str) -> None:
    env = {"ETCDCTL_WATCH_KEY": "{p}a", "ETCDCTL_WATCH_RANGE_END": "{p}zz"}
    compare_watch(url, prefix, ["watch", "--rev={rev}"], env=env)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["watch"], {}),
        (["watch", "--prefix", "{p}a", "{p}b"], {}),
        (["watch", "{p}a", "--"], {}),
        (["watch", "--", "echo"], {}),
        (["watch", "{p}a"], {"ETCDCTL_WATCH_KEY": "{p}b"}),
        (["watch"], {"ETCDCTL_WATCH_RANGE_END": "{p}b"}),
        (["watch", "--rev", "x", "{p}a"], {}),
    ],
    ids=[
        "no key",
        "prefix and range end",
        "separator without a command",
        "command without a key",
        "key given twice",
        "range end without a key",
        "bad revision",
    ],
)
def test_watch_errors(url: str, prefix: str, args: list[str], env: dict[str, str]) -> None:
    filled = {k: fill(v, {"p": prefix}) for k, v in env.items()}
    compare(url, *(fill(a, {"p": prefix}) for a in args), env=filled, normalise=[usage])


def interactive_side(program: Sequence[str], url: str, prefix: str) -> Run:
    """``watch -i``: one watch requested on standard input, its history printed, then
    standard input closed, which ends the command (exit 3)."""
    gateway = Gateway(url)
    gateway.delete_prefix(prefix)
    base = gateway.revision()
    history(gateway, prefix)
    process = subprocess.Popen(
        [*program, f"--endpoints={url}", "watch", "-i"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment(),
    )
    assert process.stdin is not None and process.stdout is not None
    timer = threading.Timer(30, process.kill)
    timer.start()
    try:
        process.stdin.write(f"bogus\nwatch --rev={base + 1} --prefix {prefix}\n".encode())
        process.stdin.flush()
        lines: list[bytes] = []
        while not lines or END.encode() not in lines[-1]:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        process.stdin.close()
        rest, err = process.stdout.read(), process.stderr.read() if process.stderr else b""
        process.wait()
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()
    finally:
        timer.cancel()
    ran = Run(process.returncode, (b"".join(lines) + rest).decode(), err.decode())
    ran.base = base
    ran.out = revisions(ran.out, ran)
    return ran


def test_watch_interactive(url: str, prefix: str) -> None:
    theirs = interactive_side([str(tool("etcdctl"))], url, prefix)
    ours = interactive_side(AIO, url, prefix)
    assert (ours.code, ours.out, ours.err) == (theirs.code, theirs.out, theirs.err)
    assert theirs.code == 3
    assert theirs.err.splitlines() == [
        "Invalid command bogus (only support watch)",
        "Error: error reading watch request line: EOF",
    ]
