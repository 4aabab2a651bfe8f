"""Bad arguments fail before any I/O, naming the argument; good ones go out as etcd wants."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

import aio_etcd as etcd
from aio_etcd._transport import HttpStream

OK = b'{"action":"set","node":{"key":"/k","value":"v","modifiedIndex":5,"createdIndex":5}}'


class Recorder:
    """A transport that records each request and answers with a canned success."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bytes | None, Mapping[str, str] | None]] = []

    async def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
        long_poll: bool = False,
    ) -> etcd.HttpResponse:
        self.sent.append((method, url, body, headers))
        return etcd.HttpResponse(200, {"X-Etcd-Index": "5"}, OK)

    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float | None,
    ) -> AbstractAsyncContextManager[HttpStream]:
        raise AssertionError("no stream expected")

    async def aclose(self) -> None:
        pass


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[etcd.Client, Recorder]]:
    recorder = Recorder()
    async with etcd.Client(transport=recorder) as client:
        yield client, recorder


Call = Callable[[etcd.Client], Awaitable[Any]]

BAD_CALLS: list[tuple[str, Call, type[Exception], str]] = [
    ("key not str", lambda c: c.read(17), TypeError, "key"),  # type: ignore[arg-type]
    ("key //", lambda c: c.read("/a//b"), etcd.EtcdValueError, "key"),
    ("key .", lambda c: c.write("/a/./b", 1), etcd.EtcdValueError, "key"),
    ("key ..", lambda c: c.delete("/a/../b"), etcd.EtcdValueError, "key"),
    ("negative ttl", lambda c: c.write("/k", 1, ttl=-1), etcd.EtcdValueError, "ttl"),
    ("float ttl", lambda c: c.write("/k", 1, ttl=1.5), TypeError, "ttl"),  # type: ignore[arg-type]
    ("bool ttl", lambda c: c.write("/k", 1, ttl=True), TypeError, "ttl"),
    ("huge ttl", lambda c: c.write("/k", 1, ttl=2**63), etcd.EtcdValueError, "ttl"),
    ("dir with value", lambda c: c.write("/k", "v", dir=True), etcd.EtcdValueError, "value"),
    (
        "prevExist not bool",
        lambda c: c.write("/k", 1, prevExist="yes"),  # type: ignore[arg-type]
        TypeError,
        "prevExist",
    ),
    ("prevIndex 0", lambda c: c.write("/k", 1, prevIndex=0), etcd.EtcdValueError, "prevIndex"),
    (
        "prevIndex str",
        lambda c: c.write("/k", 1, prevIndex="3"),  # type: ignore[arg-type]
        TypeError,
        "prevIndex",
    ),
    ("bytes value", lambda c: c.write("/k", b"v"), TypeError, "decode"),  # type: ignore[arg-type]
    ("waitIndex alone", lambda c: c.read("/k", waitIndex=3), etcd.EtcdValueError, "waitIndex"),
    (
        "quorum and wait",
        lambda c: c.read("/k", wait=True, quorum=True),
        etcd.EtcdValueError,
        "quorum",
    ),
    ("refresh, no ttl", lambda c: c.write("/k", None, refresh=True), etcd.EtcdValueError, "ttl"),
    (
        "append and prevValue",
        lambda c: c.write("/d", 1, append=True, prevValue="x"),
        etcd.EtcdValueError,
        "append",
    ),
    (
        "create with compare",
        lambda c: c.write("/k", 1, prevExist=False, prevValue="x"),
        etcd.EtcdValueError,
        "prevExist",
    ),
    ("empty prevValue", lambda c: c.delete("/k", prevValue=""), etcd.EtcdValueError, "prevValue"),
    ("timeout 0", lambda c: c.read("/k", timeout=0), etcd.EtcdValueError, "timeout"),
    ("timeout -1", lambda c: c.read("/k", timeout=-1), etcd.EtcdValueError, "timeout"),
    ("timeout nan", lambda c: c.read("/k", timeout=math.nan), etcd.EtcdValueError, "timeout"),
    ("timeout str", lambda c: c.read("/k", timeout="5"), TypeError, "timeout"),  # type: ignore[arg-type]
    ("unknown keyword", lambda c: c.write("/k", 1, ttll=3), TypeError, "ttll"),  # type: ignore[call-arg]
]


@pytest.mark.parametrize(
    ("call", "error", "names"), [case[1:] for case in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
async def test_bad_arguments_fail_before_any_io(
    recorded: tuple[etcd.Client, Recorder], call: Call, error: type[Exception], names: str
) -> None:
    client, recorder = recorded
    with pytest.raises(error, match=names):
        await call(client)
    assert recorder.sent == []


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"port": "2379"}, TypeError, "port"),
        ({"port": 0}, etcd.EtcdValueError, "port"),
        ({"protocol": "ftp"}, etcd.EtcdValueError, "protocol"),
        ({"host": "a/b"}, etcd.EtcdValueError, "host"),
        ({"host": [("a", "b")]}, TypeError, "host port"),
        ({"version_prefix": "v2"}, etcd.EtcdValueError, "version_prefix"),
        ({"read_timeout": -1}, etcd.EtcdValueError, "read_timeout"),
        ({"per_host_pool_size": 0}, etcd.EtcdValueError, "per_host_pool_size"),
        ({"allow_reconnect": "yes"}, TypeError, "allow_reconnect"),
    ],
)
def test_bad_client_arguments(kwargs: dict[str, Any], error: type[Exception], names: str) -> None:
    with pytest.raises(error, match=names):
        etcd.Client(**kwargs)


ODD = "a b?c#d%e+f;g&h=i\tj'k\"l\\m/ünï/☃"


async def test_keys_are_percent_encoded_segment_by_segment(
    recorded: tuple[etcd.Client, Recorder],
) -> None:
    client, recorder = recorded
    await client.read(f"/odd/{ODD}")
    _, url, body, _ = recorder.sent[0]
    path = urlsplit(url).path
    assert body is None
    assert path.startswith("/v2/keys/odd/")
    raw_segments = path[len("/v2/keys/") :].split("/")
    assert [unquote(s) for s in raw_segments] == ["odd", *ODD.split("/")]
    assert all(c not in s for s in raw_segments for c in " ?#;&=+\t'\"\\")
    assert "?" not in url


async def test_writes_send_a_form_body(recorded: tuple[etcd.Client, Recorder]) -> None:
    client, recorder = recorded
    await client.write("/k", "v&x=1+2%3", ttl=5, prevValue="old;value", prevExist=True)
    method, url, body, headers = recorder.sent[0]
    assert method == "PUT" and "?" not in url
    assert headers == {"Content-Type": "application/x-www-form-urlencoded"}
    assert body is not None
    assert parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True) == {
        "value": ["v&x=1+2%3"],
        "ttl": ["5"],
        "prevValue": ["old;value"],
        "prevExist": ["true"],
    }


async def test_appends_post_and_directories_say_so(
    recorded: tuple[etcd.Client, Recorder],
) -> None:
    client, recorder = recorded
    await client.write("/queue", "job", append=True)
    await client.write("/dir", None, dir=True, ttl=3)
    await client.refresh("/k", 9)
    (post, _, post_body, _), (_, _, dir_body, _), (_, _, refresh_body, _) = recorder.sent
    assert post == "POST" and parse_qs((post_body or b"").decode()) == {"value": ["job"]}
    assert parse_qs((dir_body or b"").decode()) == {"dir": ["true"], "ttl": ["3"]}
    assert parse_qs((refresh_body or b"").decode()) == {
        "ttl": ["9"],
        "prevExist": ["true"],
        "refresh": ["true"],
    }


async def test_delete_conditions_go_in_the_query_string(
    recorded: tuple[etcd.Client, Recorder],
) -> None:
    client, recorder = recorded
    await client.delete("/d", recursive=True, dir=True, prevValue="a b&c", prevIndex=7)
    method, url, body, headers = recorder.sent[0]
    assert method == "DELETE" and body is None and headers is None
    assert parse_qs(urlsplit(url).query, strict_parsing=True) == {
        "recursive": ["true"],
        "dir": ["true"],
        "prevValue": ["a b&c"],
        "prevIndex": ["7"],
    }


async def test_reads_put_their_options_in_the_query_string(
    recorded: tuple[etcd.Client, Recorder],
) -> None:
    client, recorder = recorded
    await client.read("/d", recursive=True, sorted=True, quorum=True)
    await client.read("/d", wait=True, waitIndex=12)
    (_, first, _, _), (_, second, _, _) = recorder.sent
    assert parse_qs(urlsplit(first).query) == {
        "recursive": ["true"],
        "sorted": ["true"],
        "quorum": ["true"],
    }
    assert parse_qs(urlsplit(second).query) == {"wait": ["true"], "waitIndex": ["12"]}
