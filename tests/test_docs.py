"""The code examples of the documentation, run against real etcd servers.

Every fenced ```python block of ``docs/**/*.md`` and of ``README.md`` is a test of its own,
named ``page:line`` (the line of its opening fence). The convention the pages follow:

- **A page is one session.** Its blocks run in order, in one namespace, on one event loop
  that lives as long as the page, so a block uses what the blocks above it defined, as a
  reader would. Blocks may ``await`` at the top level (as in ``python -m asyncio``). Running
  one block alone (``-k``) runs the blocks above it first. A block that calls
  ``asyncio.run(`` is a whole program: it runs in a thread, outside the page's loop.
- **The documented addresses lead to the test's servers.** While a page runs,
  ``aio_etcd.Client`` is a subclass that sends ``127.0.0.1``/``localhost`` port 2379 (the
  default) to the session's ``etcd_server``; ``10.0.0.1``-``10.0.0.3`` port 2379 and the SRV
  records of ``example.com`` to the plugin's 3-member cluster; ``https://etcd.example`` to a
  server that requires client certificates (``ca.crt``, ``client.crt``, ``client.key`` and
  ``client.pem`` are in the page's working directory); ``http://etcd.example`` to a server
  whose auth the page may turn on (``ETCD_ROOT_PASSWORD`` is set). Other ports of
  ``127.0.0.1`` are left alone (the fixtures' servers, or one the page starts); any other
  address goes to a closed local port, so nothing ever leaves the machine.
- **Output is checked.** A python block followed by a fence with ``title="Output"`` must
  print that (``...`` matches anything, as in doctest). Other blocks check themselves with
  ``assert``; any exception fails the block.
- **Test functions run.** A ``def test_...`` or ``async def test_...`` that a block defines
  is called with the fixtures its parameters name (``etcd_server``, ``etcd_client``,
  ``etcd3_client``, ``etcd_cluster``), as the testing plugin would.
- **A block that cannot run says so.** ``<!-- not-run: reason -->`` on the line before the
  fence; such a block is only compiled. The README's blocks that are fragments are listed in
  ``README_NOT_RUN``. Anything that is not Python goes in another fence (``sh``, ``text``).
- **Pages clean up after themselves**, and the test makes sure: clients left open are closed,
  tasks left running cancelled, top-level keys the page created deleted, and cluster members
  it stopped restarted.
- **v3 pages get a server without v2.** ``aio_etcd.Etcd3Client`` (also as
  ``aio_etcd.v3.Etcd3Client``) sends ``127.0.0.1``/``localhost`` port 2379 to the plugin's
  ``etcd3_server`` (v2 API off, as in etcd 3.6); other addresses go where ``Client`` sends
  them. Keys and leases a page leaves on that server are deleted and revoked.
- **Pages that use ``Client`` run a second time on v3** (tests ``page:line:v3``): every
  ``Client`` the page makes gets ``api="v3"`` (and loses a ``version_prefix``, which is part
  of the documented address), and ``127.0.0.1``/``localhost`` port 2379 is
  ``etcd3_server``. A page or block that cannot run on v3 is listed in ``V3_NOT_RUN`` with
  the reason.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import contextlib
import doctest
import inspect
import io
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

import dns.asyncresolver
import pytest
import trustme

import aio_etcd
import aio_etcd.v3
from aio_etcd._server import LOOPBACK, LocalCluster, LocalEtcd, TlsFiles, free_port
from aio_etcd.testing import recover
from tests.test_discovery import Zone

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOCK_TIMEOUT = 20.0
ROOT_PASSWORD = "docs-r00t-password"
RealClient = aio_etcd.Client
RealClient3 = aio_etcd.Etcd3Client

README_NOT_RUN = {
    "# Compare and swap": "fragments that need keys the README never writes",
    "async with client.watch_iter(": "waits for changes nothing makes",
    "client = etcd.Client(host=((": "changes the cluster's membership",
    "lock = etcd.Lock(client,": "observes the election forever",
    "client = etcd.Client(host=\"etcd.example\", protocol=\"https\", ca_cert=\"ca.crt\",": (
        "needs certificates and an ETCD_PW of its own"
    ),
}
"""README blocks that are only compiled, by their first line, with the reason."""

_V2_AUTH = (
    "shows v2 auth: its guest role and path rules, which v3 auth does not have "
    "(tests/test_security.py and tests/v2on3/test_auth.py run the calls on v3)"
)
_LOSES_WRITES = (
    "its transport loses the reply to a PUT, POST or DELETE: on v3 every call is a POST, and "
    "the first is the member list, not the write"
)
_V3_HISTORY = "v3 keeps every change until a compaction: 1100 writes push nothing out of it"
V3_NOT_RUN: dict[str, str] = {
    "leader_stats(": "etcd's v3 API has no equivalent of the leader's stats",
    "store_stats(": "etcd's v3 API keeps no per-operation counts",
    "docs/v2-and-v3.md": "the page is about the v2 API itself: what a server without it says",
    "docs/migrating-to-v3.md": "copies a v2 store: its source is a Client of the v2 API",
    'if method in ("PUT", "POST", "DELETE")': _LOSES_WRITES,
    "transport.lost = False": _LOSES_WRITES,
    'EtcdUser(anonymous, "root")': _V2_AUTH,
    'EtcdRole(root, "guest")': _V2_AUTH,
    'EtcdRole(root, "app-reader")': _V2_AUTH,
    'username="alice", password="alice-secret"': _V2_AUTH,
    'alice.read("/app", recursive=True)': _V2_AUTH,
    "Auth(root).set_active(False)": _V2_AUTH,
    "result.raft_index is not None": "v3 replies carry no raft index",
    "test_a_server_without_v2_is_reported": "shows what a v2 client says on a server without v2",
    'print(*seen, sep="\\n")': (
        "prints v2's watch actions; v3 events carry inferred ones (a new key is a create, a "
        "compare-and-delete a delete)"
    ),
    'await client.delete("/app/config/db", recursive=True)': (
        "a recursive delete reaches v3 watchers as one delete per key, not one of the directory"
    ),
    "saved = next_index": _V3_HISTORY,
    "print(event.snapshot, event.action, event.key)": _V3_HISTORY,
    'print((await instances(client, "api"))[0])': (
        "expects the keys gone that expire in a block above which v3 does not run"
    ),
    "print((await client.read(lock.lock_key)).ttl)": (
        "v3 gives the time left rounded down: 29 right after a 30 s lease is granted"
    ),
}
"""Pages (by path) and blocks (by a piece of their source) whose v3 case is only compiled,
with the reason."""

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$")
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.+?)\s*-->\s*$")


# -- the blocks ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    page: str
    """The page's path from the repository's root, e.g. ``docs/recipes/locks.md``."""
    line: int
    """The line of the opening fence (1-based)."""
    source: str
    output: str | None = None
    """What the block must print, from the ``title="Output"`` fence after it."""
    not_run: str | None = None
    """Why the block is only compiled."""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    def compiled(self) -> CodeType:
        # Blank lines first, so that tracebacks name the page's own lines.
        text = "\n" * self.line + self.source
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        path = str(ROOT / self.page)
        code: CodeType = compile(text, path, "exec", flags=flags, dont_inherit=True)
        return code


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)]


@dataclass(frozen=True)
class Fence:
    start: int
    """The index of the opening line."""
    end: int
    """The index of the closing line."""
    info: str
    body: str


def fences_of(lines: list[str]) -> list[Fence]:
    """Every fenced block, indented ones (in lists, admonitions) dedented."""
    fences = []
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if match is None:
            index += 1
            continue
        indent, fence = len(match["indent"]), match["fence"]
        end = index + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and not lines[end].strip().strip(fence[0])
        ):
            end += 1
        body = "\n".join(row[indent:] for row in lines[index + 1 : end]) + "\n"
        fences.append(Fence(index, end, match["info"].strip(), body))
        index = end + 1
    return fences


def blocks_of(path: Path) -> list[Block]:
    """The python blocks of a page, with their expected output and not-run marks."""
    page = path.relative_to(ROOT).as_posix()
    lines = path.read_text().splitlines()
    fences = fences_of(lines)
    found = []
    for number, fence in enumerate(fences):
        if fence.info.split(" ", 1)[0] not in ("python", "py"):
            continue
        output = None
        if number + 1 < len(fences):
            after = fences[number + 1]
            between = lines[fence.end + 1 : after.start]
            if 'title="Output"' in after.info and not any(row.strip() for row in between):
                output = after.body
        before = next((row for row in reversed(lines[: fence.start]) if row.strip()), "")
        marked = NOT_RUN.match(before)
        reason = marked["reason"] if marked else None
        if page == "README.md" and reason is None:
            first = fence.body.lstrip().splitlines()[0] if fence.body.strip() else ""
            reasons = (why for lead, why in README_NOT_RUN.items() if first.startswith(lead))
            reason = next(reasons, None)
        found.append(Block(page, fence.start + 1, fence.body, output, reason))
    return found


ALL_BLOCKS = [block for path in pages() for block in blocks_of(path)]


def _uses_client(page: str) -> bool:
    """Whether the page makes documented-API clients (``Client(``, not ``Etcd3Client(``)."""
    blocks = [b.source for b in ALL_BLOCKS if b.page == page]
    return any(s.count("Client(") > s.count("Etcd3Client(") for s in blocks)


def _v3_not_run(block: Block) -> str | None:
    """Why the v3 case of ``block`` is only compiled, if it is."""
    if block.not_run is not None:
        return block.not_run
    return next(
        (why for what, why in V3_NOT_RUN.items() if what == block.page or what in block.source),
        None,
    )


CASES = [(block, "v2") for block in ALL_BLOCKS] + [
    (block, "v3") for block in ALL_BLOCKS if _uses_client(block.page)
]


# -- where the documented addresses lead --------------------------------------------------


@dataclass
class Servers:
    """The servers behind the documented addresses; the special ones start on first use."""

    plain: LocalEtcd
    workdir: Path
    get_cluster: Callable[[], LocalCluster]
    get_v3: Callable[[], LocalEtcd]
    ca: trustme.CA = field(default_factory=trustme.CA)
    _tls: LocalEtcd | None = None
    _auth: LocalEtcd | None = None
    _closed_port: int = field(default_factory=free_port)

    @property
    def cluster(self) -> LocalCluster:
        return self.get_cluster()

    @property
    def v3(self) -> LocalEtcd:
        return self.get_v3()

    @property
    def tls(self) -> LocalEtcd:
        if self._tls is None:
            server = self.ca.issue_cert(LOOPBACK, "localhost")
            server.cert_chain_pems[0].write_to_path(str(self.workdir / "server.crt"))
            server.private_key_pem.write_to_path(str(self.workdir / "server.key"))
            self.ca.cert_pem.write_to_path(str(self.workdir / "ca.crt"))
            files = TlsFiles(
                self.workdir / "server.crt",
                self.workdir / "server.key",
                self.workdir / "ca.crt",
                client_cert_auth=True,
            )
            self._tls = LocalEtcd(name="docs-tls", tls=files).start()
        return self._tls

    @property
    def auth(self) -> LocalEtcd:
        if self._auth is None:
            self._auth = LocalEtcd(name="docs-auth").start()
        return self._auth

    def write_client_files(self, directory: Path) -> None:
        """What the TLS examples name: the CA, and a client certificate it signed."""
        self.ca.cert_pem.write_to_path(str(directory / "ca.crt"))
        client = self.ca.issue_cert("client.example")
        client.cert_chain_pems[0].write_to_path(str(directory / "client.crt"))
        client.private_key_pem.write_to_path(str(directory / "client.key"))
        client.private_key_and_cert_chain_pem.write_to_path(str(directory / "client.pem"))

    def route(self, protocol: str, host: str, port: int) -> tuple[str, int]:
        if protocol == "https" and host == "etcd.example" and port == 2379:
            return LOOPBACK, self.tls.port
        if protocol == "http":
            if host in ("127.0.0.1", "localhost"):
                # Other local ports are the fixtures' and the page's own servers.
                return LOOPBACK, self.plain.port if port == 2379 else port
            if host == "etcd.example" and port == 2379:
                return LOOPBACK, self.auth.port
            cluster = {f"10.0.0.{n}": n - 1 for n in (1, 2, 3)}
            if host in cluster and port == 2379:
                return LOOPBACK, self.cluster.members[cluster[host]].port
        return LOOPBACK, self._closed_port

    def stop(self) -> None:
        for server in (self._tls, self._auth):
            if server is not None:
                server.stop()


class PageRun:
    """One page's namespace, event loop and working directory, and what it opened."""

    def __init__(self, page: str, servers: Servers, workdir: Path, api: str = "v2") -> None:
        self.page = page
        self.api = api
        self.servers = servers
        self.workdir = workdir
        self.loop = asyncio.new_event_loop()
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
        self.clients: list[aio_etcd.Client | aio_etcd.Etcd3Client] = []
        self.v3_before: tuple[set[bytes], set[int]] | None = None
        self.v3_server: LocalEtcd | None = None
        self.done: set[int] = set()
        self.failed: str | None = None
        self.zone: Zone | None = None
        self.zone_port = 0
        self.used_cluster = False
        servers.write_client_files(workdir)
        self.keys_before = self._top_level_keys(servers.plain)
        if api == "v3" or any(
            "Etcd3Client" in b.source or "etcd3_client" in b.source
            for b in ALL_BLOCKS
            if b.page == page
        ):
            self.v3_server = servers.v3
            self.v3_before = _v3_state(self.v3_server)

    # The client the page sees as aio_etcd.Client.
    def client_class(self) -> type[aio_etcd.Client]:
        run = self

        class Client(RealClient):
            __doc__ = RealClient.__doc__

            def __init__(self, host: Any = "127.0.0.1", port: Any = 2379, **options: Any) -> None:
                protocol = options.get("protocol", "http")
                if options.get("srv_domain") is not None:
                    options.setdefault("srv_resolver", run.resolver())
                route = run.route
                if run.api == "v3":
                    options.setdefault("api", "v3")
                    # A v2 path prefix is part of the documented address, routed as the
                    # host is (the v3 gateway has its own path).
                    options.pop("version_prefix", None)
                    route = run.route3
                if isinstance(host, str):
                    host, port = route(protocol, host, port)
                elif isinstance(host, (tuple, list)):
                    host = tuple(route(protocol, *pair) for pair in host)
                super().__init__(host, port, **options)
                run.clients.append(self)

        Client.__name__ = Client.__qualname__ = "Client"
        Client.__module__ = "aio_etcd"
        return Client

    # The client the page sees as aio_etcd.Etcd3Client.
    def client3_class(self) -> type[aio_etcd.Etcd3Client]:
        run = self

        class Etcd3Client(RealClient3):
            __doc__ = RealClient3.__doc__

            def __init__(self, host: Any = "127.0.0.1", port: Any = 2379, **options: Any) -> None:
                protocol = options.get("protocol", "http")
                if options.get("srv_domain") is not None:
                    options.setdefault("srv_resolver", run.resolver())
                if isinstance(host, str):
                    host, port = run.route3(protocol, host, port)
                elif isinstance(host, (tuple, list)):
                    host = tuple(run.route3(protocol, *pair) for pair in host)
                super().__init__(host, port, **options)
                run.clients.append(self)

        Etcd3Client.__name__ = Etcd3Client.__qualname__ = "Etcd3Client"
        Etcd3Client.__module__ = "aio_etcd"
        return Etcd3Client

    def route3(self, protocol: str, host: str, port: int) -> tuple[str, int]:
        if protocol == "http" and host in ("127.0.0.1", "localhost") and port == 2379:
            if self.v3_server is None:
                raise RuntimeError(f"{self.page} names Etcd3Client in no block")
            return LOOPBACK, self.v3_server.port
        return self.route(protocol, host, port)

    def route(self, protocol: str, host: str, port: int) -> tuple[str, int]:
        if host.startswith("10.0.0."):
            self.used_cluster = True
        return self.servers.route(protocol, host, port)

    def resolver(self) -> dns.asyncresolver.Resolver:
        """A resolver whose SRV records for example.com name the cluster's members."""
        self.used_cluster = True
        if self.zone is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((LOOPBACK, 0))
            zone = self.zone = Zone()
            zone.records["_etcd-client._tcp.example.com"] = [
                f"0 0 {member.port} {LOOPBACK}." for member in self.servers.cluster.members
            ]
            self.zone_port = sock.getsockname()[1]
            # Served from the page's loop; queries wait in the socket until it runs.
            self.loop.create_task(self.loop.create_datagram_endpoint(lambda: zone, sock=sock))
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [LOOPBACK]
        resolver.port = self.zone_port
        resolver.lifetime = 2.0
        return resolver

    # Running.
    def run(self, block: Block, fixtures: Callable[[str], Any]) -> str:
        """Run ``block`` and return what it printed."""
        code = block.compiled()
        printed = io.StringIO()
        before = set(self.namespace)

        async def body() -> None:
            if "asyncio.run(" in block.source:
                await asyncio.to_thread(eval, code, self.namespace)
                return
            outcome = eval(code, self.namespace)
            if inspect.iscoroutine(outcome):
                await outcome

        async def bounded() -> None:
            await asyncio.wait_for(body(), BLOCK_TIMEOUT)
            for name in sorted(set(self.namespace) - before):
                test = self.namespace[name]
                if name.startswith("test_") and inspect.isfunction(test):
                    await self.call_test(test, fixtures)

        with (
            pytest.MonkeyPatch.context() as patch,
            contextlib.redirect_stdout(printed),
        ):
            patch.setattr(aio_etcd, "Client", self.client_class())
            client3 = self.client3_class()
            patch.setattr(aio_etcd, "Etcd3Client", client3)
            patch.setattr(aio_etcd.v3, "Etcd3Client", client3)
            patch.setenv("ETCD_ROOT_PASSWORD", ROOT_PASSWORD)
            patch.chdir(self.workdir)
            self.loop.run_until_complete(bounded())
        return printed.getvalue()

    async def call_test(self, test: Callable[..., Any], fixtures: Callable[[str], Any]) -> None:
        arguments: dict[str, Any] = {}
        opened: list[aio_etcd.Client | aio_etcd.Etcd3Client] = []
        for name in inspect.signature(test).parameters:
            if name == "etcd_client":
                if self.api == "v3" and self.v3_server is not None:
                    client = RealClient(port=self.v3_server.port, api="v3")
                else:
                    client = RealClient(port=self.servers.plain.port)
                opened.append(client)
                arguments[name] = client
            elif name == "etcd3_client":
                client3 = RealClient3(port=fixtures("etcd3_server").port)
                opened.append(client3)
                arguments[name] = client3
            elif name == "etcd_cluster":
                self.used_cluster = True
                arguments[name] = self.servers.cluster
            else:
                arguments[name] = fixtures(name)
        try:
            if inspect.iscoroutinefunction(test):
                await asyncio.wait_for(test(**arguments), BLOCK_TIMEOUT)
            else:
                await asyncio.to_thread(test, **arguments)
        finally:
            for each in opened:
                await each.close()
            if "etcd_cluster" in arguments:
                await asyncio.to_thread(recover, self.servers.cluster)

    # Cleaning up.
    def finish(self) -> None:
        loop = self.loop
        try:
            for client in self.clients:
                loop.run_until_complete(client.close())
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            if self.zone is not None and self.zone.transport is not None:
                self.zone.transport.close()
            loop.run_until_complete(asyncio.sleep(0))
        finally:
            loop.close()
        self._delete_new_keys(self.servers.plain, self.keys_before)
        if self.v3_server is not None and self.v3_before is not None:
            _v3_clean(self.v3_server, *self.v3_before)
        if self.used_cluster:
            recover(self.servers.cluster)

    @staticmethod
    def _top_level_keys(server: LocalEtcd) -> set[str]:
        async def keys() -> set[str]:
            async with RealClient(port=server.port) as client:
                return {node.key for node in (await client.read("/")).node.nodes or []}

        return asyncio.run(keys())

    @staticmethod
    def _delete_new_keys(server: LocalEtcd, before: set[str]) -> None:
        async def delete() -> None:
            async with RealClient(port=server.port) as client:
                for node in (await client.read("/")).node.nodes or []:
                    if node.key not in before:
                        with contextlib.suppress(aio_etcd.EtcdKeyNotFound):
                            await client.delete(node.key, recursive=True)

        asyncio.run(delete())


def _v3_state(server: LocalEtcd) -> tuple[set[bytes], set[int]]:
    """Every key and lease of a v3 server."""

    async def state() -> tuple[set[bytes], set[int]]:
        async with RealClient3(port=server.port) as client:
            keys = {kv.key for kv in (await client.get_all(keys_only=True)).kvs}
            return keys, set(await client.leases())

    return asyncio.run(state())


def _v3_clean(server: LocalEtcd, keys: set[bytes], leases: set[int]) -> None:
    """Revoke the leases and delete the keys a page left on a v3 server."""

    async def clean() -> None:
        async with RealClient3(port=server.port) as client:
            for lease in set(await client.leases()) - leases:
                with contextlib.suppress(aio_etcd.EtcdLeaseNotFound):
                    await client.revoke_lease(lease)
            for kv in (await client.get_all(keys_only=True)).kvs:
                if kv.key not in keys:
                    await client.delete(kv.key)

    asyncio.run(clean())


# -- the tests ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(etcd_server: LocalEtcd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    def no_cluster() -> LocalCluster:
        raise RuntimeError("no cluster outside a test")

    def no_v3() -> LocalEtcd:
        raise RuntimeError("no v3 server outside a test")

    found = Servers(etcd_server, tmp_path_factory.mktemp("docs-servers"), no_cluster, no_v3)
    try:
        yield found
    finally:
        found.stop()


@pytest.fixture(scope="module")
def page_runs(servers: Servers) -> Iterator[dict[str, PageRun]]:
    runs: dict[str, PageRun] = {}
    yield runs
    for run in runs.values():
        if not run.loop.is_closed():
            run.finish()


@pytest.mark.parametrize(
    ("block", "api"),
    CASES,
    ids=[block.id if api == "v2" else f"{block.id}:v3" for block, api in CASES],
)
def test_example(
    block: Block,
    api: str,
    servers: Servers,
    page_runs: dict[str, PageRun],
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    block.compiled()  # every block, run or not, must at least be Python
    skipped = block.not_run if api == "v2" else _v3_not_run(block)
    if skipped is not None:
        return
    servers.get_cluster = lambda: request.getfixturevalue("_etcd_cluster_session")
    servers.get_v3 = lambda: request.getfixturevalue("etcd3_server")
    name = block.page if api == "v2" else f"{block.page}:v3"
    run = page_runs.get(name)
    if run is None or run.loop.is_closed():
        workdir = tmp_path_factory.mktemp(Path(block.page).stem)
        run = page_runs[name] = PageRun(block.page, servers, workdir, api)
    on_page = [b for b in ALL_BLOCKS if b.page == block.page]
    runnable = [b for b in on_page if (b.not_run if api == "v2" else _v3_not_run(b)) is None]
    for earlier in runnable[: runnable.index(block)]:
        if run.failed is not None:
            break
        if earlier.line not in run.done:
            try:
                run.run(earlier, request.getfixturevalue)
            except BaseException:
                run.failed = earlier.id
            run.done.add(earlier.line)
    try:
        if run.failed is not None:
            pytest.fail(f"not run: {run.failed}, above it on the page, failed", pytrace=False)
        try:
            printed = run.run(block, request.getfixturevalue)
        except BaseException:
            run.failed = block.id
            raise
        finally:
            run.done.add(block.line)
    finally:
        if block is runnable[-1]:
            run.finish()
    if block.output is not None:
        checker = doctest.OutputChecker()
        if not checker.check_output(block.output, printed, doctest.ELLIPSIS):
            pytest.fail(
                f"{block.id} printed:\n{printed}\nand its Output block says:\n{block.output}",
                pytrace=False,
            )


def test_the_blocks_are_found() -> None:
    by_page = {block.page for block in ALL_BLOCKS}
    assert "README.md" in by_page and "docs/index.md" in by_page
    assert len(ALL_BLOCKS) > 40
    assert any(block.output is not None for block in ALL_BLOCKS)
    assert all(block.source.strip() for block in ALL_BLOCKS)


def test_the_errors_page_draws_the_real_tree() -> None:
    """The tree on docs/errors.md: every exception the package exports, each under its
    base, with its v2 error code."""
    from aio_etcd._exceptions import _BY_CODE

    lines = (DOCS / "errors.md").read_text().splitlines()
    tree = next(fence.body for fence in fences_of(lines) if fence.info == "text")
    parents: list[type[BaseException]] = []
    drawn: set[type[BaseException]] = set()
    for row in tree.splitlines():
        match = re.match(r"^(?P<lead>[│├└─ ]*)(?P<name>\w+)(?: \((?P<also>[\w.]+)\))?", row)
        if match is None or not match["name"]:
            continue
        cls = getattr(aio_etcd, match["name"])
        depth = len(match["lead"]) // 4
        del parents[depth:]
        if parents:
            assert cls.__bases__[0] is parents[-1], f"{cls.__name__} is not under {parents[-1]}"
        if match["also"]:
            assert match["also"].rsplit(".", 1)[-1] in {base.__name__ for base in cls.__mro__}
        for code in re.findall(r"\.\.\. (\d+)(?:-(\d+))?", row):
            first, last = int(code[0]), int(code[1] or code[0])
            assert all(_BY_CODE[n] is cls for n in range(first, last + 1)), row
        parents.append(cls)
        drawn.add(cls)
    exported = {
        value
        for name in aio_etcd.__all__
        if isinstance(value := getattr(aio_etcd, name), type) and issubclass(value, BaseException)
    }
    assert drawn == exported


def test_v3_pages_get_a_server_without_v2_and_are_cleaned(
    servers: Servers, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Etcd3Client at the documented address reaches etcd3_server, whose v2 API is off; the
    keys and leases a page leaves there are gone after it."""
    servers.get_v3 = lambda: request.getfixturevalue("etcd3_server")
    v3: LocalEtcd = request.getfixturevalue("etcd3_server")
    source = (
        "import aio_etcd\n"
        "client = aio_etcd.Etcd3Client(host='localhost')\n"
        "lease = await client.grant_lease(60)\n"
        "await client.put('/harness-check/left', 'behind', lease=lease.id)\n"
        "await client.put('/harness-check/also', 'behind')\n"
        "print(client.endpoints)\n"
    )
    run = PageRun("docs/v3.md", servers, tmp_path)
    printed = run.run(Block("docs/v3.md", 1, source), request.getfixturevalue)
    assert f":{v3.port}" in printed
    lease = run.namespace["lease"].id
    run.finish()

    async def after() -> tuple[int, list[int]]:
        async with RealClient(port=v3.port) as client:
            with pytest.raises(aio_etcd.EtcdAPIUnavailable):
                await client.machines()
        async with RealClient3(port=v3.port) as client3:
            left = (await client3.get_prefix("/harness-check/", count_only=True)).count
            return left, await client3.leases()

    left, leases = asyncio.run(after())
    assert left == 0 and lease not in leases
