"""Run a command line with etcdctl 3.5.1 and with ``aio-etcd``, on the same state, and
compare what they print.

A case runs ``etcdctl`` first, then resets the keys it uses (``setup`` writes them again
after deleting ``prefix``), then ``aio-etcd`` with the same arguments; stdout, the first line
of stderr and the exit code must be equal once the normalisers named in the case are applied
to both sides. Normalisers hide only what cannot be the same in two runs:

- ``revisions``: every revision in the output (header and key revisions, in JSON and the
  fields format) becomes ``R+n``, ``n`` counted from the revision before the case's setup;
  the setup writes the same keys in the same order on both sides, so the numbers agree
  (0, no revision, stays 0).
- ``lease_ids``: lease ids (13 to 16 hex digits in simple output and lock keys, decimal in
  JSON and fields) become
  ``LEASE1``, ``LEASE2``... in order of first appearance.
- ``ttls``: the seconds a lease has left (``lease timetolive``), which count down between
  the runs.
- ``program_name``: ``aio-etcd`` in a message where etcdctl says ``etcdctl``.
- ``usage``: the help text etcdctl prints on stdout after a flag error (aio-etcd prints
  the one error line).

Always applied, to etcdctl's stderr only: ``client_log``, the JSON log lines of etcdctl's
gRPC client (``{"level":"warn",...}``), which precede its one ``Error:`` line.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.v3._etcdctl import tool

AIO = (sys.executable, "-m", "aio_etcd")
Normaliser = Callable[[str, "Run"], str]


@dataclass
class Run:
    """One side's run: what it printed and how it ended, and what normalisers need."""

    code: int
    out: str
    err: str
    base: int = 0
    """The store's revision before the setup."""
    leases: dict[str, str] = field(default_factory=dict)

    @property
    def first_err(self) -> str:
        return self.err.splitlines()[0] if self.err else ""


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Ours without any ETCDCTL_* of the person running the tests."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ETCDCTL_")}
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str], *, input: str | None = None, env: Mapping[str, str] | None = None
) -> Run:
    done = subprocess.run(
        list(argv),
        input=(input or "").encode(),
        capture_output=True,
        timeout=60,
        env=environment(env),
        check=False,
    )
    return Run(
        done.returncode,
        done.stdout.decode(errors="backslashreplace"),
        done.stderr.decode(errors="backslashreplace"),
    )


def etcdctl(
    endpoint: str, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
) -> Run:
    ran = run([str(tool("etcdctl")), f"--endpoints={endpoint}", *args], input=input, env=env)
    ran.err = client_log(ran.err)
    return ran


def aio(
    endpoint: str, *args: str, input: str | None = None, env: Mapping[str, str] | None = None
) -> Run:
    argv = [f"--endpoints={endpoint}", *args]
    if forks.path is None:
        return run([*AIO, *argv], input=input, env=env)
    return forks.run(argv, input=input, env=environment(env))


class Forks:
    """The client of ``tests/cli_v3/_forkserver.py``, when one runs (see conftest)."""

    def __init__(self) -> None:
        self.path: str | None = None
        self.directory = ""

    def run(self, argv: list[str], *, input: str | None, env: Mapping[str, str]) -> Run:
        assert self.path is not None
        files = {name: os.path.join(self.directory, name) for name in ("in", "out", "err")}
        with open(files["in"], "wb") as stdin:
            stdin.write((input or "").encode())
        request = {
            "argv": argv,
            "env": dict(env),
            "stdin": files["in"],
            "stdout": files["out"],
            "stderr": files["err"],
        }
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(60)
            connection.connect(self.path)
            connection.sendall(json.dumps(request).encode())
            connection.shutdown(socket.SHUT_WR)
            answer = b""
            while chunk := connection.recv(64):
                answer += chunk
        with open(files["out"], "rb") as out, open(files["err"], "rb") as err:
            return Run(
                int(answer),
                out.read().decode(errors="backslashreplace"),
                err.read().decode(errors="backslashreplace"),
            )


forks = Forks()


def client_log(err: str) -> str:
    return "".join(
        line for line in err.splitlines(keepends=True) if not line.startswith('{"level":')
    )


class Gateway:
    """Plain calls to etcd's JSON gateway, to set the state up (no client under test)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, path: str, body: dict[str, object]) -> Any:
        request = urllib.request.Request(
            f"{self.url}/v3/{path}", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.load(reply)

    def put(self, key: str, value: str = "", lease: int = 0) -> int:
        """Put; the new revision."""
        reply = self.call("kv/put", {"key": _b64(key), "value": _b64(value), "lease": lease})
        return int(reply["header"]["revision"])

    def delete_prefix(self, prefix: str) -> None:
        self.call("kv/deleterange", {"key": _b64(prefix), "range_end": _b64(_end(prefix))})

    def dump(self, prefix: str) -> list[tuple[str, str, int, bool]]:
        """Each key under ``prefix``: its value, version and whether it has a lease."""
        reply = self.call("kv/range", {"key": _b64(prefix), "range_end": _b64(_end(prefix))})
        return [
            (
                base64.b64decode(kv["key"]).decode(),
                base64.b64decode(kv.get("value", "")).decode(),
                int(kv.get("version", 0)),
                bool(int(kv.get("lease", 0))),
            )
            for kv in reply.get("kvs", [])
        ]

    def revision(self) -> int:
        reply = self.call("kv/range", {"key": _b64("\0"), "count_only": True, "limit": 1})
        return int(reply["header"]["revision"])

    def grant(self, ttl: int) -> int:
        return int(self.call("lease/grant", {"TTL": ttl})["ID"])

    def revoke(self, lease: int) -> None:
        self.call("lease/revoke", {"ID": lease})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _end(prefix: str) -> str:
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


# Normalisers


_REVISION = re.compile(
    r'("(?:revision|create_revision|mod_revision|compact_revision|'
    r'(?:Prev)?(?:Create|Mod)?Revision|CompactRevision)"\s?:\s?)(\d+)'
)


def revisions(text: str, ran: Run) -> str:
    def relative(match: re.Match[str]) -> str:
        number = int(match.group(2))
        if number == 0:  # no revision (a deleted key's, no compaction): the same on both
            return match.group(0)
        return f"{match.group(1)}R{number - ran.base:+d}"

    return _REVISION.sub(relative, text)


_LEASE = re.compile(
    r'(?<![0-9a-f])([0-9a-f]{13,16})(?![0-9a-f])|("(?:ID|id|lease|Lease|PrevLease)"\s?:\s?)(\d{6,})'
)


def lease_ids(text: str, ran: Run) -> str:
    def named(match: re.Match[str]) -> str:
        number = int(match.group(1), 16) if match.group(1) else int(match.group(3))
        name = ran.leases.setdefault(str(number), f"LEASE{len(ran.leases) + 1}")
        return (match.group(2) or "") + name

    return _LEASE.sub(named, text)


_TTL = re.compile(r'(remaining\(|"ttl":|"TTL" : )(\d+)')


def ttls(text: str, ran: Run) -> str:
    return _TTL.sub(lambda m: m.group(1) + "TTL", text)


def usage(text: str, ran: Run) -> str:
    """etcdctl's help text, which it prints on standard output after a flag error, or on
    standard error before the error of a bad flag in a ``txn`` request (aio-etcd prints
    the one error line)."""
    if text.startswith("NAME:\n"):
        return ""
    if text.startswith("Usage:\n"):
        return text[text.find("\nError:") + 1 :] if "\nError:" in text else ""
    return text


def program_name(text: str, ran: Run) -> str:
    return text.replace('"aio-etcd"', '"etcdctl"')


@dataclass
class Outcome:
    etcdctl: Run
    aio: Run


Setup = Callable[[Gateway], "Mapping[str, object] | None"]


def fill(text: str, values: Mapping[str, object]) -> str:
    """``text`` with each ``{name}`` of ``values`` replaced (other braces kept)."""
    for name, value in values.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def compare(
    url: str,
    *args: str,
    setup: Setup | None = None,
    reset: str | None = None,
    normalise: Sequence[Normaliser] = (),
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    state: str | None = None,
) -> Outcome:
    """Run ``args`` with etcdctl, then with aio-etcd against ``url``, and fail the test on
    any difference.

    Before each run the keys under ``reset`` are deleted and ``setup`` runs; what it returns
    fills ``{name}`` in ``args`` and ``input`` (``{base}`` is the revision before the setup).
    With ``state``, the keys under that prefix after each run must be the same too.
    """
    gateway = Gateway(url)
    endpoint = url.removeprefix("http://")
    sides = []
    states = []
    for runner in (etcdctl, aio):
        if reset:
            gateway.delete_prefix(reset)
        base = gateway.revision()
        values: dict[str, object] = {"base": base}
        if setup is not None:
            values.update(setup(gateway) or {})
        argv = [fill(arg, values) for arg in args]
        text = None if input is None else fill(input, values)
        ran = runner(endpoint, *argv, input=text, env=env)
        ran.base = base
        sides.append(ran)
        if state is not None:
            states.append(gateway.dump(state))
    theirs, ours = sides
    for side in sides:
        for normaliser in normalise:
            side.out = normaliser(side.out, side)
            side.err = normaliser(side.err, side)
    command = " ".join(args)
    assert (ours.out, ours.first_err, ours.code) == (theirs.out, theirs.first_err, theirs.code), (
        f"aio-etcd {command}\n  etcdctl: code {theirs.code}, stderr {theirs.first_err!r}, "
        f"stdout {theirs.out!r}\n  aio-etcd: code {ours.code}, stderr {ours.first_err!r}, "
        f"stdout {ours.out!r}"
    )
    if state is not None:
        assert states[1] == states[0], f"aio-etcd {command} left {states[1]}, etcdctl {states[0]}"
    return Outcome(theirs, ours)


class Started:
    """A command line left running (a lock holder, a campaign, an observer), read line by
    line; ``program`` is etcdctl's path or :data:`AIO`."""

    def __init__(self, program: Sequence[str], url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [*program, f"--endpoints={url}", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment(),
        )
        self._lines: queue.Queue[bytes] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(b"")

    def lines(self, count: int, timeout: float = 30) -> list[str]:
        """The next ``count`` lines (without their newline); fails after ``timeout`` s."""
        read: list[str] = []
        for _ in range(count):
            line = self._lines.get(timeout=timeout)
            assert line, (
                f"ended after {read}: {self.process.stderr and self.process.stderr.read()!r}"
            )
            read.append(line.decode().removesuffix("\n"))
        return read

    def quiet(self, seconds: float) -> bool:
        """Whether nothing is printed for ``seconds``."""
        try:
            line = self._lines.get(timeout=seconds)
        except queue.Empty:
            return True
        self._lines.put(line)
        return False

    def stop(self, signum: int = signal.SIGINT, timeout: float = 30) -> Run:
        """Send ``signum``; what it printed after the lines read, and how it ended."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.wait(timeout)

    def wait(self, timeout: float = 30) -> Run:
        code = self.process.wait(timeout)
        rest = []
        while (line := self._lines.get(timeout=timeout)) != b"":
            rest.append(line)
        assert self.process.stderr is not None
        err = client_log(self.process.stderr.read().decode(errors="backslashreplace"))
        self._close()
        return Run(code, b"".join(rest).decode(errors="backslashreplace"), err)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close()

    def _close(self) -> None:
        self._reader.join(10)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
