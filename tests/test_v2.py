"""Odd keys and values round-trip exactly through a real etcd."""

from __future__ import annotations

import asyncio
import itertools
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aio_etcd as etcd
from aio_etcd._server import LocalEtcd

ODD = [
    "with space",
    "q?mark",
    "hash#tag",
    "100%",
    "%41%2F%zz",  # percent signs that look like escapes
    "plus+sign",
    "semi;colon",
    "amp&ersand",
    "eq=uals",
    "a&b=c;d+e?f#g",
    "tab\there",
    'double"quote',
    "single'quote",
    "back\\slash",
    "new\nline\r\n",
    "ünïcödé",
    "ключ",
    "雪",
    "emoji🙂👍🏽",
    "e\u0301 combining a\u0308",
    "zero\u200bwidth\ufeff",
    "~!*()$,@:[]",
    " leading and trailing ",
    "NUL\x00and\x7fDEL",
]


async def round_trip(client: etcd.Client, directory: str, name: str, value: str) -> None:
    """write, read, list, watch from history, and compare-and-delete ``directory/name``."""
    # v3 events carry no action: a key's first version is reported as a create.
    first = "set" if client.api == "v2" else "create"
    key = f"{directory}/{name}"
    written = await client.write(key, value)
    assert (written.action, written.key, written.value, written.new_key) == (
        "set",
        key,
        value,
        True,
    )

    read = await client.read(key)
    assert (read.key, read.value, read.modified_index) == (key, value, written.modified_index)

    listing = await client.read(directory)
    assert listing.dir and listing.key == directory
    assert [(n.key, n.value) for n in listing.children] == [(key, value)]

    event = await client.watch(key, index=written.modified_index)  # from etcd's history
    assert (event.action, event.key, event.value) == (first, key, value)

    if value:
        deleted = await client.delete(key, prevValue=value)
        assert deleted.action == "compareAndDelete"
    else:  # etcd cannot compare with "" (the client refuses it): compare the index
        deleted = await client.delete(key, prevIndex=written.modified_index)
        assert deleted.action == "compareAndDelete"
    assert deleted.key == key
    assert deleted.prev_node is not None
    assert (deleted.prev_node.key, deleted.prev_node.value) == (key, value)
    assert not await client.contains(key)


@pytest.mark.parametrize("odd", ODD, ids=repr)
async def test_an_odd_key_and_value(client: etcd.Client, prefix: str, odd: str) -> None:
    # The directory has the odd name too: it is a segment of the path like any other.
    await round_trip(client, f"{prefix}/{odd}", odd, odd)
    if client.api == "v3":
        # v3 directories are implicit: the last child gone, the directory is gone too.
        assert not await client.contains(prefix)
        return
    tree = await client.read(prefix, recursive=True)
    assert [(n.key, n.dir) for n in tree.get_subtree()] == [
        (prefix, True),
        (f"{prefix}/{odd}", True),
    ]


LONG = ("odd ?#%+;&=\t\"'\\ ünï 🙂\n" * 5000)[:100_000]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("\n", id="a newline"),
        pytest.param("line one\nline two\r\nline three\n\n", id="newlines"),
        pytest.param("   ", id="spaces"),
        pytest.param("\x00\x01\x1f", id="control characters"),
        pytest.param('{"json": [1, 2, {"k": null}]}', id="json"),
        pytest.param("<html>&amp;</html>", id="html"),  # etcd escapes < > & in its JSON
        pytest.param(LONG, id="100 KB"),
        pytest.param("x" * 1_000_000, id="1 MB"),
    ],
)
async def test_an_odd_value(client: etcd.Client, prefix: str, value: str) -> None:
    await round_trip(client, prefix, "k", value)


async def test_a_value_over_one_mebibyte(client: etcd.Client, prefix: str, api: str) -> None:
    """etcd takes values up to 10 MiB; the client sends them without complaint."""
    value = "🙂" * (2**20 // 2)  # 2 MiB of UTF-8
    if api == "v3":
        # v3 requests are capped by --max-request-bytes (1.5 MiB by default), in gRPC.
        with pytest.raises(etcd.EtcdValueError, match="larger than max"):
            await client.write(f"{prefix}/big", value)
        value = value[: 2**20 // 4]  # 1 MiB
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = await client.write(f"{prefix}/big", value)
    assert [str(w.message) for w in caught] == []
    assert (await client.read(f"{prefix}/big")).value == value
    await client.delete(f"{prefix}/big", prevIndex=written.modified_index)


async def test_odd_keys_in_one_directory_list_exactly(client: etcd.Client, prefix: str) -> None:
    keys = {f"{prefix}/{name}": name for name in ODD}
    await asyncio.gather(*(client.write(key, value) for key, value in keys.items()))
    listing = await client.read(prefix, sorted=True)
    assert {n.key: n.value for n in listing.children} == keys
    # etcd sorts by the key's bytes.
    ordered = [n.key for n in listing.children]
    assert ordered == sorted(keys, key=lambda k: k.encode())


# -- any key, any value ----------------------------------------------------------------------

# A key segment is any text but:
# - "/" (it separates segments; "%2F" too is decoded into a separator by etcd),
# - "", "." and ".." (Go's router redirects paths holding them, and the client refuses them),
# - surrogates ("Cs"): a lone surrogate cannot be encoded as UTF-8, so it cannot be put in
#   a URL at all, and Python's str.encode refuses it.
# NUL and the other control characters stay in: percent-encoded, etcd stores them as they
# are (checked on 3.4.23 and 3.5.1).
segments = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="/"), min_size=1, max_size=12
).filter(lambda segment: segment not in (".", ".."))
# Values are any text that can be UTF-8 encoded: everything but surrogates.
values = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)

examples = itertools.count()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.lists(segments, min_size=1, max_size=3), value=values)
def test_any_key_and_value_round_trip(
    etcd_server: LocalEtcd, prefix: str, path: list[str], value: str
) -> None:
    # Each example in a directory of its own below the test's prefix: an earlier example's
    # file must not stand where this one needs a directory.
    directory = f"{prefix}/{next(examples)}"
    key = f"{directory}/" + "/".join(path)
    parent = key.rsplit("/", 1)[0]
    hidden = path[-1].startswith("_")  # etcd leaves keys named "_..." out of listings

    async def check() -> None:
        async with etcd.Client(port=etcd_server.port) as client:
            written = await client.write(key, value)
            assert (written.key, written.value) == (key, value)
            read = await client.read(key)
            assert (read.key, read.value) == (key, value)
            listing = await client.read(parent)
            assert [(n.key, n.value) for n in listing.children] == (
                [] if hidden else [(key, value)]
            )
            if value:
                await client.delete(key, prevValue=value)
            else:
                await client.delete(key, prevIndex=written.modified_index)
            assert not await client.contains(key)
            await client.delete(directory, recursive=True)

    asyncio.run(check())
