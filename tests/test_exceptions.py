"""Server errors become typed exceptions that carry what etcd said.

Most codes come from the session's real etcd, through the client. Codes only a raw request
can provoke (the client refuses to send such requests) are sent with aiohttp and the reply
is fed to the backend's error parser; codes that etcd 3.4/3.5 never send are built by hand,
in the shapes the protocol reference records.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import io
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TypeVar

import aiohttp
import pytest
from yarl import URL

import aio_etcd as etcd
from aio_etcd._exceptions import error_for
from aio_etcd._server import LOOPBACK, LocalEtcd
from aio_etcd._v2 import _error
from aio_etcd.models import ErrorPayload

from ._recording import RecordingTransport

E = TypeVar("E", bound=BaseException)
Call = Callable[[], Awaitable[object]]


async def raises(expected: type[E], call: Awaitable[object]) -> E:
    with pytest.raises(expected) as caught:
        await call
    return caught.value


def assert_carries(
    error: etcd.EtcdException,
    cls: type[etcd.EtcdException],
    *,
    code: int | None,
    status: int,
    message: str,
    cause: str | None,
) -> ErrorPayload:
    """``error`` is exactly ``cls`` and keeps etcd's code, status, message and cause."""
    assert type(error) is cls, f"{type(error).__name__} is not {cls.__name__}: {error}"
    payload = error.payload
    assert payload is not None
    assert payload.error_code == code
    assert payload["errorCode"] == code and payload.get("errorCode") == code
    assert payload.message == message and payload["message"] == message
    assert payload.cause == cause and payload["cause"] == cause
    assert error.status == status
    text = str(error)
    if code is not None:
        assert re.search(rf"(?i)error ?code\W*{code}\b", text), text
    assert message in text, text
    if cause:
        assert cause in text, text
    assert "None" not in text, text
    return payload


async def each_refused(
    cls: type[etcd.EtcdException],
    calls: list[Call],
    *,
    code: int,
    status: int,
    message: str,
    cause: str,
) -> None:
    """Every call raises exactly ``cls``, carrying etcd's code, status, message and cause."""
    for call in calls:
        error = await raises(cls, call())
        assert_carries(error, cls, code=code, status=status, message=message, cause=cause)


# -- the codes the session's etcd sends to the client ----------------------------------------


async def test_100_key_not_found(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/present", "v")
    error = await raises(etcd.EtcdKeyNotFound, client.read(f"{prefix}/missing/deeper"))
    assert isinstance(error, etcd.EtcdKeyError)
    # etcd names the first missing component of the path.
    payload = assert_carries(
        error,
        etcd.EtcdKeyNotFound,
        code=100,
        status=404,
        message="Key not found",
        cause=f"{prefix}/missing",
    )
    assert payload.index is not None and payload.index > 0  # a store error: the store index

    await each_refused(
        etcd.EtcdKeyNotFound,
        [
            lambda: client.delete(f"{prefix}/missing"),
            lambda: client.write(f"{prefix}/missing", "v", prevExist=True),
            lambda: client.refresh(f"{prefix}/missing", 5),
        ],
        code=100,
        status=404,
        message="Key not found",
        cause=f"{prefix}/missing",
    )


async def test_101_compare_failed(client: etcd.Client, prefix: str) -> None:
    key = f"{prefix}/k"
    index = (await client.write(key, "current")).modified_index

    swap = await raises(etcd.EtcdCompareFailed, client.write(key, "new", prevValue="other"))
    # Code written for python-etcd catches ValueError.
    assert isinstance(swap, ValueError)
    assert isinstance(swap, etcd.EtcdValueError)
    assert_carries(
        swap,
        etcd.EtcdCompareFailed,
        code=101,
        status=412,
        message="Compare failed",
        cause="[other != current]",
    )

    stale = await raises(etcd.EtcdCompareFailed, client.delete(key, prevIndex=index + 1000))
    assert_carries(
        stale,
        etcd.EtcdCompareFailed,
        code=101,
        status=412,
        message="Compare failed",
        cause=f"[{index + 1000} != {index}]",
    )

    both = await raises(
        etcd.EtcdCompareFailed, client.write(key, "new", prevValue="zzz", prevIndex=index + 1)
    )
    assert_carries(
        both,
        etcd.EtcdCompareFailed,
        code=101,
        status=412,
        message="Compare failed",
        cause=f"[zzz != current] [{index + 1} != {index}]",
    )
    assert (await client.read(key)).value == "current"  # nothing changed


async def test_102_not_a_file(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/dir", None, dir=True)
    assert issubclass(etcd.EtcdNotFile, etcd.EtcdKeyError)
    await each_refused(
        etcd.EtcdNotFile,
        [
            lambda: client.write(f"{prefix}/dir", "value"),
            lambda: client.write(f"{prefix}/dir", None, dir=True),  # a directory that exists
            lambda: client.delete(f"{prefix}/dir"),  # neither dir nor recursive
        ],
        code=102,
        status=403,
        message="Not a file",
        cause=f"{prefix}/dir",
    )


async def test_104_not_a_directory(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/file", "v")
    assert issubclass(etcd.EtcdNotDir, etcd.EtcdKeyError)
    await each_refused(
        etcd.EtcdNotDir,
        [
            lambda: client.write(f"{prefix}/file/below", "v"),
            lambda: client.read(f"{prefix}/file/below"),
            lambda: client.write(f"{prefix}/file", "job", append=True),
        ],
        code=104,
        status=400,
        message="Not a directory",
        cause=f"{prefix}/file",
    )


async def test_105_already_exists(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/k", "v")
    assert issubclass(etcd.EtcdAlreadyExist, etcd.EtcdKeyError)
    await each_refused(
        etcd.EtcdAlreadyExist,
        [
            lambda: client.write(f"{prefix}/k", "w", prevExist=False),
            lambda: client.write(f"{prefix}/k", None, dir=True, prevExist=False),
        ],
        code=105,
        status=412,
        message="Key already exists",
        cause=f"{prefix}/k",
    )
    assert (await client.read(f"{prefix}/k")).value == "v"


async def test_107_root_is_read_only(client: etcd.Client) -> None:
    assert issubclass(etcd.EtcdRootReadOnly, etcd.EtcdKeyError)
    await each_refused(
        etcd.EtcdRootReadOnly,
        [
            lambda: client.write("/", None, dir=True),
            lambda: client.write("/", "v"),
            lambda: client.delete("/", recursive=True),
            lambda: client.delete("/", dir=True),
        ],
        code=107,
        status=400,
        message="Root is read only",
        cause="/",
    )
    assert (await client.read("/")).dir  # still there


async def test_108_directory_not_empty(client: etcd.Client, prefix: str) -> None:
    await client.write(f"{prefix}/d/child", "v")
    error = await raises(etcd.EtcdDirNotEmpty, client.delete(f"{prefix}/d", dir=True))
    assert isinstance(error, ValueError)
    assert isinstance(error, etcd.EtcdValueError)
    assert_carries(
        error,
        etcd.EtcdDirNotEmpty,
        code=108,
        status=403,
        message="Directory not empty",
        cause=f"{prefix}/d",
    )
    assert (await client.read(f"{prefix}/d/child")).value == "v"


@pytest.mark.v2_only("v2 keeps the last 1000 events; v3 keeps all until compaction (tests/v2on3)")
async def test_401_event_index_cleared_comes_with_http_400(
    client: etcd.Client, prefix: str
) -> None:
    watched = f"{prefix}/watched"
    start = (await client.write(watched, "0")).modified_index

    async def writer(worker: int) -> None:
        for number in range(42):
            await client.write(f"{prefix}/busy/{worker}", number)

    # 1050 writes by 25 concurrent writers push the first one out of the 1000-event history.
    await asyncio.gather(*(writer(worker) for worker in range(25)))

    error = await raises(etcd.EtcdEventIndexCleared, client.watch(watched, index=start))
    assert error.payload is not None
    # "[oldest kept/requested]"
    found = re.fullmatch(
        r"the requested history has been cleared \[(\d+)/\d+\]", error.payload.cause or ""
    )
    assert found, error.payload.cause
    oldest = int(found[1])
    payload = assert_carries(
        error,
        etcd.EtcdEventIndexCleared,
        code=401,
        status=400,  # not 401: that is errorCode 401's own HTTP status
        message="The event in requested index is outdated and cleared",
        cause=f"the requested history has been cleared [{oldest}/{start}]",
    )
    # payload.index is the store's current index: 1000 events, the oldest kept included.
    assert payload.index is not None and payload.index >= start + 1050
    assert oldest == payload.index - 999

    # The streaming watch says the same.
    async with client.watch_iter(watched, index=start) as events:
        streamed = await raises(etcd.EtcdEventIndexCleared, anext(events))
    assert streamed.status == 400
    assert streamed.payload is not None and streamed.payload.error_code == 401


async def test_a_directory_ttl_update(
    client: etcd.Client, prefix: str, etcd_version: tuple[int, ...], api: str
) -> None:
    """etcd 3.5.1 cannot update a directory's TTL (etcd-io/etcd#13589); 3.4.23 can."""
    directory = f"{prefix}/d"
    if api == "v3":
        # A lease covers keys, not a prefix: v3 directories have no TTL at all.
        with pytest.raises(etcd.EtcdValueError, match="directory cannot have a ttl"):
            await client.write(directory, None, dir=True, ttl=30)
        return
    await client.write(directory, None, dir=True, ttl=30)
    update = client.write(directory, None, dir=True, ttl=600, prevExist=True)
    if etcd_version[:2] == (3, 5):
        error = await raises(etcd.EtcdRaftInternalError, update)
        payload = assert_carries(
            error,
            etcd.EtcdRaftInternalError,
            code=300,
            status=500,
            message="Raft Internal Error",
            # The only cause that shows the store's internal /1 prefix.
            cause=f"nodePath /1{directory} : Not a file ()",
        )
        assert payload.index == 0
        after = await client.read(directory)
        assert after.ttl is not None and after.ttl <= 30  # the store is unchanged
    else:
        assert etcd_version[:2] == (3, 4), etcd_version
        updated = await update
        assert updated.action == "update" and updated.dir
        assert updated.ttl is not None and 590 < updated.ttl <= 600
        kept = (await client.read(directory)).ttl
        assert kept is not None and kept > 30


# -- codes only a raw request gets ---------------------------------------------------------

Raw = Callable[..., Awaitable[tuple[etcd.HttpResponse, str]]]


@pytest.fixture
def raw(etcd_server: LocalEtcd) -> Raw:
    """Sends a request the client would refuse to send; returns etcd's reply and the URL."""

    async def send(
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        server: LocalEtcd = etcd_server,
    ) -> tuple[etcd.HttpResponse, str]:
        url = server.client_url + path
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                method,
                URL(url, encoded=True),
                # A file object: aiohttp warns about large bytes bodies.
                data=None if body is None else io.BytesIO(body),
                headers=headers,
                allow_redirects=False,
            ) as response,
        ):
            reply = etcd.HttpResponse(response.status, response.headers, await response.read())
        return reply, url

    return send


FORM = {"Content-Type": "application/x-www-form-urlencoded"}

RAW_CODES = [
    # (code, method, path below the prefix, body, message, cause)
    (201, "PUT", "/k?value=v&prevValue=", None, "PrevValue is Required in POST form",
     '"prevValue" cannot be empty'),
    (202, "PUT", "/k?value=v&ttl=abc", None, "The given TTL in POST form is not a number",
     'invalid value for "ttl"'),
    (202, "PUT", "/k?value=v&ttl=-1", None, "The given TTL in POST form is not a number",
     'invalid value for "ttl"'),
    (203, "PUT", "/k?value=v&prevIndex=x", None, "The given index in POST form is not a number",
     'invalid value for "prevIndex"'),
    (203, "GET", "/k?wait=true&waitIndex=abc", None,
     "The given index in POST form is not a number", 'invalid value for "waitIndex"'),
    (209, "PUT", "/k?value=v&prevExist=yes", None, "Invalid field",
     "invalid value for prevExist"),
    (209, "PUT", "/k?value=v&wait=true", None, "Invalid field",
     '"wait" can only be used with GET requests'),
    # Go's form parser reads at most 10 MiB.
    (210, "PUT", "/k", b"value=" + b"x" * (10 * 2**20 + 1 - 6), "Invalid POST form",
     "http: POST too large"),
    (211, "PUT", "/k?value=v&refresh=true&ttl=5", None, "Value provided on refresh",
     "A value was provided on a refresh"),
    (212, "PUT", "/k?refresh=true", None, "A TTL must be provided on refresh",
     "No TTL value set"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("code", "method", "path", "body", "message", "cause"),
    RAW_CODES,
    ids=[f"{case[0]}-{case[2]}"[:40] for case in RAW_CODES],
)
async def test_codes_only_a_raw_request_gets(
    raw: Raw,
    client: etcd.Client,
    prefix: str,
    code: int,
    method: str,
    path: str,
    body: bytes | None,
    message: str,
    cause: str,
) -> None:
    reply, url = await raw(method, f"/v2/keys{prefix}{path}", body, FORM if body else None)
    assert reply.status == 400 and reply.headers["X-Etcd-Index"] == "0"
    error = _error(reply, url)
    payload = assert_carries(
        error, etcd.EtcdValueError, code=code, status=400, message=message, cause=cause
    )
    assert payload.index == 0  # a request refused before the store: index 0
    assert payload == ErrorPayload.model_validate(json.loads(reply.body))
    assert not await client.contains(f"{prefix}/k")  # nothing was written


@pytest.mark.v2_only("sends a raw request to /v2/keys: how the v2 API parses its form")
async def test_a_raw_semicolon(
    raw: Raw, client: etcd.Client, prefix: str, etcd_version: tuple[int, ...]
) -> None:
    """Why the client percent-encodes ";": 3.4 refuses it (210), 3.5.1 splits on it."""
    reply, url = await raw("PUT", f"/v2/keys{prefix}/k?value=a;b")
    if etcd_version[:2] == (3, 4):
        assert_carries(
            _error(reply, url),
            etcd.EtcdValueError,
            code=210,
            status=400,
            message="Invalid POST form",
            cause="invalid semicolon separator in query",
        )
        assert not await client.contains(f"{prefix}/k")
    else:
        assert reply.status == 201
        assert (await client.read(f"{prefix}/k")).value == "a"
        await client.write(f"{prefix}/k2", "a;b")  # the client's encoding keeps it whole
        assert (await client.read(f"{prefix}/k2")).value == "a;b"


# -- 110 from a server with auth -------------------------------------------------------------

ROOT_PASSWORD = "root-secret"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def http_call(
    server: LocalEtcd, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(LOOPBACK, server.port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def auth_server() -> Iterator[LocalEtcd]:
    """An etcd of its own with auth on: turning auth on for the shared one would break
    every other test."""
    with LocalEtcd(name="errors-auth") as server:
        user = json.dumps({"user": "root", "password": ROOT_PASSWORD}).encode()
        json_type = {"Content-Type": "application/json"}
        assert http_call(server, "PUT", "/v2/auth/users/root", user, json_type)[0] == 201
        enable = {"Authorization": basic("root", ROOT_PASSWORD)}
        assert http_call(server, "PUT", "/v2/auth/enable", None, enable)[0] == 200
        yield server


async def test_110_wrong_credentials(raw: Raw, auth_server: LocalEtcd) -> None:
    headers = {"Authorization": basic("root", "wrong")}
    reply, url = await raw("GET", "/v2/keys/anything", None, headers, auth_server)
    assert reply.status == 401 and reply.headers["X-Etcd-Index"] == "0"
    payload = assert_carries(
        _error(reply, url),
        etcd.EtcdInsufficientPermissions,
        code=110,
        status=401,
        message="The request requires user authentication",
        cause="Insufficient credentials",
    )
    assert payload.index == 0

    # Through the client, without the password ever showing.
    async with etcd.Client(
        port=auth_server.port, username="root", password="not-the-password"
    ) as client:
        error = await raises(etcd.EtcdInsufficientPermissions, client.read("/anything"))
        assert_carries(
            error,
            etcd.EtcdInsufficientPermissions,
            code=110,
            status=401,
            message="The request requires user authentication",
            cause="Insufficient credentials",
        )
        assert "not-the-password" not in f"{error} {error!r} {client!r}"
        assert "not-the-password" not in json.dumps(
            error.payload.model_dump() if error.payload else {}
        )


async def test_401_without_an_error_code(raw: Raw, auth_server: LocalEtcd) -> None:
    """The auth API answers in the {"message"} shape: the class comes from the status."""
    reply, url = await raw("GET", "/v2/auth/users", None, None, auth_server)
    assert reply.body == b'{"message":"Insufficient credentials"}'
    assert_carries(
        _error(reply, url),
        etcd.EtcdInsufficientPermissions,
        code=None,
        status=401,
        message="Insufficient credentials",
        cause=None,
    )


# -- the three body shapes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "cls", "message"),
    [
        pytest.param(
            "POST",
            "/v2/members",
            b"peerURLs=x",
            415,
            etcd.EtcdException,  # no class for 415: the base, with the payload
            "Bad Content-Type application/x-www-form-urlencoded, accept application/json",
            id="415 members",
        ),
        pytest.param(
            "GET",
            "/v2/auth/users/nobody",
            None,
            404,
            etcd.EtcdKeyNotFound,
            "auth: User nobody does not exist.",
            id="404 auth user",
        ),
        pytest.param(
            "GET", "/v2/members/nonsense", None, 404, etcd.EtcdKeyNotFound, "Not found", id="404"
        ),
        pytest.param(
            "DELETE",
            "/v2/members/abc",
            None,
            404,
            etcd.EtcdKeyNotFound,
            "No such member: abc",
            id="404 member",
        ),
        pytest.param(
            "DELETE",
            "/v2/auth/enable",
            None,
            409,
            etcd.EtcdAlreadyExist,
            "auth: already disabled",
            id="409 auth",
        ),
    ],
)
async def test_the_message_only_shape_from_etcd(
    raw: Raw,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    cls: type[etcd.EtcdException],
    message: str,
) -> None:
    reply, url = await raw(method, path, body, FORM if body else None)
    assert reply.status == status
    assert json.loads(reply.body) == {"message": message}
    payload = assert_carries(
        _error(reply, url), cls, code=None, status=status, message=message, cause=None
    )
    assert payload.index is None


@pytest.mark.parametrize(
    ("method", "path", "status", "cls", "text"),
    [
        pytest.param(
            "GET", "/v2/keysfoo", 404, etcd.EtcdAPIUnavailable, "404 page not found", id="404"
        ),
        pytest.param(
            "PATCH", "/v2/keys/k", 405, etcd.EtcdUnexpectedResponse, "Method Not Allowed", id="405"
        ),
        pytest.param(
            "GET", "/v2/keys/%zz", 400, etcd.EtcdUnexpectedResponse, "400 Bad Request", id="400"
        ),
        pytest.param(
            "GET", "/v2/keys/a//b", 301, etcd.EtcdUnexpectedResponse, "Moved Permanently", id="301"
        ),
    ],
)
async def test_the_plain_text_shape_from_etcd(
    raw: Raw, method: str, path: str, status: int, cls: type[etcd.EtcdException], text: str
) -> None:
    reply, url = await raw(method, path)
    assert reply.status == status and text.encode() in reply.body
    error = _error(reply, url)
    assert type(error) is cls
    assert error.status == status
    assert error.payload is not None and error.payload.error_code is None
    assert text in error.payload.message
    if cls is etcd.EtcdAPIUnavailable:
        assert "--enable-v2" in str(error) and "/v2/keysfoo" in str(error)
    else:
        assert text in str(error) and str(status) in str(error)
    # A text reply is never mistaken for a value error: nothing says the request was wrong.
    assert not isinstance(error, etcd.EtcdValueError | etcd.EtcdKeyError)


@pytest.mark.parametrize("prefix", ["/v9", "/v3"])  # /v3: the v3 gateway's own "Not Found"
async def test_a_server_without_the_v2_api(etcd_server: LocalEtcd, prefix: str) -> None:
    async with etcd.Client(port=etcd_server.port, version_prefix=prefix) as client:
        error = await raises(etcd.EtcdAPIUnavailable, client.read("/k"))
    assert error.status == 404
    assert "--enable-v2" in str(error) and f"{prefix}/keys/k" in str(error)


def reply(status: int, body: bytes) -> etcd.EtcdException:
    return _error(etcd.HttpResponse(status, {}, body), "http://127.0.0.1:2379/v2/keys/k")


HAND_BUILT = [
    # (status, body, class): codes one healthy etcd never sends, as etcd would send them
    (401, b'{"errorCode":110,"message":"The request requires user authentication",'
          b'"cause":"Insufficient credentials","index":0}\n', etcd.EtcdInsufficientPermissions),
    (500, b'{"errorCode":300,"message":"Raft Internal Error",'
          b'"cause":"etcdserver: request timed out","index":0}\n', etcd.EtcdRaftInternalError),
    (500, b'{"errorCode":301,"message":"During Leader Election",'
          b'"cause":"leader changed","index":0}\n', etcd.EtcdLeaderElectionInProgress),
    (400, b'{"errorCode":400,"message":"watcher is cleared due to etcd recovery",'
          b'"cause":"/w","index":17}\n', etcd.EtcdWatcherCleared),
    (400, b'{"errorCode":401,"message":"The event in requested index is outdated and cleared",'
          b'"cause":"the requested history has been cleared [188/87]","index":1187}\n',
     etcd.EtcdEventIndexCleared),
    (400, b'{"errorCode":200,"message":"Value is Required in POST form","index":0}\n',
     etcd.EtcdValueError),
    (400, b'{"errorCode":206,"message":"Name is required in POST form","index":0}\n',
     etcd.EtcdValueError),
    # Defined by etcd but without a class: the base, payload kept.
    (400, b'{"errorCode":106,"message":"The prefix of given key is a keyword in etcd",'
          b'"cause":"/_etcd","index":3}\n', etcd.EtcdException),
    (500, b'{"errorCode":500,"message":"Internal Server Error","index":0}\n', etcd.EtcdException),
    # Unknown to everybody.
    (418, b'{"errorCode":999,"message":"Something new","cause":"the future","index":42}\n',
     etcd.EtcdException),
    (400, b'  {"errorCode":999,"message":"Leading space, no newline","index":1}',
     etcd.EtcdException),
]  # fmt: skip


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    HAND_BUILT,
    ids=[str(json.loads(case[1])["errorCode"]) for case in HAND_BUILT],
)
def test_the_keys_api_shape_built_by_hand(
    status: int, body: bytes, cls: type[etcd.EtcdException]
) -> None:
    sent = json.loads(body)
    error = reply(status, body)
    payload = assert_carries(
        error,
        cls,
        code=sent["errorCode"],
        status=status,
        message=sent["message"],
        cause=sent.get("cause"),
    )
    assert payload.index == sent["index"]
    if sent["index"]:
        assert str(sent["index"]) in str(error)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (503, b'{"message":"During election"}', etcd.EtcdException),
        (403, b'{"message":"not current leader"}', etcd.EtcdException),
        (410, b'{"message":"Member permanently removed: 8e9e05c52164694d"}', etcd.EtcdKeyNotFound),
        (409, b'{"message":"membership: peerURL exists"}', etcd.EtcdAlreadyExist),
        (401, b'{"message":"Insufficient credentials"}', etcd.EtcdInsufficientPermissions),
    ],
)
def test_the_message_only_shape_built_by_hand(
    status: int, body: bytes, cls: type[etcd.EtcdException]
) -> None:
    message = json.loads(body)["message"]
    assert_carries(reply(status, body), cls, code=None, status=status, message=message, cause=None)


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, b"Unauthorized\n", etcd.EtcdInsufficientPermissions),  # a proxy's own auth
        (502, b"<html><body>Bad Gateway</body></html>", etcd.EtcdUnexpectedResponse),
        (500, b"", etcd.EtcdUnexpectedResponse),
        (400, b"{not json", etcd.EtcdUnexpectedResponse),
        (400, b'{"errorCode":"many","message":"x"}', etcd.EtcdUnexpectedResponse),
        (404, b"404 page not found\n", etcd.EtcdAPIUnavailable),
        (404, b"Not Found", etcd.EtcdAPIUnavailable),  # the v3 gateway, at version_prefix="/v3"
        (404, b"<html>no such page</html>", etcd.EtcdAPIUnavailable),
    ],
)
def test_replies_that_are_not_etcd_errors(
    status: int, body: bytes, cls: type[etcd.EtcdException]
) -> None:
    error = reply(status, body)
    assert type(error) is cls
    assert error.status == status
    assert error.payload is not None and error.payload.error_code is None
    assert error.payload.message == body.decode()[:200]
    assert f"{status}" in str(error)


# -- the registry ----------------------------------------------------------------------------

REGISTRY: dict[int, type[etcd.EtcdException]] = {
    100: etcd.EtcdKeyNotFound,
    101: etcd.EtcdCompareFailed,
    102: etcd.EtcdNotFile,
    104: etcd.EtcdNotDir,
    105: etcd.EtcdAlreadyExist,
    107: etcd.EtcdRootReadOnly,
    108: etcd.EtcdDirNotEmpty,
    110: etcd.EtcdInsufficientPermissions,
    **dict.fromkeys(range(200, 213), etcd.EtcdValueError),
    300: etcd.EtcdRaftInternalError,
    301: etcd.EtcdLeaderElectionInProgress,
    400: etcd.EtcdWatcherCleared,
    401: etcd.EtcdEventIndexCleared,
}
UNKNOWN = [0, 103, 106, 109, 199, 213, 402, 403, 404, 500, 999, 2**40]


@pytest.mark.parametrize("code", [*REGISTRY, *UNKNOWN])
@pytest.mark.parametrize("status", [400, 401, 404, 409, 500])
def test_error_for_goes_by_the_code_first(code: int, status: int) -> None:
    payload = ErrorPayload(error_code=code, message="said by etcd", cause="about /k", index=7)
    error = error_for(payload, status)
    assert type(error) is REGISTRY.get(code, etcd.EtcdException)
    assert error.payload is payload and error.status == status
    assert error.message == str(error)
    assert_carries(
        error,
        type(error),
        code=code,
        status=status,
        message="said by etcd",
        cause="about /k",
    )
    assert re.search(r"\b7\b", str(error))  # the index


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, etcd.EtcdInsufficientPermissions),
        (404, etcd.EtcdKeyNotFound),
        (409, etcd.EtcdAlreadyExist),
        (410, etcd.EtcdKeyNotFound),
        (400, etcd.EtcdException),
        (412, etcd.EtcdException),
        (415, etcd.EtcdException),
        (500, etcd.EtcdException),
        (503, etcd.EtcdException),
    ],
)
def test_error_for_without_a_code_goes_by_the_status(
    status: int, cls: type[etcd.EtcdException]
) -> None:
    payload = ErrorPayload(message="just a message")
    error = error_for(payload, status)
    assert_carries(error, cls, code=None, status=status, message="just a message", cause=None)
    assert error.payload is payload


def test_error_for_without_a_message_still_says_something() -> None:
    error = error_for(ErrorPayload(error_code=999), 500)
    assert type(error) is etcd.EtcdException
    assert "999" in str(error) and "500" in str(error)
    assert error.payload is not None and error.payload["message"] == ""


# -- through the whole client ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [case for case in HAND_BUILT if case[0] < 500],  # 5xx reads are retried: another test
    ids=[f"{json.loads(case[1])['errorCode']}" for case in HAND_BUILT if case[0] < 500],
)
async def test_the_client_raises_what_the_reply_says(
    status: int, body: bytes, cls: type[etcd.EtcdException]
) -> None:
    sent = json.loads(body)
    transport = RecordingTransport(etcd.HttpResponse(status, {"X-Etcd-Index": "9"}, body))
    async with etcd.Client(transport=transport) as client:
        call: Call
        for call in (
            lambda: client.read("/k"),
            lambda: client.write("/k", "v"),
            lambda: client.delete("/k"),
        ):
            error = await raises(cls, call())
            assert_carries(
                error,
                cls,
                code=sent["errorCode"],
                status=status,
                message=sent["message"],
                cause=sent.get("cause"),
            )
    assert len(transport.sent) == 3  # each said once: a refusal is not retried
