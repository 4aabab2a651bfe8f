"""Copying a v2 store into v3 keys, and keeping the copy in step (``aio-etcd migrate``).

etcd keeps its v2 and v3 stores apart, and etcd 3.6 no longer serves v2 (etcd's
``etcdctl migrate`` went away in 3.5). This module reads a v2 tree with
:class:`~aio_etcd.Client` and writes it with :class:`~aio_etcd.Etcd3Client` in the layout
``Client(api="v3")`` reads:

- a v2 path is the same v3 key (UTF-8): ``/config/level`` is ``/config/level`` for etcdctl;
- every v2 directory ``D`` gets its marker key ``D/`` with an empty value, so a directory
  outlives its last child as in v2;
- a key with a TTL gets a lease of its own, granted with the seconds it has left; a key
  below a directory with a TTL gets the directory's seconds when they are fewer (v2
  deletes the directory and everything in it when it expires);
- values are the same text, as UTF-8.

Hidden names (a segment starting with ``_``) are not copied unless named: etcd's v2
listings never show them (``v2store`` ``node.Repr``), so they cannot be found. Copy a
hidden tree by giving it as the prefix (``prefix="/_config"``). Below the prefix, v3 keys
with a hidden segment are never reported or deleted as extra.

Writes go in transactions of at most 128 operations (etcd's ``--max-txn-ops`` default)
and 1 MiB, several at a time. A run compares first and writes only what differs, so a
second run changes nothing.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from ._client import Client
from ._exceptions import EtcdKeyNotFound, EtcdValueError
from ._v3._args import prefix_end
from ._v3._client import Etcd3Client
from ._v3._kv import CreateRevision, Op
from .models import EtcdNode, EtcdResult
from .models.v3.kv import KeyValue
from .models.v3.txn import RequestOp

Progress = Callable[[str], None]
"""Where progress lines go (one line each, no newline), e.g. ``print`` to stderr."""

MAX_TXN_OPS = 128
"""Operations per transaction: etcd's ``--max-txn-ops`` default."""
MAX_TXN_BYTES = 1 << 20
"""Bytes of keys and values per transaction, under etcd's 1.5 MiB request limit."""
CONCURRENCY = 8
"""Transactions (and lease requests) in flight at once."""
TTL_SLACK = 2
"""Seconds a copied lease may differ from the v2 TTL before a run grants a new one (v2
rounds TTLs up, leases count down in whole seconds, and etcd raises short leases to its
minimum)."""
PAGE = 2000
"""Keys per range read of the target."""
REPORT_EVERY = 1.0
"""Seconds between progress lines."""
RENEW_EVERY = 5.0
"""Seconds between two checks of the TTLs while syncing (v2 refreshes send no event)."""


@dataclass(frozen=True)
class Entry:
    """One v3 key as the copy wants it."""

    value: str
    ttl: int | None
    """Seconds left, or ``None`` for a key without a lease."""


@dataclass(frozen=True)
class Difference:
    """A key on which the v3 copy differs from the v2 store."""

    key: str
    """The v3 key (a directory's marker ends with ``/``)."""
    kind: Literal["missing", "value", "ttl", "extra"]
    """``missing`` in v3, a different ``value``, a lease where v2 has no TTL or the other
    way round (``ttl``), or an ``extra`` key v2 does not have."""
    expected: Entry | None
    found: str | None
    """The v3 value (``None`` when missing)."""

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"missing {self.key}"
        if self.kind == "extra":
            return f"extra {self.key}"
        if self.kind == "ttl":
            wanted = "no TTL" if self.expected is None or self.expected.ttl is None else "a TTL"
            return f"ttl {self.key}: v2 has {wanted}"
        expected = self.expected.value if self.expected else None
        return f"value {self.key}: v2 {expected!r}, v3 {self.found!r}"


@dataclass
class Report:
    """What a run of :func:`migrate` found and did."""

    index: int
    """The v2 index the copy reflects: keep syncing from ``index + 1``."""
    keys: int = 0
    """v3 keys the v2 tree maps to (files and directory markers)."""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    leases: int = 0
    """Leases granted (one per key with a TTL that was written)."""
    extra: list[str] = field(default_factory=list)
    """v3 keys below the prefix that v2 does not have (hidden names left aside)."""
    deleted: int = 0
    """Extra keys deleted (with ``delete_extra``)."""
    seconds: float = 0.0
    dry_run: bool = False
    delete_extra: bool = False

    def summary(self) -> str:
        """One line for people."""
        would = "would " if self.dry_run else ""
        if not (self.created or self.updated or self.extra):
            text = f"nothing to change: {self.keys} keys already as in v2 (index {self.index})"
        else:
            text = (
                f"{self.keys} keys from v2 index {self.index}: {would}create {self.created}, "
                f"{would}update {self.updated}, {self.unchanged} unchanged, "
                f"{self.leases} leases"
            )
            if self.extra:
                gone = f"{would}delete {len(self.extra)}" if self.delete_extra else ""
                text += f"; {len(self.extra)} keys not in v2" + (f" ({gone})" if gone else "")
        rate = self.keys / self.seconds if self.seconds > 0 else 0.0
        return f"{text}; {self.seconds:.2f}s, {rate:.0f} keys/s"


@dataclass
class SyncReport:
    """What :func:`keep_syncing` applied."""

    index: int
    """The last v2 index applied (or the start index minus one)."""
    changes: int = 0
    resyncs: int = 0
    """Times the watch fell out of v2's history and the tree was compared again."""


def check_clients(source: object, target: object) -> None:
    """Refuse, before any I/O, a source that is not a v2 :class:`Client` or a target that
    is not an :class:`Etcd3Client`."""
    if not isinstance(source, Client):
        raise TypeError(f"source must be an aio_etcd.Client, not {type(source).__name__}")
    if source.api != "v2":
        raise EtcdValueError(
            f"source must be a Client of the v2 API (api='v2'), not api={source.api!r}"
        )
    if not isinstance(target, Etcd3Client):
        raise TypeError(f"target must be an aio_etcd.Etcd3Client, not {type(target).__name__}")


def normalize(prefix: str) -> str:
    """A v2 path without trailing ``/`` (``/`` for the whole store); a path not starting
    with ``/`` gets one, as v2 does."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    path = "/" + prefix.strip("/")
    if any(part in ("", ".", "..") for part in path.split("/")[1:]) and path != "/":
        raise EtcdValueError(f"prefix {prefix!r} has an empty, '.' or '..' segment")
    return path


def wanted(root: EtcdNode, now: float | None = None) -> dict[str, Entry]:
    """The v3 keys a v2 tree maps to: files as themselves, directories
    as their markers ``D/`` (the store's root has none)."""
    entries: dict[str, Entry] = {}
    clock = time.time() if now is None else now

    def walk(node: EtcdNode, inherited: int | None) -> None:
        ttl = _seconds_left(node, clock)
        if inherited is not None:
            ttl = inherited if ttl is None else min(ttl, inherited)
        if not node.dir:
            entries[node.key] = Entry(node.value or "", ttl)
            return
        if node.key != "/":
            entries[node.key.rstrip("/") + "/"] = Entry("", ttl)
        for child in node.nodes or ():
            walk(child, ttl)

    walk(root, None)
    return entries


async def read_v2(source: Client, prefix: str) -> tuple[EtcdResult, dict[str, Entry]]:
    """The tree at ``prefix`` (one recursive read) and the v3 keys it maps to.

    Raises:
        EtcdKeyNotFound: nothing at ``prefix``.
    """
    result = await source.read(prefix, recursive=True, sorted=True)
    return result, wanted(result.node)


async def read_v3(target: Etcd3Client, prefix: str) -> dict[str, KeyValue]:
    """Every v3 key of the tree at ``prefix`` (the key itself and keys under ``prefix/``),
    read in pages at one revision."""
    start = b"/" if prefix == "/" else prefix.encode()
    end = prefix_end(b"/") if prefix == "/" else prefix_end(start)
    found: dict[str, KeyValue] = {}
    revision: int | None = None
    while True:
        reply = await target.get_range(start, end, limit=PAGE, revision=revision)
        revision = revision or reply.header.revision
        for kv in reply.kvs:
            key = kv.key.decode(errors="replace")
            if _below(key, prefix) or key == prefix:
                found[key] = kv
        if not reply.more or not reply.kvs:
            return found
        start = reply.kvs[-1].key + b"\x00"


async def compare(
    target: Etcd3Client, prefix: str, entries: dict[str, Entry]
) -> tuple[list[Difference], int]:
    """How the v3 keys at ``prefix`` differ from ``entries``, and how many are the same.

    A leased key counts as the same when its lease has ``entries``' seconds left, give or
    take :data:`TTL_SLACK` (one ``lease/timetolive`` per leased key)."""
    current = await read_v3(target, prefix)
    leases = {kv.lease for key, kv in current.items() if kv.lease and key in entries}
    left = await _time_left(target, leases)
    differences: list[Difference] = []
    same = 0
    for key, entry in entries.items():
        kv = current.get(key)
        if kv is None:
            differences.append(Difference(key, "missing", entry, None))
            continue
        value = kv.value.decode(errors="replace")
        if value != entry.value:
            differences.append(Difference(key, "value", entry, value))
        elif not _same_ttl(entry.ttl, left.get(kv.lease, -1) if kv.lease else None):
            differences.append(Difference(key, "ttl", entry, value))
        else:
            same += 1
    for key, kv in current.items():
        if key not in entries and not _hidden(key, prefix):
            differences.append(Difference(key, "extra", None, kv.value.decode(errors="replace")))
    return differences, same


async def migrate(
    source: Client,
    target: Etcd3Client,
    prefix: str = "/",
    *,
    dry_run: bool = False,
    delete_extra: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Copy the v2 tree at ``prefix`` (the whole store by default) into v3 keys, writing
    only what differs.

    Args:
        source: a client of the v2 API.
        target: a client of the v3 API (the same cluster or another).
        prefix: the v2 key or directory to copy, e.g. ``"/config"``.
        dry_run: compare and report, write nothing.
        delete_extra: delete v3 keys below ``prefix`` that v2 does not have (deleted in
            v2 since an earlier run); otherwise they are only reported in ``extra``.
        progress: called with a line now and then (counts and rate) and at the end.

    Returns:
        A :class:`Report`; its ``index`` is the v2 index the copy reflects.

    Raises:
        EtcdKeyNotFound: nothing at ``prefix`` in v2.
        EtcdValueError: a bad ``prefix``, or a ``source`` with ``api="v3"``.
        TypeError: ``source`` or ``target`` of the wrong class.
        EtcdOutcomeUnknown: a member failed during a write; running again completes it.
    """
    check_clients(source, target)
    path = normalize(prefix)
    say = progress or _silent
    started = time.monotonic()
    result, entries = await read_v2(source, path)
    differences, same = await compare(target, path, entries)
    report = Report(
        index=result.etcd_index or 0,
        keys=len(entries),
        unchanged=same,
        dry_run=dry_run,
        delete_extra=delete_extra,
    )
    say(f"read {len(entries)} keys from v2 at index {report.index} under {path}")
    writes = [d for d in differences if d.kind != "extra"]
    report.extra = [d.key for d in differences if d.kind == "extra"]
    report.created = sum(d.kind == "missing" for d in writes)
    report.updated = len(writes) - report.created
    report.leases = sum(1 for d in writes if d.expected and d.expected.ttl is not None)
    if not dry_run:
        await _write(target, writes, say)
        if delete_extra and report.extra:
            await _run_batches(target, [(Op.delete(key), len(key)) for key in report.extra])
            report.deleted = len(report.extra)
    report.seconds = time.monotonic() - started
    say(report.summary())
    return report


async def verify(source: Client, target: Etcd3Client, prefix: str = "/") -> list[Difference]:
    """Read the v2 tree at ``prefix`` and its v3 copy and return every difference (empty:
    the same keys, values and TTLs; extra hidden names left aside).

    Raises:
        EtcdKeyNotFound: nothing at ``prefix`` in v2.
    """
    check_clients(source, target)
    path = normalize(prefix)
    _, entries = await read_v2(source, path)
    differences, _ = await compare(target, path, entries)
    return differences


async def keep_syncing(
    source: Client,
    target: Etcd3Client,
    prefix: str = "/",
    *,
    index: int,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
    renew_every: float | None = RENEW_EVERY,
) -> SyncReport:
    """Apply every change of the v2 tree at ``prefix`` from v2 index ``index`` on to the
    v3 copy, until ``stop`` is set (or the call is cancelled); then return.

    Sets and creations become puts (with a new lease when the key has a TTL, and the
    markers of new parent directories), deletions and expiries become deletes (of the
    whole subtree for a directory). When the watch falls out of v2's history (its last
    1000 changes), the tree is read again and compared, extra keys deleted.

    v2 tells no watcher about ``refresh=True`` writes (etcd ``v2store``: not even in its
    history), so every ``renew_every`` seconds the tree is read again (one v2 read) and a
    key whose v2 TTL has more seconds left than its v3 lease gets a new lease, its value
    untouched.

    Args:
        index: the first v2 index to apply, e.g. ``report.index + 1`` of :func:`migrate`.
        stop: set it to end; a change being applied is finished first.
        renew_every: seconds between two checks of the TTLs; ``None``: never.

    Raises:
        EtcdConnectionFailed: v2 could not be reached for the client's watch retry window.
    """
    check_clients(source, target)
    path = normalize(prefix)
    say = progress or _silent
    report = SyncReport(index=index - 1)
    ended = stop or asyncio.Event()
    lock = asyncio.Lock()
    started = last = time.monotonic()
    counted = 0

    until: dict[str, float] = {}
    """When each leased v3 key's lease ends, as far as we know (monotonic seconds)."""

    async def renew() -> None:
        while renew_every is not None:
            await asyncio.sleep(renew_every)
            renewed = await _renew(source, target, path, until, lock)
            if renewed:
                say(f"renewed the leases of {renewed} keys refreshed in v2")

    async def pump() -> None:
        nonlocal last, counted
        async with source.watch_iter(path, recursive=True, index=index, resync=True) as changes:
            async for event in changes:
                async with lock:
                    if ended.is_set():
                        return
                    if event.snapshot:
                        report.resyncs += 1
                        await _resync(target, path, event, say)
                        until.clear()  # the next check asks etcd again
                    else:
                        await _apply(target, path, event, until)
                    report.changes += 1
                    # A snapshot reflects the store at its etcd_index; an event, its own index.
                    at = (event.etcd_index or 0) if event.snapshot else event.modified_index
                    report.index = max(report.index, at)
                now = time.monotonic()
                if now - last >= REPORT_EVERY:
                    rate = (report.changes - counted) / (now - last)
                    say(
                        f"synced {report.changes} changes ({rate:.0f}/s), "
                        f"at v2 index {report.index}"
                    )
                    last, counted = now, report.changes

    say(f"syncing changes from v2 index {index} under {path}; stop with Ctrl-C")
    worker = asyncio.create_task(pump())
    renewer = asyncio.create_task(renew())
    waiter = asyncio.create_task(ended.wait())
    try:
        await asyncio.wait({worker, renewer, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        async with lock:  # never cut a change in half
            worker.cancel()
            renewer.cancel()
        await asyncio.gather(worker, renewer, return_exceptions=True)
    for task in (worker, renewer):
        if not task.cancelled() and (failure := task.exception()) is not None:
            raise failure
    elapsed = time.monotonic() - started
    say(f"stopped syncing at v2 index {report.index}: {report.changes} changes in {elapsed:.1f}s")
    return report


# -- writing -----------------------------------------------------------------------------


async def _write(target: Etcd3Client, writes: list[Difference], say: Progress) -> None:
    """Put every missing or differing key, granting leases first."""
    ttls = [d.expected.ttl for d in writes if d.expected and d.expected.ttl is not None]
    leases = iter(await _grant(target, ttls))
    ops: list[tuple[RequestOp, int]] = []
    for difference in writes:
        entry = difference.expected
        assert entry is not None
        lease = next(leases) if entry.ttl is not None else None
        op = Op.put(difference.key, entry.value, lease=lease)
        ops.append((op, len(difference.key) + len(entry.value.encode())))
    await _run_batches(target, ops, say)


async def _grant(target: Etcd3Client, ttls: list[int]) -> list[int]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(ttl: int) -> int:
        async with gate:
            return (await target.grant_lease(ttl)).id

    return list(await asyncio.gather(*(one(ttl) for ttl in ttls)))


async def _run_batches(
    target: Etcd3Client, ops: list[tuple[RequestOp, int]], say: Progress | None = None
) -> None:
    """Run ``ops`` (each with its size in bytes) in transactions, several at a time."""
    batches = list(_batches(ops))
    done = 0
    started = last = time.monotonic()
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(batch: list[RequestOp]) -> None:
        nonlocal done, last
        async with gate:
            await target.transaction([], batch)
        done += len(batch)
        now = time.monotonic()
        if say is not None and now - last >= REPORT_EVERY:
            last = now
            say(f"wrote {done}/{len(ops)} keys ({done / (now - started):.0f} keys/s)")

    await _gather_all(one(batch) for batch in batches)


def _batches(ops: list[tuple[RequestOp, int]]) -> Iterator[list[RequestOp]]:
    batch: list[RequestOp] = []
    size = 0
    for op, length in ops:
        if batch and (len(batch) == MAX_TXN_OPS or size + length > MAX_TXN_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(op)
        size += length
    if batch:
        yield batch


async def _gather_all(calls: Iterable[Awaitable[None]]) -> None:
    """Run every call; on a failure cancel the rest and raise it."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()


async def _apply(
    target: Etcd3Client, prefix: str, event: EtcdResult, until: dict[str, float]
) -> None:
    """One v2 change, as one transaction; ``until`` learns when a new lease ends."""
    node = event.node
    key = node.key
    if event.action in ("delete", "compareAndDelete", "expire"):
        if _below(prefix, key):  # a directory above the prefix went: so did the prefix
            key, node_dir = prefix, True
        else:
            node_dir = node.dir
        ops = [Op.delete(key)] if key != "/" else []
        if node_dir:
            ops.append(Op.delete_prefix(key.rstrip("/") + "/"))
        await target.transaction([], ops)
        for gone in [k for k in until if k == key or (node_dir and _below(k, key))]:
            del until[gone]
        return
    entry_key = key.rstrip("/") + "/" if node.dir else key
    lease = None
    if node.ttl is not None:
        granted = await target.grant_lease(max(1, node.ttl))
        lease = granted.id
        until[entry_key] = time.monotonic() + granted.ttl
    ops = [_marker(parent) for parent in _parents(key, prefix)]
    ops.append(Op.put(entry_key, "" if node.dir else node.value or "", lease=lease))
    await target.transaction([], ops)


async def _renew(
    source: Client,
    target: Etcd3Client,
    prefix: str,
    until: dict[str, float],
    lock: asyncio.Lock,
) -> int:
    """Give a new lease to each v3 key whose v2 TTL outlasts its lease (v2 refreshed it);
    how many got one."""
    try:
        _, entries = await read_v2(source, prefix)
    except EtcdKeyNotFound:
        return 0
    leased = {key: entry for key, entry in entries.items() if entry.ttl is not None}
    unknown = [key for key in leased if key not in until]
    if unknown:
        current = await read_v3(target, prefix)
        found = {key: current[key].lease for key in unknown if key in current}
        left = await _time_left(target, set(found.values()) - {0})
        now = time.monotonic()
        for key, lease in found.items():
            until[key] = now + left.get(lease, -1)
    now = time.monotonic()
    stale = [
        (key, entry)
        for key, entry in leased.items()
        if entry.ttl is not None and entry.ttl > until.get(key, now) - now + TTL_SLACK
    ]
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(key: str, entry: Entry) -> None:
        assert entry.ttl is not None
        async with gate:
            granted = await target.grant_lease(entry.ttl)
        async with lock:
            try:  # the value as it is now, which an event may have changed
                await target.put(key, b"", ignore_value=True, lease=granted.id)
            except EtcdKeyNotFound:
                if key not in until:  # deleted in v2 since it was read
                    return
                await target.put(key, entry.value, lease=granted.id)  # the lease ran out
            until[key] = time.monotonic() + granted.ttl

    await _gather_all(one(key, entry) for key, entry in stale)
    return len(stale)


async def _resync(target: Etcd3Client, prefix: str, snapshot: EtcdResult, say: Progress) -> None:
    say(f"fell out of v2's history: comparing the tree again at index {snapshot.etcd_index}")
    entries = wanted(snapshot.node)
    differences, _ = await compare(target, prefix, entries)
    await _write(target, [d for d in differences if d.kind != "extra"], say)
    extra = [(Op.delete(d.key), len(d.key)) for d in differences if d.kind == "extra"]
    await _run_batches(target, extra)


def _marker(directory: str) -> RequestOp:
    """Put the marker of ``directory`` unless it exists (a nested transaction)."""
    marker = directory + "/"
    return Op.txn([CreateRevision(marker) == 0], [Op.put(marker, "")])


def _parents(key: str, prefix: str) -> list[str]:
    """The directories from ``prefix`` (itself included, not the root) down to ``key``'s
    parent."""
    parts = key.strip("/").split("/")[:-1]
    paths = ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]
    return [p for p in paths if p == prefix or _below(p, prefix)]


# -- helpers -----------------------------------------------------------------------------


def _below(key: str, prefix: str) -> bool:
    """Whether ``key`` is strictly below the v2 path ``prefix``."""
    return key.startswith("/") if prefix == "/" else key.startswith(prefix + "/")


def _hidden(key: str, prefix: str) -> bool:
    """Whether a segment of ``key`` below ``prefix`` is hidden (starts with ``_``)."""
    rest = key[len(prefix) :] if key.startswith(prefix) else key
    return any(part.startswith("_") for part in rest.split("/"))


def _seconds_left(node: EtcdNode, now: float) -> int | None:
    if node.expiration is not None:
        return max(1, math.ceil(node.expiration.timestamp() - now))
    if node.ttl is not None:
        return max(1, node.ttl)
    return None


def _same_ttl(expected: int | None, left: int | None) -> bool:
    if expected is None or left is None:
        return expected is None and left is None
    return left >= 0 and abs(left - expected) <= TTL_SLACK


async def _time_left(target: Etcd3Client, leases: set[int]) -> dict[int, int]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(lease: int) -> tuple[int, int]:
        async with gate:
            return lease, (await target.get_lease_info(lease)).ttl

    return dict(await asyncio.gather(*(one(lease) for lease in leases)))


def _silent(line: str) -> None:
    pass
