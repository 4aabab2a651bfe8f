"""TLS with certificates made at test time, basic auth, and the auth admin API."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

import aio_etcd as etcd
from aio_etcd._server import LOOPBACK, LocalEtcd, TlsFiles
from aio_etcd.auth import Auth, EtcdRole, EtcdUser


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_files(ca: trustme.CA, directory: Path, *, client_cert_auth: bool = False) -> TlsFiles:
    server = ca.issue_cert(LOOPBACK, "localhost")
    server.private_key_and_cert_chain_pem.write_to_path(str(directory / "server.pem"))
    server.cert_chain_pems[0].write_to_path(str(directory / "server.crt"))
    server.private_key_pem.write_to_path(str(directory / "server.key"))
    ca.cert_pem.write_to_path(str(directory / "ca.crt"))
    return TlsFiles(
        directory / "server.crt", directory / "server.key", directory / "ca.crt", client_cert_auth
    )


@pytest.fixture(scope="module")
def tls_server(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEtcd]:
    files = tls_files(ca, tmp_path_factory.mktemp("tls"))
    with LocalEtcd(name="tls", tls=files) as server:
        yield server


@pytest.fixture(scope="module")
def mtls_server(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEtcd]:
    files = tls_files(ca, tmp_path_factory.mktemp("mtls"), client_cert_auth=True)
    with LocalEtcd(name="mtls", tls=files) as server:
        yield server


async def test_https_with_the_right_ca(tls_server: LocalEtcd) -> None:
    assert tls_server.tls is not None
    async with etcd.Client(
        port=tls_server.port, protocol="https", ca_cert=str(tls_server.tls.ca)
    ) as client:
        await client.write("/t/tls", "secret")
        assert (await client.read("/t/tls")).value == "secret"
        assert client.base_uri.startswith("https://")


async def test_https_fails_closed_without_the_ca(tls_server: LocalEtcd, tmp_path: Path) -> None:
    other = trustme.CA()
    other.cert_pem.write_to_path(str(tmp_path / "other.crt"))
    for ca_cert in (None, str(tmp_path / "other.crt")):
        async with etcd.Client(port=tls_server.port, protocol="https", ca_cert=ca_cert) as client:
            with pytest.raises(etcd.EtcdTLSFailed, match="TLS") as caught:
                await client.read("/")
            assert isinstance(caught.value, etcd.EtcdConnectionFailed)
    async with etcd.Client(port=tls_server.port, protocol="https", ssl_verify=False) as unsafe:
        await unsafe.read("/")  # asked for: no verification


async def test_the_host_name_is_checked(ca: trustme.CA, tmp_path: Path) -> None:
    elsewhere = ca.issue_cert("etcd.example")  # valid, trusted, but not for 127.0.0.1
    elsewhere.cert_chain_pems[0].write_to_path(str(tmp_path / "s.crt"))
    elsewhere.private_key_pem.write_to_path(str(tmp_path / "s.key"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.crt"))
    files = TlsFiles(tmp_path / "s.crt", tmp_path / "s.key", tmp_path / "ca.crt")
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with LocalEtcd(name="misnamed", tls=files) as server:
        async with etcd.Client(port=server.port, protocol="https", ssl_context=context) as client:
            with pytest.raises(etcd.EtcdTLSFailed, match=r"(?i)hostname|match"):
                await client.read("/")


async def test_client_certificates(mtls_server: LocalEtcd, ca: trustme.CA, tmp_path: Path) -> None:
    assert mtls_server.tls is not None
    ca_file = str(mtls_server.tls.ca)
    async with etcd.Client(port=mtls_server.port, protocol="https", ca_cert=ca_file) as anonymous:
        with pytest.raises(etcd.EtcdTLSFailed):
            await anonymous.read("/")

    client_cert = ca.issue_cert("client.example")
    client_cert.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "client.pem"))
    client_cert.cert_chain_pems[0].write_to_path(str(tmp_path / "client.crt"))
    client_cert.private_key_pem.write_to_path(str(tmp_path / "client.key"))
    for cert in (
        str(tmp_path / "client.pem"),
        (str(tmp_path / "client.crt"), str(tmp_path / "client.key")),
    ):
        async with etcd.Client(
            port=mtls_server.port, protocol="https", ca_cert=ca_file, cert=cert
        ) as client:
            await client.write("/t/mtls", "ok")


def test_tls_arguments_are_checked_first(tmp_path: Path) -> None:
    with pytest.raises(etcd.EtcdValueError, match="ca_cert"):
        etcd.Client(protocol="https", ca_cert=str(tmp_path / "missing.crt"))
    with pytest.raises(etcd.EtcdValueError, match="https"):
        etcd.Client(ca_cert="ca.crt")
    with pytest.raises(TypeError, match="ssl_verify"):
        etcd.Client(protocol="https", ssl_verify="no")  # type: ignore[arg-type]


ROOT_PASSWORD = "r00t-S3cret!"
READER_PASSWORD = "Rd-pa55word"


@pytest.fixture(scope="module", params=["v2", "v3"], ids=["v2", "v3"])
def api(request: pytest.FixtureRequest) -> str:
    """The API of the case, for the whole module: each API has its own secured server."""
    return str(request.param)


def user_client(server: LocalEtcd, api: str, username: str, password: str) -> etcd.Client:
    return etcd.Client(port=server.port, api=api, username=username, password=password)


async def secure(server: LocalEtcd, api: str) -> None:
    """Auth on, a root user, guest unable to do anything, a read-only user."""
    async with etcd.Client(port=server.port, api=api) as anonymous:
        root = EtcdUser(anonymous, "root")
        root.password = ROOT_PASSWORD
        await root.write()
        await Auth(anonymous).set_active(True)
    async with user_client(server, api, "root", ROOT_PASSWORD) as admin:
        assert await Auth(admin).get_active() is True
        await admin.write("/app/config", "v1")
        guest = EtcdRole(admin, "guest")
        if api == "v3":
            # v3 has no guest: requests without credentials are refused once auth is on.
            with pytest.raises(etcd.EtcdAPIUnavailable, match="no guest role"):
                await guest.read()
        else:
            await guest.read()
            assert guest.acls == {"/*": "RW"}  # what etcd grants guest when auth is turned on
            guest.revoke("/*", "RW")
            await guest.write()
        reader = EtcdRole(admin, "reader")
        reader.grant("/app/*", "R")
        await reader.write()
        alice = EtcdUser(admin, "alice")
        alice.password = READER_PASSWORD
        alice.roles = ["reader"]
        await alice.write()


@pytest.fixture(scope="module")
def secured(api: str) -> Iterator[LocalEtcd]:
    with LocalEtcd(name=f"auth-{api}", enable_v2=api == "v2") as server:
        asyncio.run(secure(server, api))
        yield server


async def test_credentials_are_checked(secured: LocalEtcd, api: str) -> None:
    async with user_client(secured, api, "root", ROOT_PASSWORD) as root:
        assert (await root.read("/app/config")).value == "v1"
    for username, password in (("root", "wrong"), ("nobody", "x")):
        async with etcd.Client(
            port=secured.port, api=api, username=username, password=password
        ) as bad:
            with pytest.raises(etcd.EtcdInsufficientPermissions) as caught:
                await bad.read("/app/config")
            # v3 refuses a login with gRPC InvalidArgument (HTTP 400), v2 each request (401).
            assert caught.value.status == (401 if api == "v2" else 400)
    async with etcd.Client(port=secured.port, api=api) as anonymous:
        with pytest.raises(etcd.EtcdInsufficientPermissions):
            await anonymous.read("/app/config")


async def test_a_read_only_role_reads_and_cannot_write(secured: LocalEtcd, api: str) -> None:
    async with user_client(secured, api, "alice", READER_PASSWORD) as alice:
        assert (await alice.read("/app/config")).value == "v1"
        with pytest.raises(etcd.EtcdInsufficientPermissions):
            await alice.write("/app/config", "v2")
        with pytest.raises(etcd.EtcdInsufficientPermissions):
            # The admin API is root's; v3 lets a user read itself (etcd's UserGet).
            await EtcdUser(alice, "alice" if api == "v2" else "root").read()

        # Watches carry the credentials too.
        now = (await alice.read("/app/config")).etcd_index
        assert now is not None
        async with alice.watch_iter("/app/config", index=now + 1) as changes:
            async with etcd.Client(
                port=secured.port, api=api, username="root", password=ROOT_PASSWORD
            ) as root:
                written = await root.write("/app/config", "v1")
            event = await asyncio.wait_for(anext(changes), 5)
        assert event.modified_index == written.modified_index


async def test_the_password_never_shows(
    secured: LocalEtcd, api: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    async with user_client(secured, api, "alice", READER_PASSWORD) as alice:
        shown += [repr(alice), str(alice)]
        await alice.read("/app/config")
        watching = alice.watch_iter("/app/config")
        shown.append(repr(watching))
        await watching.aclose()
        try:
            await alice.write("/app/config", "denied")
        except etcd.EtcdException as error:
            shown += [str(error), repr(error), repr(error.payload)]
    async with etcd.Client(
        port=secured.port, api=api, username="alice", password="wrong-" + READER_PASSWORD
    ) as bad:
        try:
            await bad.read("/app/config")
        except etcd.EtcdException as error:
            shown += [str(error), repr(error)]
    shown += [record.getMessage() for record in caplog.records]
    shown.append(caplog.text)
    assert len(shown) > 5
    assert not any(READER_PASSWORD in text for text in shown)


async def test_users_and_roles_round_trip(secured: LocalEtcd, api: str) -> None:
    async with user_client(secured, api, "root", ROOT_PASSWORD) as root:
        role = EtcdRole(root, "writer")
        role.grant("/app/w/*", "RW")
        role.grant("/app/r/*", "R")
        await role.write()
        loaded = EtcdRole(root, "writer")
        await loaded.read()
        assert loaded.acls == {"/app/r/*": "R", "/app/w/*": "RW"}
        loaded.revoke("/app/w/*", "W")
        loaded.grant("/app/x", "W")
        await loaded.write()
        again = EtcdRole(root, "writer")
        await again.read()
        assert again.acls == {"/app/r/*": "R", "/app/w/*": "R", "/app/x": "W"}
        assert "writer" in await again.get_names()

        bob = EtcdUser(root, "bob")
        bob.password = "first-password"
        bob.roles = {"writer"}
        await bob.write()
        assert bob.password is None
        bob.roles = {"reader"}
        bob.password = "second-password"
        await bob.write()
        loaded_bob = EtcdUser(root, "bob")
        await loaded_bob.read()
        assert loaded_bob.roles == {"reader"}
        assert "bob" in await loaded_bob.get_names()
        async with user_client(secured, api, "bob", "second-password") as b:
            assert (await b.read("/app/config")).value == "v1"

        await bob.delete()
        await role.delete()
        with pytest.raises(etcd.EtcdKeyNotFound):
            await EtcdUser(root, "bob").read()
        with pytest.raises(etcd.EtcdKeyNotFound):
            await EtcdRole(root, "writer").read()


async def test_a_role_on_every_key_can_be_granted_and_revoked(secured: LocalEtcd, api: str) -> None:
    """``*`` is a pattern etcd stores and matches against every key, as python-etcd and
    aio_etcd 0.4 let roles use it."""
    async with user_client(secured, api, "root", ROOT_PASSWORD) as root:
        everything = EtcdRole(root, "everything")
        everything.acls = {"*": "RW"}
        everything.revoke("*", "W")
        await everything.write()
        carol = EtcdUser(root, "carol")
        carol.password = "carol-pa55word"
        carol.roles = ["everything"]
        await carol.write()
        loaded = EtcdRole(root, "everything")
        await loaded.read()
        assert loaded.acls == {"*": "R"}
        async with etcd.Client(
            port=secured.port, api=api, username="carol", password="carol-pa55word"
        ) as client:
            assert (await client.read("/app/config")).value == "v1"
            loaded.revoke("*", "R")
            await loaded.write()
            again = EtcdRole(root, "everything")
            await again.read()
            assert again.acls == {}
            with pytest.raises(etcd.EtcdInsufficientPermissions):
                await client.read("/app/config")
        await carol.delete()
        await loaded.delete()


def test_auth_arguments_are_checked_first() -> None:
    with pytest.raises(etcd.EtcdValueError, match="username"):
        etcd.Client(username="a:b", password="x")
    with pytest.raises(TypeError, match="password"):
        etcd.Client(username="a")
    client = etcd.Client()
    with pytest.raises(etcd.EtcdValueError, match="permission"):
        EtcdRole(client, "r").grant("/k", "X")
    with pytest.raises(etcd.EtcdValueError, match="path"):
        EtcdRole(client, "r").grant("k", "R")
