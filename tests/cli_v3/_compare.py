"""Run a command line with etcdctl 3.5.1 and with ``aio-etcd``, on the same state, and
compare what they print.

A case runs ``etcdctl`` first, then resets the keys it uses (``setup`` writes them again
after deleting ``prefix``), then ``aio-etcd`` with the same arguments; stdout, the first line
of stderr and the exit code must be equal once the normalisers named in the case are applied
to both sides. Normalisers hide only what cannot be the same in two runs:

- ``revisions``: every revision in the output (header and key revisions, in JSON and the
  fields format) becomes ``R+n``, ``n`` counted from the revision before the case's setup;
  the setup writes the same keys in the same order on both sides, so the numbers agree.
- ``lease_ids``: lease ids (hex in simple output, decimal in JSON and fields) become
  ``LEASE1``, ``LEASE2``... in order of first appearance.
- ``ttls``: a lease's remaining TTL, which counts down between runs.
- ``program_name``: ``aio-etcd`` in a message where etcdctl says ``etcdctl``.

Always applied, to etcdctl's stderr only: ``client_log``, the JSON log lines of etcdctl's
gRPC client (``{"level":"warn",...}``), which precede its one ``Error:`` line.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
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
    return run([*AIO, f"--endpoints={endpoint}", *args], input=input, env=env)


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
        return f"{match.group(1)}R{int(match.group(2)) - ran.base:+d}"

    return _REVISION.sub(relative, text)


_LEASE = re.compile(
    r'(?<![0-9a-f])([0-9a-f]{16})(?![0-9a-f])|("(?:ID|lease|Lease|PrevLease)"\s?:\s?)(\d{6,})'
)


def lease_ids(text: str, ran: Run) -> str:
    def named(match: re.Match[str]) -> str:
        number = int(match.group(1), 16) if match.group(1) else int(match.group(3))
        name = ran.leases.setdefault(str(number), f"LEASE{len(ran.leases) + 1}")
        return (match.group(2) or "") + name

    return _LEASE.sub(named, text)


_TTL = re.compile(r'("?(?:TTL|ttl)"?\s?[:(]\s?|remaining\()(-?\d+)')


def ttls(text: str, ran: Run) -> str:
    return _TTL.sub(lambda m: m.group(1) + "TTL", text)


def program_name(text: str, ran: Run) -> str:
    return text.replace('"aio-etcd"', '"etcdctl"')


@dataclass
class Outcome:
    etcdctl: Run
    aio: Run


def compare(
    url: str,
    *args: str,
    setup: Callable[[Gateway], None] | None = None,
    reset: str | None = None,
    normalise: Sequence[Normaliser] = (),
    input: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """Run ``args`` with etcdctl, then with aio-etcd against ``url``; before each run,
    delete the keys under ``reset`` and run ``setup``. Fails the test on any difference."""
    gateway = Gateway(url)
    endpoint = url.removeprefix("http://")
    sides = []
    for runner in (etcdctl, aio):
        if reset:
            gateway.delete_prefix(reset)
        base = gateway.revision()
        if setup is not None:
            setup(gateway)
        ran = runner(endpoint, *args, input=input, env=env)
        ran.base = base
        sides.append(ran)
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
    return Outcome(theirs, ours)
