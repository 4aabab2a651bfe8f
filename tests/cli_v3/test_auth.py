"""``user``, ``role`` and ``auth`` compared with etcdctl's, in every output format.

Users and roles live on the shared v2-off etcd under names of each test's own; ``auth
enable/disable`` run on an etcd of this module's own, since they change what every client
must send. Before each side runs, ``setup`` puts the users and roles back as the case needs
them, so both commands meet the same state.

Normalisers: ``revisions`` (the header's revision, relative to the case's start).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import urllib.error
import uuid
from collections.abc import Callable, Iterator

import pytest

import aio_etcd
from aio_etcd._server import LocalEtcd
from tests.cli_v3 import _compare
from tests.cli_v3._compare import Gateway, compare, etcdctl, revisions
from tests.cli_v3._inprocess import in_process

pytestmark = pytest.mark.etcdctl


@pytest.fixture(autouse=True)
def _aio_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    in_process(monkeypatch)


def test_the_program_itself(url: str, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One case through ``python -m aio_etcd`` in a process of its own."""
    monkeypatch.undo()
    compare(url, "role", "get", name, "-w", "fields", setup=fresh_role(name, *PERMS))
    no_role(name)(Gateway(url))


FORMATS = ("simple", "json", "fields", "table")


@pytest.fixture
def name() -> str:
    """A user or role name no other test uses."""
    return f"c3-{uuid.uuid4().hex[:10]}"


def quietly(gateway: Gateway, path: str, body: dict[str, object]) -> None:
    """A call whose refusal (the user or role is not there) is fine."""
    with contextlib.suppress(urllib.error.HTTPError):
        gateway.call(path, body)


def fresh_user(name: str, *roles: str) -> Callable[[Gateway], None]:
    def setup(gateway: Gateway) -> None:
        quietly(gateway, "auth/user/delete", {"name": name})
        gateway.call("auth/user/add", {"name": name, "password": "pw"})
        for role in roles:
            gateway.call("auth/user/grant", {"user": name, "role": role})

    return setup


def fresh_role(name: str, *perms: dict[str, object]) -> Callable[[Gateway], None]:
    def setup(gateway: Gateway) -> None:
        quietly(gateway, "auth/role/delete", {"role": name})
        gateway.call("auth/role/add", {"name": name})
        for perm in perms:
            gateway.call("auth/role/grant", {"name": name, "perm": perm})

    return setup


def no_user(name: str) -> Callable[[Gateway], None]:
    return lambda gateway: quietly(gateway, "auth/user/delete", {"name": name})


def no_role(name: str) -> Callable[[Gateway], None]:
    return lambda gateway: quietly(gateway, "auth/role/delete", {"role": name})


def both(*steps: Callable[[Gateway], None]) -> Callable[[Gateway], None]:
    def setup(gateway: Gateway) -> None:
        for step in steps:
            step(gateway)

    return setup


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


PERMS: tuple[dict[str, object], ...] = (
    {"permType": "READ", "key": b64("/a")},
    {"permType": "READWRITE", "key": b64("/p"), "range_end": b64("/q")},
    {"permType": "WRITE", "key": b64("/f"), "range_end": b64("\0")},
    {"permType": "WRITE", "key": b64("/r"), "range_end": b64("/t")},
)
"""A read of one key, a prefix read-write, an open-ended write and a range write."""


@pytest.fixture
def cleanup(url: str, name: str) -> Iterator[None]:
    yield
    no_user(name)(Gateway(url))
    no_role(name)(Gateway(url))


# -- users --------------------------------------------------------------------------------


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_user_add(url: str, name: str, write_out: str) -> None:
    compare(
        url,
        "user",
        "add",
        f"{name}:pw",
        "-w",
        write_out,
        setup=no_user(name),
        normalise=[revisions],
    )


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize(
    "how",
    [("--new-user-password=s3cret",), ("--interactive=false",), ("--no-password",)],
    ids=["flag", "stdin", "no-password"],
)
def test_user_add_password_sources(url: str, name: str, how: tuple[str, ...]) -> None:
    compare(url, "user", "add", name, *how, setup=no_user(name), input="s3cret\n")


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("command", ["add", "passwd"])
def test_user_password_without_a_terminal(url: str, name: str, command: str) -> None:
    """Listed in docs/cli.md: both fail with exit 128; aio-etcd says how to give one."""
    endpoint = url.removeprefix("http://")
    fresh_user(name)(Gateway(url))
    theirs = etcdctl(endpoint, "user", command, f"{name}-new" if command == "add" else name)
    ours = _compare.aio(endpoint, "user", command, f"{name}-new" if command == "add" else name)
    no_user(f"{name}-new")(Gateway(url))
    assert theirs.code == ours.code == 128
    assert "no terminal to ask for the password" in ours.first_err


@pytest.mark.usefixtures("cleanup")
def test_user_add_twice_and_bad_names(url: str, name: str) -> None:
    compare(url, "user", "add", f"{name}:pw", setup=fresh_user(name))
    compare(url, "user", "add", ":pw")
    compare(url, "user", "add")


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_user_get(url: str, name: str, write_out: str) -> None:
    role = f"{name}-r"
    setup = both(fresh_role(role, *PERMS), fresh_user(name, role))
    try:
        compare(url, "user", "get", name, "-w", write_out, setup=setup, normalise=[revisions])
        compare(
            url,
            "user",
            "get",
            name,
            "--detail",
            "-w",
            write_out,
            setup=setup,
            normalise=[revisions],
        )
    finally:
        no_role(role)(Gateway(url))


@pytest.mark.usefixtures("cleanup")
def test_user_get_errors(url: str, name: str) -> None:
    compare(url, "user", "get", name, setup=no_user(name))
    compare(url, "user", "get")


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_user_list(url: str, name: str, write_out: str) -> None:
    compare(url, "user", "list", "-w", write_out, setup=fresh_user(name), normalise=[revisions])


def test_user_list_json_escapes_as_go_does(url: str, name: str) -> None:
    """Go's ``json.Marshal`` writes ``<``, ``>``, ``&`` and U+2028/U+2029 as ``\\uXXXX``."""
    odd = f"{name}<&>\u2028\u2029é"
    try:
        compare(url, "user", "list", "-w", "json", setup=fresh_user(odd), normalise=[revisions])
    finally:
        no_user(odd)(Gateway(url))


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_user_delete(url: str, name: str, write_out: str) -> None:
    compare(
        url, "user", "delete", name, "-w", write_out, setup=fresh_user(name), normalise=[revisions]
    )


@pytest.mark.usefixtures("cleanup")
def test_user_delete_a_missing_user(url: str, name: str) -> None:
    compare(url, "user", "delete", name, setup=no_user(name))


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_user_passwd(url: str, name: str, write_out: str) -> None:
    compare(
        url,
        "user",
        "passwd",
        name,
        "--interactive=false",
        "-w",
        write_out,
        setup=fresh_user(name),
        input="n3w-pass\n",
        normalise=[revisions],
    )


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_user_grant_and_revoke_role(url: str, name: str, write_out: str) -> None:
    role = f"{name}-r"
    try:
        compare(
            url,
            "user",
            "grant-role",
            name,
            role,
            "-w",
            write_out,
            setup=both(fresh_role(role), fresh_user(name)),
            normalise=[revisions],
        )
        compare(
            url,
            "user",
            "revoke-role",
            name,
            role,
            "-w",
            write_out,
            setup=both(fresh_role(role), fresh_user(name, role)),
            normalise=[revisions],
        )
    finally:
        no_role(role)(Gateway(url))


@pytest.mark.usefixtures("cleanup")
def test_user_role_errors(url: str, name: str) -> None:
    compare(url, "user", "grant-role", name, f"{name}-missing", setup=fresh_user(name))
    compare(url, "user", "revoke-role", name, f"{name}-missing", setup=fresh_user(name))
    compare(url, "user", "grant-role", name)
    compare(url, "user", "revoke-role")


# -- roles --------------------------------------------------------------------------------


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_role_add(url: str, name: str, write_out: str) -> None:
    compare(url, "role", "add", name, "-w", write_out, setup=no_role(name), normalise=[revisions])


@pytest.mark.usefixtures("cleanup")
def test_role_add_errors(url: str, name: str) -> None:
    compare(url, "role", "add", name, setup=fresh_role(name))
    compare(url, "role", "add")


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_role_get(url: str, name: str, write_out: str) -> None:
    setup = fresh_role(name, *PERMS)
    compare(url, "role", "get", name, "-w", write_out, setup=setup, normalise=[revisions])


@pytest.mark.usefixtures("cleanup")
def test_role_get_errors(url: str, name: str) -> None:
    compare(url, "role", "get", name, setup=no_role(name))
    compare(url, "role", "get")


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_role_list(url: str, name: str, write_out: str) -> None:
    compare(url, "role", "list", "-w", write_out, setup=fresh_role(name), normalise=[revisions])


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_role_delete(url: str, name: str, write_out: str) -> None:
    compare(
        url, "role", "delete", name, "-w", write_out, setup=fresh_role(name), normalise=[revisions]
    )


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_role_grant_permission(url: str, name: str, write_out: str) -> None:
    compare(
        url,
        "role",
        "grant-permission",
        name,
        "readwrite",
        "/k",
        "-w",
        write_out,
        setup=fresh_role(name),
        normalise=[revisions],
    )


RANGES = {
    "key": ("/k",),
    "range": ("/k", "/m"),
    "prefix": ("/k", "--prefix"),
    "from-key": ("/k", "--from-key"),
    "all-prefix": ("", "--prefix"),
    "all-from-key": ("", "--from-key"),
}


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("keys", RANGES.values(), ids=RANGES.keys())
def test_role_grant_and_revoke_ranges(url: str, name: str, keys: tuple[str, ...]) -> None:
    """Each way to name keys: the grant is printed alike, grants what etcdctl grants (the
    ``role get`` after etcdctl's grant and after ours print the same), and is revoked alike."""
    grant = ("role", "grant-permission", name, "write", *keys)
    compare(url, *grant, setup=fresh_role(name))
    grants = iter((etcdctl, _compare.aio))

    def granted_by_each(gateway: Gateway) -> None:
        fresh_role(name)(gateway)
        assert next(grants)(gateway.url.removeprefix("http://"), *grant).code == 0

    compare(url, "role", "get", name, setup=granted_by_each)
    grants = iter((etcdctl, etcdctl))
    compare(url, "role", "revoke-permission", name, *keys, setup=granted_by_each)


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize("write_out", FORMATS)
def test_role_revoke_permission(url: str, name: str, write_out: str) -> None:
    compare(
        url,
        "role",
        "revoke-permission",
        name,
        "/p",
        "/q",
        "-w",
        write_out,
        setup=fresh_role(name, *PERMS),
        normalise=[revisions],
    )


@pytest.mark.usefixtures("cleanup")
@pytest.mark.parametrize(
    "args",
    [
        (),
        ("r",),
        ("r", "bogus", "/a"),
        ("r", "read", "/a", "/b", "--prefix"),
        ("r", "read", "/a", "/b", "--from-key"),
        ("r", "read", "/a", "--prefix", "--from-key"),
        ("r", "read", "", "--prefix", "--from-key"),
    ],
)
def test_role_grant_permission_bad_args(url: str, args: tuple[str, ...]) -> None:
    compare(url, "role", "grant-permission", *args)


@pytest.mark.usefixtures("cleanup")
def test_role_revoke_errors(url: str, name: str) -> None:
    compare(url, "role", "revoke-permission", name, "/nothing", setup=fresh_role(name))
    compare(url, "role", "revoke-permission", name, "/a", setup=no_role(name))
    compare(url, "role", "revoke-permission", name)


# -- auth enable/disable, on an etcd of this module's own --------------------------------


ROOT = "r00t-pass"


@pytest.fixture(scope="module")
def auth_url() -> Iterator[str]:
    with LocalEtcd(enable_v2=False, name="cli3-auth") as server:
        yield server.client_url


def auth_state(url: str, *, enabled: bool, root: bool, root_role: bool) -> Callable[[], None]:
    """Auth off or on, with or without a user root, with or without the role root."""

    async def put_back() -> None:
        port = int(url.rsplit(":", 1)[1])
        async with aio_etcd.Etcd3Client(port=port, username="root", password=ROOT) as admin:
            with contextlib.suppress(aio_etcd.EtcdException):
                await admin.auth.disable()  # unless auth was off, or there is no root yet
        async with aio_etcd.Etcd3Client(port=port) as client:
            for call in (client.auth.user_delete("root"), client.auth.role_delete("root")):
                with contextlib.suppress(aio_etcd.EtcdException):
                    await call
            if root:
                await client.auth.user_add("root", ROOT)
            if root_role:
                await client.auth.user_grant_role("root", "root")
            if enabled:
                await client.auth.enable()

    return lambda: asyncio.run(put_back())


def compare_auth(url: str, *args: str, setup: Callable[[], None]) -> None:
    """As :func:`~tests.cli_v3._compare.compare`, without its reads of the store, which
    auth, once on, refuses without a user."""
    endpoint = url.removeprefix("http://")
    sides = []
    for runner in (etcdctl, _compare.aio):
        setup()
        sides.append(runner(endpoint, *args))
    theirs, ours = sides
    assert (ours.out, ours.first_err, ours.code) == (theirs.out, theirs.first_err, theirs.code)


@pytest.mark.parametrize("write_out", FORMATS)
def test_auth_enable(auth_url: str, write_out: str) -> None:
    state = auth_state(auth_url, enabled=False, root=True, root_role=True)
    try:
        compare_auth(auth_url, "auth", "enable", "-w", write_out, setup=state)
    finally:
        auth_state(auth_url, enabled=False, root=False, root_role=False)()


def test_auth_enable_gives_root_its_role(auth_url: str) -> None:
    """As etcdctl: a root user without the role root gets it, and auth goes on."""
    try:
        compare_auth(
            auth_url,
            "auth",
            "enable",
            setup=auth_state(auth_url, enabled=False, root=True, root_role=False),
        )
        compare_auth(
            auth_url,
            "auth",
            "enable",
            setup=auth_state(auth_url, enabled=False, root=False, root_role=False),
        )
    finally:
        auth_state(auth_url, enabled=False, root=False, root_role=False)()


@pytest.mark.parametrize("write_out", FORMATS)
def test_auth_disable(auth_url: str, write_out: str) -> None:
    state = auth_state(auth_url, enabled=True, root=True, root_role=True)
    try:
        compare_auth(
            auth_url, f"--user=root:{ROOT}", "auth", "disable", "-w", write_out, setup=state
        )
        compare_auth(auth_url, "auth", "disable", "extra", setup=lambda: None)
    finally:
        auth_state(auth_url, enabled=False, root=False, root_role=False)()


# -- auth status: a read, so the two runs meet the same state without a setup between -----


@pytest.fixture(scope="module")
def auth_status_served(etcd3_server: LocalEtcd) -> bool:
    """Whether the servers of this module (one etcd binary) have AuthStatus (etcd >= 3.5)."""
    version = str(Gateway(etcd3_server.client_url).call("maintenance/status", {})["version"])
    return tuple(int(part) for part in version.split(".")[:2]) >= (3, 5)


def compare_status(url: str, served: bool, *args: str) -> None:
    """``auth status`` compared byte for byte; on etcd 3.4, which has no AuthStatus, both
    fail (exit 1): etcdctl with gRPC's ``Unimplemented``, aio-etcd saying what it needs."""
    if served:
        compare_auth(url, *args, setup=lambda: None)
        return
    endpoint = url.removeprefix("http://")
    theirs, ours = etcdctl(endpoint, *args), _compare.aio(endpoint, *args)
    assert "unknown method AuthStatus" in theirs.first_err and theirs.code == 1
    assert (ours.out, ours.first_err, ours.code) == (
        "",
        "Error: auth status needs etcd 3.5 or later: the server has no /v3/auth/status "
        "(etcd 3.4 has none)",
        1,
    )


@pytest.mark.parametrize("write_out", FORMATS)
def test_auth_status(url: str, auth_status_served: bool, write_out: str) -> None:
    """Auth off: ``enabled`` left out of the JSON. Only simple and JSON: etcdctl refuses
    fields and table (exit 4)."""
    compare_status(url, auth_status_served, "auth", "status", "-w", write_out)


def test_auth_status_takes_no_arguments(url: str) -> None:
    compare(url, "auth", "status", "extra")


@pytest.mark.parametrize("write_out", FORMATS)
def test_auth_status_with_auth_on(auth_url: str, auth_status_served: bool, write_out: str) -> None:
    """As root and as a user with no role (AuthStatus needs no permission), and without a
    user, which etcd refuses (``user name is empty``, exit 1)."""

    async def add_user() -> None:
        port = int(auth_url.rsplit(":", 1)[1])
        async with aio_etcd.Etcd3Client(port=port, username="root", password=ROOT) as admin:
            await admin.auth.user_add("c3-nobody", "pw")

    auth_state(auth_url, enabled=True, root=True, root_role=True)()
    try:
        asyncio.run(add_user())
        for user in (f"--user=root:{ROOT}", "--user=c3-nobody:pw"):
            compare_status(auth_url, auth_status_served, user, "auth", "status", "-w", write_out)
        compare_status(auth_url, auth_status_served, "auth", "status", "-w", write_out)
    finally:
        auth_state(auth_url, enabled=False, root=False, root_role=False)()
        quietly(Gateway(auth_url), "auth/user/delete", {"name": "c3-nobody"})


def commands_in_help(text: str) -> list[tuple[str, str]]:
    """The (command, help) pairs of a help's ``COMMANDS:`` section: etcdctl's names the
    group's commands alone (``status``), aio-etcd's in full (``auth status``)."""
    section = text.split("COMMANDS:\n", 1)[1].split("\n\n", 1)[0]
    pairs = []
    for line in section.splitlines():
        words = line.split()
        if words[0] == "auth":
            words = words[1:]
        pairs.append((words[0], " ".join(words[1:])))
    return pairs


def test_auth_help_lists_the_commands_etcdctl_has(url: str) -> None:
    endpoint = url.removeprefix("http://")
    theirs, ours = etcdctl(endpoint, "auth", "--help"), _compare.aio(endpoint, "auth", "--help")
    assert commands_in_help(ours.out) == commands_in_help(theirs.out)
    assert ("status", "Returns authentication status") in commands_in_help(ours.out)


@pytest.mark.parametrize("user", ["root:wrong-password", "c3-nobody-at-all:pw"])
def test_credentials_etcd_refuses_end_as_a_failed_connection(auth_url: str, user: str) -> None:
    """etcdctl authenticates while it connects, so a refused user or password exits 2
    (``ExitBadConnection``), whatever the command."""
    on = auth_state(auth_url, enabled=True, root=True, root_role=True)
    try:
        for command in (("get", "k"), ("put", "k", "v"), ("member", "list")):
            compare_auth(auth_url, f"--user={user}", *command, setup=on)
    finally:
        auth_state(auth_url, enabled=False, root=False, root_role=False)()
