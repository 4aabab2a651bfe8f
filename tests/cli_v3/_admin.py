"""What the comparisons of the administration commands share: normalisers of what differs
between two runs of one command (each named for what it hides), a comparison whose arguments
come from each side's own setup, and calls that set up members and alarms.

- ``timings``: Go durations (``took = 3.29ms``), which no two runs share.
- ``db_sizes``: a database's size in bytes, and as ``20 kB``; a defragmentation or a
  compaction between the runs changes it.
- ``raft_indexes``: a member's raft index and applied index, which every write moves.
- ``column_widths``: the widths of a table's columns and rules, which follow the values the
  normalisers above hide.
- ``member_ids(keep)``: the ids of members added during the case (in hex, padded or not, and
  in decimal), except those in ``keep``.
- ``member_order``: the order of the members in a reply and in ``ETCD_INITIAL_CLUSTER``,
  which etcd sorts by id, and ids of new members are random.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence

from tests.cli_v3 import _compare
from tests.cli_v3._compare import Gateway, Normaliser, Run

_DURATION = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:ns|µs|ms|s)(?![\w])")


def timings(text: str, ran: Run) -> str:
    return _DURATION.sub("DURATION", text)


_SIZES = re.compile(
    r'("(?:dbSize|dbSizeInUse|DBSize)"\s?:\s?)\d+|(?<![\w.])\d+(?:\.\d)? (?:B|kB|MB|GB)(?!\w)'
)


def db_sizes(text: str, ran: Run) -> str:
    return _SIZES.sub(lambda m: (m.group(1) or "") + "SIZE", text)


_INDEXES = re.compile(r'("(?:raftIndex|raftAppliedIndex|RaftIndex|RaftAppliedIndex)"\s?:\s?)\d+')


def raft_indexes(text: str, ran: Run) -> str:
    text = _INDEXES.sub(lambda m: m.group(1) + "INDEX", text)
    lines = []
    for line in text.splitlines(keepends=True):
        # An endpoint's row: 10 cells, the 8th and 9th are the raft index and applied index.
        separator = "|" if line.startswith("|") else ", "
        cells = line.split(separator)
        offset = 1 if separator == "|" else 0
        if len(cells) == 10 + 2 * offset and cells[6 + offset].strip().isdigit():
            for index in (7 + offset, 8 + offset):
                cells[index] = re.sub(r"\d+", "INDEX", cells[index])
            line = separator.join(cells)
        lines.append(line)
    return "".join(lines)


def column_widths(text: str, ran: Run) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r" {2,}", " ", text))


def member_ids(keep: Sequence[int]) -> Normaliser:
    kept = {f"{number:x}" for number in keep} | {str(number) for number in keep}

    def member_ids(text: str, ran: Run) -> str:
        def named(match: re.Match[str]) -> str:
            if match.group(2) in kept:
                return match.group(0)
            # "Member %16x": the padding follows the id's length.
            return ("Member " if match.group(1).startswith("Member") else match.group(1)) + "MEMBER"

        text = re.sub(r'("ID"\s?:\s?)(\d+)', named, text)
        return re.sub(r"(Member\s+)([0-9a-f]{1,16})(?= )", named, text)

    return member_ids


def member_order(text: str, ran: Run) -> str:
    def cluster(match: re.Match[str]) -> str:
        return match.group(1) + ",".join(sorted(match.group(2).split(","))) + '"'

    text = re.sub(r'(ETCD_INITIAL_CLUSTER=")([^"]*)"', cluster, text)
    lines = []
    for line in text.splitlines(keepends=True):
        if line.startswith("{") and '"members"' in line:
            document = json.loads(line.replace(":MEMBER", ':"MEMBER"'))
            document["members"].sort(key=lambda member: json.dumps(member, sort_keys=True))
            line = json.dumps(document, separators=(",", ":")) + "\n"
        lines.append(line)
    return "".join(lines)


def compare_each(
    url: str,
    args_of: Callable[[Gateway], Sequence[str]],
    *,
    normalise: Sequence[Normaliser] = (),
    retry_while: str | None = None,
    same: bool = True,
) -> tuple[Run, Run]:
    """Like :func:`~tests.cli_v3._compare.compare`, where each side's arguments come from
    its own setup (``args_of``), e.g. the id of a member the setup added. A run whose stderr
    says ``retry_while`` (a state the server leaves by itself) is repeated, for a while.
    With ``same=False`` the two runs are returned for the caller to check, not compared."""
    endpoint = url.removeprefix("http://")
    sides = []
    for runner in (_compare.etcdctl, _compare.aio):
        args = args_of(Gateway(url))
        deadline = time.monotonic() + 10
        ran = runner(endpoint, *args)
        while retry_while and retry_while in ran.err and time.monotonic() < deadline:
            time.sleep(0.2)
            ran = runner(endpoint, *args)
        sides.append(ran)
    theirs, ours = sides
    if not same:
        return theirs, ours
    for side in sides:
        for normaliser in normalise:
            side.out = normaliser(side.out, side)
            side.err = normaliser(side.err, side)
    assert (ours.out, ours.first_err, ours.code) == (theirs.out, theirs.first_err, theirs.code), (
        f"etcdctl: code {theirs.code}, stderr {theirs.first_err!r}, stdout {theirs.out!r}\n"
        f"aio-etcd: code {ours.code}, stderr {ours.first_err!r}, stdout {ours.out!r}"
    )
    return theirs, ours


def members(gateway: Gateway) -> list[dict[str, object]]:
    reply = gateway.call("cluster/member/list", {})
    found = reply.get("members", [])
    assert isinstance(found, list)
    return found


def remove_unstarted(gateway: Gateway) -> None:
    """Remove the members that were added and never started.

    Then wait for the next second: etcd derives a new member's id from its peer URLs and
    the time in seconds, so the same URLs added again within the second get the id just
    removed, which etcd refuses to reuse (the request hangs, then "member not found")."""
    settle(gateway)
    removed = False
    for member in members(gateway):
        if not member.get("name"):
            gateway.call("cluster/member/remove", {"ID": member["ID"]})
            removed = True
    if removed:
        time.sleep(1 - time.time() % 1 + 0.01)
        settle(gateway)


def settle(gateway: Gateway) -> None:
    """Let a change of membership settle before the next one. raft drops a change proposed
    while the one before is not applied yet, and etcd then waits for it until its request
    timeout (5 s) and fails: seen here when one came within milliseconds of the other."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status = gateway.call("maintenance/status", {})
        if status.get("raftIndex") == status.get("raftAppliedIndex"):
            break
        time.sleep(0.05)
    time.sleep(0.2)


def add_learner(gateway: Gateway, peer_url: str) -> int:
    reply = gateway.call("cluster/member/add", {"peerURLs": [peer_url], "isLearner": True})
    member = reply["member"]
    assert isinstance(member, dict)
    settle(gateway)
    return int(member["ID"])


def alarm(gateway: Gateway, action: str, member_id: int, kind: str = "NOSPACE") -> None:
    gateway.call("maintenance/alarm", {"action": action, "memberID": member_id, "alarm": kind})
