"""The writer behind every watch benchmark, in a process of its own, the same for every
watcher of one API, so that a watcher's CPU time is its own.

``python _writer.py API PREFIX COUNT PORT [KEYS]``

``API`` is ``v2`` (this client, on the lean transport: the fastest v2 writer at hand) or
``v3`` (gRPC through aetcd when the benchmark's aetcd virtualenv has it, the fastest v3
writer at hand; else etcd's JSON gateway). It connects, prints ``ready``, waits for a line
on standard input, writes ``COUNT`` changes to ``PREFIX/k0`` .. ``PREFIX/k{KEYS-1}`` round
robin, 32 at a time, and prints its own write rate as JSON.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

WRITERS = 32


Write = Callable[[str, int], Awaitable[object]]
Close = Callable[[], Awaitable[None]]


def v2_writer(port: int) -> tuple[Write, Close]:
    import aio_etcd

    client = aio_etcd.Client(port=port, transport=aio_etcd.LeanTransport())

    async def write(key: str, i: int) -> object:
        return await client.write(key, i)

    return write, client.close


def v3_grpc_writer(port: int) -> tuple[Write, Close]:
    aetcd: Any = importlib.import_module("aetcd")  # untyped
    client = aetcd.Client(port=port)

    async def write(key: str, i: int) -> object:
        return await client.put(key.encode(), str(i).encode())

    close: Close = client.close
    return write, close


def v3_gateway_writer(port: int) -> tuple[Write, Close]:
    import aio_etcd

    transport = aio_etcd.LeanTransport()
    url = f"http://127.0.0.1:{port}/v3/kv/put"
    headers = {"Content-Type": "application/json"}

    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    async def write(key: str, i: int) -> object:
        body = json.dumps({"key": b64(key), "value": b64(str(i))}).encode()
        reply = await transport.request("POST", url, body=body, headers=headers, timeout=30)
        if reply.status != 200:
            raise RuntimeError(f"the gateway answered {reply.status}: {reply.body[:200]!r}")
        return reply

    return write, transport.aclose


class Writer:
    """This script in a child process, from the watcher's side::

    writer = await Writer.start(python, "v2", prefix, count, port)
    ...  # watch
    writer.go()
    ...  # count the events
    rate = await writer.finish()  # its writes per second
    """

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process

    @classmethod
    async def start(
        cls, python: str, api: str, prefix: str, count: int, port: int, keys: int = 64
    ) -> Writer:
        process = await asyncio.create_subprocess_exec(
            *(python, __file__, api, prefix, str(count), str(port), str(keys)),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        writer = cls(process)
        assert process.stdout is not None
        if (await process.stdout.readline()).strip() != b"ready":
            await writer.finish()
            raise RuntimeError(f"the {api} writer did not start")
        return writer

    def go(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(b"go\n")

    async def finish(self) -> float:
        """Its writes per second, once it has written them all."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        out = await self._process.stdout.read()
        if await self._process.wait() != 0:
            raise RuntimeError("the writer failed")
        rate: float = json.loads(out)["writes_per_s"]
        return rate

    async def kill(self) -> None:
        """Stop it early (the watcher failed)."""
        if self._process.returncode is None:
            self._process.kill()
            await self._process.wait()


async def main(api: str, prefix: str, count: int, port: int, keys: int) -> None:
    if api == "v2":
        write, close = v2_writer(port)
    else:
        try:
            write, close = v3_grpc_writer(port)
        except ImportError:
            write, close = v3_gateway_writer(port)
    await write(f"{prefix}/warm", 0)  # connect before the clock starts
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    todo = iter(range(count))

    async def writer() -> None:
        for i in todo:
            await write(f"{prefix}/k{i % keys}", i)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    elapsed = time.perf_counter() - started
    await close()
    print(json.dumps({"writes_per_s": count / elapsed}), flush=True)


if __name__ == "__main__":
    api, prefix, count, port = sys.argv[1:5]
    keys = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    asyncio.run(main(api, prefix, int(count), int(port), keys))
