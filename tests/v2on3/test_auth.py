"""aio_etcd.auth on v3 auth: what etcdctl and the typed v3 client see of v2 users and roles."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd
from aio_etcd.auth import Auth, EtcdRole, EtcdUser

ROOT = ("root", "v3-r00t-pass")


async def _secure(server: LocalEtcd) -> None:
    async with etcd.Client(port=server.port, api="v3") as anonymous:
        root = EtcdUser(anonymous, "root")
        root.password = ROOT[1]
        await root.write()
        # v3 enables auth only for a root user with the role root: writing root granted it.
        await Auth(anonymous).set_active(True)


@pytest.fixture(scope="module")
def secured() -> Iterator[LocalEtcd]:
    with LocalEtcd(name="auth-v2on3", enable_v2=False) as server:
        asyncio.run(_secure(server))
        yield server


def as_user(server: LocalEtcd, name: str, password: str) -> etcd.Client:
    return etcd.Client(port=server.port, api="v3", username=name, password=password)


async def test_patterns_are_v3_key_ranges(secured: LocalEtcd) -> None:
    async with (
        as_user(secured, *ROOT) as root,
        etcd.Etcd3Client(port=secured.port, username=ROOT[0], password=ROOT[1]) as v3,
    ):
        assert await Auth(root).get_active() is True
        loaded_root = EtcdUser(root, "root")
        await loaded_root.read()
        assert loaded_root.roles == {"root"}

        role = EtcdRole(root, "patterns")
        role.acls = {"/one/key": "R", "/tree/*": "RW", "*": "W"}
        await role.write()
        perms = {(p.key, p.range_end, p.perm_type) for p in await v3.auth.role_get("patterns")}
        assert perms == {
            (b"/one/key", b"", "READ"),
            (b"/tree/", b"/tree0", "READWRITE"),
            (b"\x00", b"\x00", "WRITE"),
        }
        # Taking W from RW leaves READ; taking the last right removes the permission.
        role.revoke("/tree/*", "W")
        role.revoke("*", "W")
        await role.write()
        perms = {(p.key, p.range_end, p.perm_type) for p in await v3.auth.role_get("patterns")}
        assert perms == {(b"/one/key", b"", "READ"), (b"/tree/", b"/tree0", "READ")}
        again = EtcdRole(root, "patterns")
        await again.read()
        assert again.acls == {"/one/key": "R", "/tree/*": "R"}
        await again.delete()
        with pytest.raises(etcd.EtcdKeyNotFound):
            await EtcdRole(root, "patterns").read()


async def test_a_user_limited_to_a_prefix_writes_below_it(secured: LocalEtcd) -> None:
    """v2's ``/app/w/*`` does not cover ``/app`` nor ``/app/w``: the checks of the keys
    above are left out for such a user, and the calls work."""
    async with as_user(secured, *ROOT) as root:
        role = EtcdRole(root, "app-writer")
        role.grant("/app/w/*", "RW")
        await role.write()
        dave = EtcdUser(root, "dave")
        dave.password = "dave-pa55"
        dave.roles = {"app-writer"}
        await dave.write()
        async with as_user(secured, "dave", "dave-pa55") as client:
            written = await client.write("/app/w/x", "mine", prevExist=False)
            assert written.action == "create"
            assert (await client.read("/app/w/x")).value == "mine"
            with pytest.raises(etcd.EtcdInsufficientPermissions):
                await client.read("/app/w")  # the key /app/w itself is not below /app/w/
            with pytest.raises(etcd.EtcdKeyNotFound):
                await client.read("/app/w/missing")
            with pytest.raises(etcd.EtcdInsufficientPermissions):
                await client.write("/app/other", "not mine")
            await client.delete("/app/w/x")
        await dave.delete()
        await role.delete()


async def test_guest_has_no_v3_equivalent(secured: LocalEtcd) -> None:
    async with as_user(secured, *ROOT) as root:
        for call in (EtcdRole(root, "guest").read(), EtcdRole(root, "guest").delete()):
            with pytest.raises(etcd.EtcdAPIUnavailable, match="no guest role"):
                await call
        user = EtcdUser(root, "guesty")
        user.password = "x-pa55"
        user.roles = {"guest"}
        with pytest.raises(etcd.EtcdAPIUnavailable, match="no guest role"):
            await user.write()
        await EtcdUser(root, "guesty").delete()
    async with etcd.Client(port=secured.port, api="v3") as anonymous:
        with pytest.raises(etcd.EtcdInsufficientPermissions):
            await anonymous.read("/app")


async def test_one_login_serves_every_call(secured: LocalEtcd) -> None:
    """The password is checked once, for a token; v2 checked it (bcrypt) on every call."""
    async with as_user(secured, *ROOT) as root:
        await root.write("/login/k", "v")
        token = root._backend._gateway.tokens.token  # type: ignore[attr-defined]
        assert token
        for _ in range(5):
            await root.read("/login/k")
        assert root._backend._gateway.tokens.token == token  # type: ignore[attr-defined]


TOKEN_TTL = 2
"""Seconds a token may stay unused (``--auth-token-ttl``) on ``short_tokens``."""


@pytest.fixture(scope="module")
def short_tokens() -> Iterator[LocalEtcd]:
    extra = (f"--auth-token-ttl={TOKEN_TTL}",)
    with LocalEtcd(name="tokens-v2on3", enable_v2=False, extra_args=extra) as server:
        asyncio.run(_secure(server))
        yield server


class Cutter:
    """Passes connections on to etcd, and cuts them all at once when told."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.ends: set[asyncio.StreamWriter] = set()
        self.handlers: set[asyncio.Task[object]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self.handlers.add(handler)
        self.ends.add(writer)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.ends |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self.ends -= {writer, up_writer}
        self.handlers.discard(handler)

    def cut(self) -> None:
        for end in self.ends:
            end.transport.abort()

    async def aclose(self) -> None:
        """Cut every connection, and wait until each is let go of."""
        self.cut()
        await asyncio.gather(*self.handlers, return_exceptions=True)


async def test_a_watch_goes_on_after_its_token_expired(short_tokens: LocalEtcd) -> None:
    """The stream outlives its token; when it must be made again once the token expired, a
    new token is taken and the watch goes on from the next index, nothing skipped or twice.
    (A restart would not do: etcd replays its log, simple tokens included.)"""
    cutter = Cutter(short_tokens.port)
    try:
        async with (
            await asyncio.start_server(cutter.handle, "127.0.0.1", 0) as between,
            etcd.Client(
                port=between.sockets[0].getsockname()[1],
                api="v3",
                username=ROOT[0],
                password=ROOT[1],
            ) as watcher,
            as_user(short_tokens, *ROOT) as writer,
        ):
            first = await writer.write("/expiring/k", "0")
            written = [first.modifiedIndex]
            seen: list[int] = []
            async with watcher.watch_iter("/expiring", recursive=True, index=written[0]) as changes:
                for value in ("1", "2"):
                    written.append((await writer.write("/expiring/k", value)).modifiedIndex)
                while len(seen) < 3:
                    seen.append((await asyncio.wait_for(anext(changes), 5)).modifiedIndex)
                token = watcher._backend._gateway.tokens.token  # type: ignore[attr-defined]
                await asyncio.sleep(TOKEN_TTL + 1.5)  # the token expires, unused
                cutter.cut()
                for value in ("3", "4"):
                    written.append((await writer.write("/expiring/k", value)).modifiedIndex)
                while len(seen) < 5:
                    seen.append((await asyncio.wait_for(anext(changes), 10)).modifiedIndex)
                renewed = watcher._backend._gateway.tokens.token  # type: ignore[attr-defined]
                assert renewed not in (None, token)
            assert seen == written
    finally:
        await cutter.aclose()


class _Recording(etcd.LeanTransport):
    """The default transport, noting the v3 path of every request and stream."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    async def request(self, method: str, url: str, **kwargs: Any) -> etcd.HttpResponse:
        self.paths.append(url.split("/v3/", 1)[-1])
        return await super().request(method, url, **kwargs)

    def stream(self, method: str, url: str, **kwargs: Any) -> Any:
        self.paths.append(url.split("/v3/", 1)[-1])
        return super().stream(method, url, **kwargs)


async def test_a_watch_refused_for_its_expired_token_takes_a_new_one(
    short_tokens: LocalEtcd,
) -> None:
    """A watch made when the token has expired, before any other call could renew it: etcd
    creates the stream and cancels it at once, naming the token; the watch takes a new token
    and is made again."""
    transport = _Recording()
    async with (
        etcd.Client(
            port=short_tokens.port,
            api="v3",
            username=ROOT[0],
            password=ROOT[1],
            transport=transport,
        ) as watcher,
        as_user(short_tokens, *ROOT) as writer,
    ):
        start = (await watcher.write("/stale-watch/k", "0")).modifiedIndex
        token = watcher._backend._gateway.tokens.token  # type: ignore[attr-defined]
        await asyncio.sleep(TOKEN_TTL + 1.5)  # the token expires, unused
        del transport.paths[:]
        async with watcher.watch_iter("/stale-watch", recursive=True, index=start) as changes:
            first = await asyncio.wait_for(anext(changes), 10)
            later = await writer.write("/stale-watch/k", "1")
            second = await asyncio.wait_for(anext(changes), 10)
        assert (first.modifiedIndex, second.modifiedIndex) == (start, later.modifiedIndex)
        assert transport.paths == ["watch", "auth/authenticate", "watch"]
        assert watcher._backend._gateway.tokens.token not in (None, token)  # type: ignore[attr-defined]
