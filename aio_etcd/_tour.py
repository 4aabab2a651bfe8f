"""A walk through the documented calls, printing what each one does.

With no endpoint it starts a throwaway etcd (from the ``server`` extra) and removes it
afterwards; with one it works under a fresh directory there and deletes it at the end.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from ._client import Client
from ._exceptions import EtcdAlreadyExist, EtcdCompareFailed, EtcdKeyNotFound, StopWatching
from ._lock import Lock
from ._server import LocalEtcd
from .models import EtcdResult


def run(endpoint: str | None, out: Callable[[str], None] = print, *, api: str = "v2") -> None:
    """Run the tour against ``endpoint`` (``http://host:port``) or a throwaway etcd, on the
    ``api`` of :class:`Client` (``"v2"`` or ``"v3"``)."""
    if endpoint is not None:
        asyncio.run(_tour(endpoint, out, api))
        return
    out("Starting a throwaway etcd on 127.0.0.1 ...")
    with LocalEtcd(name="aio-etcd-tour", enable_v2=api == "v2") as server:
        out(f"  etcd {server.binary} is listening on {server.client_url}\n")
        asyncio.run(_tour(server.client_url, out, api))
    out("\nThe throwaway etcd is stopped and its data removed.")


async def _tour(endpoint: str, out: Callable[[str], None], api: str) -> None:
    url = urlsplit(endpoint)
    root = f"/aio-etcd-tour/{uuid.uuid4().hex[:8]}"

    def step(title: str) -> None:
        out(f"\n== {title}")

    def show(call: str, result: object) -> None:
        out(f"  {call}\n    -> {result}")

    async with Client(
        url.hostname or "127.0.0.1",
        url.port or 2379,
        protocol=url.scheme or "http",
        lock_prefix=f"{root}/_locks",
        api=api,
    ) as client:
        step("The server")
        show("await client.version()", await client.version())
        show("await client.machines()", await client.machines())
        show("(await client.leader()).name", (await client.leader()).name)
        show("bool(await client.health())", bool(await client.health()))
        show("len(await client.members())", len(await client.members()))
        show("(await client.stats()).state", (await client.stats()).state)

        step("Write and read a key")
        result = await client.write(f"{root}/nodes/n1", 1)
        show(f"await client.write('{root}/nodes/n1', 1)", _brief(result))
        result = await client.get(f"{root}/nodes/n1")
        show(f"(await client.get('{root}/nodes/n1')).value", repr(result.value))
        result = await client.write(f"{root}/nodes/n2", 2, ttl=4)
        show(f"await client.write('{root}/nodes/n2', 2, ttl=4)", f"ttl={result.ttl}")
        odd = f"{root}/odd key ?#%+;&=/ключ"
        await client.write(odd, "a b+c;d&e=f%")
        show(f"await client.read({odd!r})", repr((await client.read(odd)).value))

        step("Missing keys raise EtcdKeyNotFound")
        try:
            await client.read(f"{root}/nowhere")
        except EtcdKeyNotFound as exc:
            show(f"await client.read('{root}/nowhere')", f"EtcdKeyNotFound: {exc}")

        step("Compare and swap")
        result = await client.write(f"{root}/nodes/n2", 5, prevValue=2)
        show("await client.write(..., 5, prevValue=2)", _brief(result))
        try:
            await client.test_and_set(f"{root}/nodes/n2", 6, 4)
        except EtcdCompareFailed as exc:
            show("await client.test_and_set(..., 6, 4)", f"EtcdCompareFailed: {exc}")
        try:
            await client.write(f"{root}/nodes/n2", 7, prevExist=False)
        except EtcdAlreadyExist as exc:
            show("await client.write(..., 7, prevExist=False)", f"EtcdAlreadyExist: {exc}")

        step("Update a result atomically")
        await client.write(f"{root}/foo", "bar")
        result = await client.read(f"{root}/foo")
        result.value = (result.value or "") + "bar"
        show(
            "result.value += 'bar'; await client.update(result)",
            repr((await client.update(result)).value),
        )

        step("Refresh a TTL without waking watchers")
        await client.write(f"{root}/session", "alive", ttl=30)
        result = await client.refresh(f"{root}/session", ttl=600)
        show("await client.refresh(..., ttl=600)", f"value={result.value!r} ttl={result.ttl}")

        step("In-order keys and directory listings")
        for value in ("value1", "value2"):
            result = await client.write(f"{root}/queue", value, append=True)
            show(f"await client.write('{root}/queue', {value!r}, append=True)", result.key)
        directory = await client.get(f"{root}/queue", sorted=True)
        for child in directory.children:
            out(f"    {child.key}: {child.value}")

        step("Watch a key")
        start = (await client.read(f"{root}/nodes/n1")).modified_index

        async def change_soon() -> None:
            await asyncio.sleep(0.2)
            await client.write(f"{root}/nodes/n1", "changed")

        writer = asyncio.create_task(change_soon())
        event = await client.watch(f"{root}/nodes/n1", index=start + 1)
        await writer
        show("await client.watch(key, index=...)", _brief(event))
        try:
            await asyncio.wait_for(client.read(f"{root}/nodes/n1", wait=True), timeout=0.5)
        except asyncio.TimeoutError:
            show("asyncio.wait_for(client.read(key, wait=True), timeout=0.5)", "TimeoutError")

        seen: list[str] = []

        def on_event(event: EtcdResult) -> None:
            seen.append(f"{event.action} {event.value}")
            if len(seen) == 2:
                raise StopWatching

        async def write_twice() -> None:
            for value in ("one", "two"):
                await asyncio.sleep(0.1)
                await client.write(f"{root}/nodes/n1", value)

        writer = asyncio.create_task(write_twice())
        await client.eternal_watch(f"{root}/nodes/n1", on_event)
        await writer
        show("await client.eternal_watch(key, callback)", seen)

        step("Locks")
        lock = Lock(client, "tour")
        show("await lock.acquire(lock_ttl=10)", await lock.acquire(lock_ttl=10))
        other = Lock(client, "tour")
        show(
            "await Lock(client, 'tour').acquire(blocking=False)",
            await other.acquire(blocking=False),
        )
        await lock.release()
        show("await lock.release(); lock.is_acquired", lock.is_acquired)
        async with Lock(client, "tour") as held:
            show("async with Lock(client, 'tour') as held: held.is_acquired", held.is_acquired)

        step("Delete")
        show(f"await client.delete('{root}/foo')", _brief(await client.delete(f"{root}/foo")))
        show(f"await client.contains('{root}/foo')", await client.contains(f"{root}/foo"))
        await client.delete(root, recursive=True)
        show(f"await client.delete('{root}', recursive=True)", "the tour's keys are gone")


def _brief(result: EtcdResult) -> str:
    return (
        f"{result.action} {result.key} = {result.value!r} "
        f"(modifiedIndex {result.modified_index}, etcd_index {result.etcd_index})"
    )
