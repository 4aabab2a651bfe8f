"""Bad input fails before any I/O and names the argument; good input goes out as etcd reads it.

The client talks to a recording transport here: it keeps every request and answers each
with one canned success, so the tests see exactly what would go on the wire.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

import aio_etcd as etcd
from aio_etcd._constants import WATCH_OPEN_TIMEOUT

from ._recording import RecordingTransport, Sent

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def fake() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def offline(fake: RecordingTransport) -> AsyncIterator[etcd.Client]:
    """A client whose every request ends in ``fake``."""
    async with etcd.Client(transport=fake) as client:
        yield client


# -- bad input ------------------------------------------------------------------------------

Call = Callable[[etcd.Client], Awaitable[Any]]

# (id, call, the exception, words its message must contain)
BAD_CALLS: list[tuple[str, Call, type[Exception], tuple[str, ...]]] = [
    ("key is an int", lambda c: c.read(17), TypeError, ("key",)),  # type: ignore[arg-type]
    ("key is None", lambda c: c.write(None, 1), TypeError, ("key",)),  # type: ignore[arg-type]
    ("key is bytes", lambda c: c.delete(b"/k"), TypeError, ("key",)),  # type: ignore[arg-type]
    ("key with //", lambda c: c.read("/a//b"), etcd.EtcdValueError, ("key", "/a//b")),
    ("key ending in //", lambda c: c.write("/a//", 1), etcd.EtcdValueError, ("key",)),
    # "//" is a key with an empty segment too; etcd answers it with a 301 redirect.
    ("key is //", lambda c: c.read("//"), etcd.EtcdValueError, ("key",)),
    ("key with .", lambda c: c.write("/a/./b", 1), etcd.EtcdValueError, ("key", "'.'")),
    ("key is .", lambda c: c.read("."), etcd.EtcdValueError, ("key",)),
    ("key with ..", lambda c: c.delete("/a/../b"), etcd.EtcdValueError, ("key", "'..'")),
    ("key ending in ..", lambda c: c.read("/a/.."), etcd.EtcdValueError, ("key",)),
    ("watched key with ..", lambda c: c.watch("/a/../b"), etcd.EtcdValueError, ("key",)),
    (
        "watch_iter key with //",
        lambda c: c.watch_iter("/a//b").__aenter__(),
        etcd.EtcdValueError,
        ("key",),
    ),
    # A lone surrogate cannot be encoded as UTF-8, so it cannot be put in a URL or form.
    ("key with a surrogate", lambda c: c.read("/a\ud800b"), etcd.EtcdValueError, ("key",)),
    ("value with a surrogate", lambda c: c.write("/k", "\udfff"), etcd.EtcdValueError, ("value",)),
    (
        "prevValue with a surrogate",
        lambda c: c.delete("/k", prevValue="\ud83d"),
        etcd.EtcdValueError,
        ("prevValue",),
    ),
    ("negative ttl", lambda c: c.write("/k", 1, ttl=-1), etcd.EtcdValueError, ("ttl",)),
    ("float ttl", lambda c: c.write("/k", 1, ttl=1.5), TypeError, ("ttl",)),  # type: ignore[arg-type]
    ("bool ttl", lambda c: c.write("/k", 1, ttl=True), TypeError, ("ttl",)),
    ("str ttl", lambda c: c.write("/k", 1, ttl="5"), TypeError, ("ttl",)),  # type: ignore[arg-type]
    ("huge ttl", lambda c: c.write("/k", 1, ttl=2**63), etcd.EtcdValueError, ("ttl",)),
    # etcd keeps now + ttl as int64 nanoseconds since 1970: past 2262-04-11 the key
    # silently becomes permanent (see test_a_ttl_the_client_accepts_is_one_etcd_honours).
    ("ttl past 2262", lambda c: c.write("/k", 1, ttl=8 * 10**9), etcd.EtcdValueError, ("ttl",)),
    (
        "dir with a value",
        lambda c: c.write("/k", "v", dir=True),
        etcd.EtcdValueError,
        ("value", "dir"),
    ),
    (
        "prevExist is a str",
        lambda c: c.write("/k", 1, prevExist="yes"),  # type: ignore[arg-type]
        TypeError,
        ("prevExist",),
    ),
    ("prevIndex 0", lambda c: c.write("/k", 1, prevIndex=0), etcd.EtcdValueError, ("prevIndex",)),
    (
        "prevIndex is a str",
        lambda c: c.write("/k", 1, prevIndex="3"),  # type: ignore[arg-type]
        TypeError,
        ("prevIndex",),
    ),
    (
        "prevIndex is a bool",
        lambda c: c.delete("/k", prevIndex=True),
        TypeError,
        ("prevIndex",),
    ),
    (
        "delete prevIndex 0",
        lambda c: c.delete("/k", prevIndex=0),
        etcd.EtcdValueError,
        ("prevIndex",),
    ),
    (
        "bytes value",
        lambda c: c.write("/k", b"v"),  # type: ignore[arg-type]
        TypeError,
        ("value", "decode"),
    ),
    (
        "bytearray prevValue",
        lambda c: c.write("/k", 1, prevValue=bytearray(b"v")),  # type: ignore[arg-type]
        TypeError,
        ("prevValue", "decode"),
    ),
    (
        "waitIndex without wait",
        lambda c: c.read("/k", waitIndex=3),
        etcd.EtcdValueError,
        ("waitIndex", "wait"),
    ),
    (
        "waitIndex 0",
        lambda c: c.read("/k", wait=True, waitIndex=0),
        etcd.EtcdValueError,
        ("waitIndex",),
    ),
    ("watch index 0", lambda c: c.watch("/k", index=0), etcd.EtcdValueError, ("index",)),
    (
        "quorum with wait",
        lambda c: c.read("/k", wait=True, quorum=True),
        etcd.EtcdValueError,
        ("quorum", "wait"),
    ),
    (
        "recursive is a str",
        lambda c: c.read("/k", recursive="yes"),  # type: ignore[arg-type]
        TypeError,
        ("recursive",),
    ),
    (
        "refresh without ttl",
        lambda c: c.write("/k", None, refresh=True),
        etcd.EtcdValueError,
        ("ttl", "refresh"),
    ),
    (
        "refresh with a value",
        lambda c: c.write("/k", "v", ttl=5, refresh=True),
        etcd.EtcdValueError,
        ("value", "refresh"),
    ),
    (
        "append with prevValue",
        lambda c: c.write("/d", 1, append=True, prevValue="x"),
        etcd.EtcdValueError,
        ("append", "prevValue"),
    ),
    (
        "append with prevIndex",
        lambda c: c.write("/d", 1, append=True, prevIndex=4),
        etcd.EtcdValueError,
        ("append", "prevIndex"),
    ),
    (
        "prevExist=False with prevValue",
        lambda c: c.write("/k", 1, prevExist=False, prevValue="x"),
        etcd.EtcdValueError,
        ("prevExist", "prevValue"),
    ),
    (
        "prevExist=False with prevIndex",
        lambda c: c.write("/k", 1, prevExist=False, prevIndex=4),
        etcd.EtcdValueError,
        ("prevExist", "prevIndex"),
    ),
    (
        "empty prevValue",
        lambda c: c.write("/k", 1, prevValue=""),
        etcd.EtcdValueError,
        ("prevValue",),
    ),
    (
        "empty prevValue on delete",
        lambda c: c.delete("/k", prevValue=""),
        etcd.EtcdValueError,
        ("prevValue",),
    ),
    ("timeout 0", lambda c: c.read("/k", timeout=0), etcd.EtcdValueError, ("timeout",)),
    ("timeout -1", lambda c: c.write("/k", 1, timeout=-1), etcd.EtcdValueError, ("timeout",)),
    ("timeout nan", lambda c: c.delete("/k", timeout=math.nan), etcd.EtcdValueError, ("timeout",)),
    ("timeout inf", lambda c: c.read("/k", timeout=math.inf), etcd.EtcdValueError, ("timeout",)),
    ("timeout '5'", lambda c: c.read("/k", timeout="5"), TypeError, ("timeout",)),  # type: ignore[arg-type]
    ("timeout True", lambda c: c.read("/k", timeout=True), TypeError, ("timeout",)),
    (
        "unknown keyword",
        lambda c: c.write("/k", 1, ttll=3),  # type: ignore[call-arg]
        TypeError,
        ("ttll",),
    ),
    (
        "unknown keyword on read",
        lambda c: c.read("/k", recursve=True),  # type: ignore[call-arg]
        TypeError,
        ("recursve",),
    ),
]


@pytest.mark.parametrize(
    ("call", "error", "words"), [case[1:] for case in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
async def test_bad_input_fails_before_any_io(
    offline: etcd.Client,
    fake: RecordingTransport,
    call: Call,
    error: type[Exception],
    words: tuple[str, ...],
) -> None:
    with pytest.raises(error) as caught:
        await call(offline)
    assert getattr(caught.value, "payload", None) is None  # not a server's answer
    for word in words:
        assert word in str(caught.value), f"{word!r} not named in {str(caught.value)!r}"
    assert fake.sent == []


async def test_the_client_still_works_after_refusing_bad_input(
    offline: etcd.Client, fake: RecordingTransport
) -> None:
    """A refusal leaves nothing behind: the next good call goes out as usual."""
    with pytest.raises(etcd.EtcdValueError):
        await offline.write("/k", 1, ttl=-1)
    assert (await offline.read("/a")).value == "v"
    assert [(s.method, s.path) for s in fake.sent] == [("GET", "/v2/keys/a")]


BAD_CLIENTS: list[tuple[str, dict[str, Any], type[Exception], tuple[str, ...]]] = [
    ("port is a str", {"port": "2379"}, TypeError, ("port",)),
    ("port 0", {"port": 0}, etcd.EtcdValueError, ("port",)),
    ("port 65536", {"port": 65536}, etcd.EtcdValueError, ("port",)),
    ("port is a bool", {"port": True}, TypeError, ("port",)),
    ("protocol ftp", {"protocol": "ftp"}, etcd.EtcdValueError, ("protocol", "ftp")),
    ("host with /", {"host": "a/b"}, etcd.EtcdValueError, ("host", "a/b")),
    ("empty host", {"host": ""}, etcd.EtcdValueError, ("host",)),
    ("host with @", {"host": "user@h"}, etcd.EtcdValueError, ("host",)),
    ("host port is a str", {"host": [("a", "1")]}, TypeError, ("port",)),
    (
        "version_prefix without /",
        {"version_prefix": "v2"},
        etcd.EtcdValueError,
        ("version_prefix",),
    ),
    (
        "version_prefix with ?",
        {"version_prefix": "/v2?x"},
        etcd.EtcdValueError,
        ("version_prefix",),
    ),
    ("read_timeout 0", {"read_timeout": 0}, etcd.EtcdValueError, ("read_timeout",)),
    ("lock_prefix with ..", {"lock_prefix": "/a/.."}, etcd.EtcdValueError, ("lock_prefix",)),
    ("srv_domain with /", {"srv_domain": "a/b"}, etcd.EtcdValueError, ("srv_domain",)),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [case[1:] for case in BAD_CLIENTS],
    ids=[case[0] for case in BAD_CLIENTS],
)
def test_bad_client_arguments_fail_at_once(
    fake: RecordingTransport, kwargs: dict[str, Any], error: type[Exception], words: tuple[str, ...]
) -> None:
    with pytest.raises(error) as caught:
        etcd.Client(transport=fake, **kwargs)
    for word in words:
        assert word in str(caught.value), f"{word!r} not named in {str(caught.value)!r}"
    assert fake.sent == []


LARGE_TTLS = [10**9, 5 * 10**9, 7 * 10**9, 7_500_000_000, 8 * 10**9, 2**63 // 10**9 - 1]


@pytest.mark.parametrize("ttl", LARGE_TTLS)
async def test_a_ttl_the_client_accepts_is_one_etcd_honours(
    client: etcd.Client, prefix: str, ttl: int
) -> None:
    """Against the real server: a TTL the client lets through must give the key a TTL.

    etcd turns ``now + ttl`` into int64 nanoseconds since 1970. A TTL reaching past
    2262-04-11 (about 7.4e9 s from 2025) overflows; etcd then reads the expiry as a date
    before 2000 and silently stores a permanent key (checked on 3.4.23 and 3.5.1). Such a
    TTL must be refused before sending.
    """
    key = f"{prefix}/k"
    written: etcd.EtcdResult | etcd.EtcdValueError
    try:
        written = await client.write(key, "v", ttl=ttl)
    except etcd.EtcdValueError as refused:
        written = refused
    if isinstance(written, etcd.EtcdValueError):
        assert "ttl" in str(written)
        assert ttl > 10**9, "a TTL of about 31 years is refused"
        assert not await client.contains(key)  # refused before sending
        return
    assert written.ttl is not None, f"ttl={ttl} was sent, and etcd made the key permanent"
    assert ttl - 5 <= written.ttl <= ttl
    assert (await client.read(key)).ttl is not None


# -- what goes on the wire ----------------------------------------------------------------

UNRESERVED = re.compile(r"(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})*")
"""What a percent-encoded segment may hold: RFC 3986 unreserved characters and escapes."""


def decode_segment(segment: str) -> str:
    """Percent-decoding as Go does it, written out here so as not to trust urllib."""
    assert UNRESERVED.fullmatch(segment), f"not fully percent-encoded: {segment!r}"
    raw = bytearray()
    position = 0
    while position < len(segment):
        if segment[position] == "%":
            raw.append(int(segment[position + 1 : position + 3], 16))
            position += 3
        else:
            raw += segment[position].encode("ascii")
            position += 1
    return raw.decode("utf-8")


def key_of(sent: Sent) -> str:
    """The key a request addresses, as etcd decodes it."""
    assert sent.path.startswith("/v2/keys/")
    return "/" + "/".join(decode_segment(s) for s in sent.path[len("/v2/keys/") :].split("/"))


ODD_SEGMENTS = [
    "sp ace",
    "q?mark",
    "ha#sh",
    "per%cent",
    "%41%2F",
    "pl+us",
    "se;mi",
    "am&p",
    "e=q",
    "t\tab",
    'dq"uote',
    "sq'uote",
    "back\\slash",
    "ünïcödé",
    "emoji🙂",
    "e\u0301",
    "new\nline",
    "[brackets]@:!$*(),",
]


@pytest.mark.parametrize("segment", ODD_SEGMENTS)
async def test_every_reserved_character_of_a_key_is_percent_encoded(
    offline: etcd.Client, fake: RecordingTransport, segment: str
) -> None:
    key = f"/dir {segment}/{segment}/leaf{segment}"
    await offline.read(key)
    await offline.write(key, "v")
    await offline.delete(key)
    await offline.write(key, "v", append=True)
    await offline.watch(key)
    assert [s.method for s in fake.sent] == ["GET", "PUT", "DELETE", "POST", "GET"]
    for sent in fake.sent:
        parts = urlsplit(sent.url)
        assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:2379")
        assert parts.fragment == ""
        # Three segments below /v2/keys: every "/" of the key is a separator, no other.
        assert sent.path.count("/") == key.count("/") + 2
        assert key_of(sent) == key


async def test_a_whole_odd_key_maps_to_one_path(
    offline: etcd.Client, fake: RecordingTransport
) -> None:
    key = "/" + "/".join(ODD_SEGMENTS)
    await offline.write(key, "v")
    await offline.write(key.lstrip("/"), "v")  # a leading "/" is added when missing
    first, second = fake.sent
    assert first.url == second.url
    assert key_of(first) == key
    assert "?" not in first.url and "#" not in first.url


ODD_VALUES = [
    "plain",
    "a+b",
    "100%",
    "%2B%26",
    "a&b=c",
    "x=y",
    "semi;colon",
    "sp ace",
    "tab\tnew\nline\r\n",
    "quote\"'\\",
    "ünï🙂e\u0301",
    "?#[]@!$'()*,",
    "",
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
async def test_a_write_sends_every_parameter_in_a_form_body(
    offline: etcd.Client, fake: RecordingTransport, value: str
) -> None:
    await offline.write(
        "/k", value, ttl=5, prevValue=value + "old", prevIndex=3, prevExist=True, timeout=2.5
    )
    (sent,) = fake.sent
    assert sent.method == "PUT"
    assert sent.url == "http://127.0.0.1:2379/v2/keys/k"  # nothing in the query string
    assert sent.content_type == FORM
    assert sent.body is not None
    # 3.4 refuses a raw ";" and 3.5 splits on it. (A "+" may only stand for a space: the
    # exact comparison below decodes it as etcd does.)
    assert b";" not in sent.body and b" " not in sent.body
    assert sent.form == {
        "value": [value],
        "ttl": ["5"],
        "prevValue": [value + "old"],
        "prevIndex": ["3"],
        "prevExist": ["true"],
    }
    # What is left of the call's 2.5 s when the attempt starts.
    assert sent.timeout is not None and 2.0 < sent.timeout <= 2.5
    assert sent.long_poll is False


async def test_values_that_are_numbers_are_sent_as_their_text(
    offline: etcd.Client, fake: RecordingTransport
) -> None:
    await offline.write("/k", 1, prevValue=2.5)
    await offline.write("/k", 0)
    await offline.write("/k", -7.25)
    assert [s.form for s in fake.sent] == [
        {"value": ["1"], "prevValue": ["2.5"]},
        {"value": ["0"]},
        {"value": ["-7.25"]},
    ]


@pytest.mark.parametrize(
    ("call", "method", "form"),
    [
        pytest.param(lambda c: c.write("/k", "v"), "PUT", {"value": ["v"]}, id="plain set"),
        pytest.param(lambda c: c.write("/k", None), "PUT", {}, id="no value"),
        pytest.param(
            lambda c: c.write("/k", "v", ttl=0), "PUT", {"value": ["v"], "ttl": ["0"]}, id="ttl 0"
        ),
        pytest.param(
            lambda c: c.write("/k", "v", prevExist=False),
            "PUT",
            {"value": ["v"], "prevExist": ["false"]},
            id="create",
        ),
        pytest.param(
            lambda c: c.write("/d", None, dir=True, ttl=3, prevExist=False),
            "PUT",
            {"dir": ["true"], "ttl": ["3"], "prevExist": ["false"]},
            id="directory",
        ),
        pytest.param(
            lambda c: c.write("/q", "job 1", append=True, ttl=7),
            "POST",
            {"value": ["job 1"], "ttl": ["7"]},
            id="append",
        ),
        pytest.param(
            lambda c: c.write("/q", None, append=True, dir=True),
            "POST",
            {"dir": ["true"]},
            id="append a directory",
        ),
        pytest.param(
            lambda c: c.refresh("/k", 9),
            "PUT",
            {"ttl": ["9"], "prevExist": ["true"], "refresh": ["true"]},
            id="refresh",
        ),
        pytest.param(
            lambda c: c.refresh("/k", 9, prevValue="a+b", prevIndex=4),
            "PUT",
            {
                "ttl": ["9"],
                "prevExist": ["true"],
                "refresh": ["true"],
                "prevValue": ["a+b"],
                "prevIndex": ["4"],
            },
            id="compare and refresh",
        ),
        pytest.param(
            lambda c: c.test_and_set("/k", "new&", "old=", ttl=2),
            "PUT",
            {"value": ["new&"], "ttl": ["2"], "prevValue": ["old="]},
            id="test_and_set",
        ),
    ],
)
async def test_writes_encode_their_options_as_etcd_expects(
    offline: etcd.Client,
    fake: RecordingTransport,
    call: Call,
    method: str,
    form: dict[str, list[str]],
) -> None:
    await call(offline)
    (sent,) = fake.sent
    assert sent.method == method
    assert urlsplit(sent.url).query == ""
    assert sent.content_type == FORM
    assert sent.form == form


@pytest.mark.parametrize(
    ("call", "query", "long_poll"),
    [
        pytest.param(lambda c: c.read("/k"), {}, False, id="plain read"),
        pytest.param(
            lambda c: c.read("/k", recursive=True, sorted=True, quorum=True),
            {"recursive": ["true"], "sorted": ["true"], "quorum": ["true"]},
            False,
            id="options",
        ),
        pytest.param(
            lambda c: c.read("/k", recursive=False, sorted=None, quorum=False),
            {},
            False,
            id="false options are left out",
        ),
        pytest.param(
            lambda c: c.read("/k", wait=True, waitIndex=12, recursive=True),
            {"wait": ["true"], "waitIndex": ["12"], "recursive": ["true"]},
            True,
            id="wait",
        ),
        pytest.param(
            lambda c: c.watch("/k", index=7),
            {"wait": ["true"], "waitIndex": ["7"]},
            True,
            id="watch",
        ),
    ],
)
async def test_reads_put_their_options_in_the_query_string(
    offline: etcd.Client,
    fake: RecordingTransport,
    call: Call,
    query: dict[str, list[str]],
    long_poll: bool,
) -> None:
    await call(offline)
    (sent,) = fake.sent
    assert sent.method == "GET" and sent.body is None
    assert sent.content_type is None
    assert sent.path == "/v2/keys/k"
    assert sent.query == query
    assert ("?" in sent.url) == bool(query)
    assert sent.long_poll is long_poll


async def test_a_watch_waits_without_a_limit_and_a_read_within_read_timeout(
    fake: RecordingTransport,
) -> None:
    async with etcd.Client(transport=fake, read_timeout=3) as client:
        await client.read("/k")
        await client.watch("/k")
        await client.read("/k", timeout=None)
    read, watch, unlimited = (s.timeout for s in fake.sent)
    assert read is not None and 2.5 < read <= 3.0  # what is left of read_timeout
    # A watch waits for its event without limit; etcd's headers, sent at once, must come
    # within WATCH_OPEN_TIMEOUT, or the member is left for another.
    assert watch == WATCH_OPEN_TIMEOUT and unlimited is None


@pytest.mark.parametrize("value", ODD_VALUES[:-1], ids=repr)  # "" is refused as a prevValue
async def test_delete_conditions_go_in_the_query_string_and_no_body(
    offline: etcd.Client, fake: RecordingTransport, value: str
) -> None:
    await offline.delete("/d", recursive=True, dir=True, prevValue=value, prevIndex=7)
    (sent,) = fake.sent
    assert sent.method == "DELETE"
    assert sent.body is None and sent.content_type is None  # etcd ignores a DELETE body
    assert sent.path == "/v2/keys/d"
    query = urlsplit(sent.url).query
    assert ";" not in query and " " not in query
    assert sent.query == {
        "recursive": ["true"],
        "dir": ["true"],
        "prevValue": [value],
        "prevIndex": ["7"],
    }


async def test_a_plain_delete_sends_nothing_but_the_key(
    offline: etcd.Client, fake: RecordingTransport
) -> None:
    await offline.delete("/d")
    await offline.delete("/d", recursive=False, dir=None)
    assert [(s.method, s.url, s.body) for s in fake.sent] == [
        ("DELETE", "http://127.0.0.1:2379/v2/keys/d", None)
    ] * 2


async def test_the_version_prefix_and_host_shape_the_url(fake: RecordingTransport) -> None:
    async with etcd.Client(
        host="::1", port=4001, protocol="https", version_prefix="/proxy/v2/", transport=fake
    ) as client:
        await client.read("/a b")
    (sent,) = fake.sent
    assert sent.url == "https://[::1]:4001/proxy/v2/keys/a%20b"
