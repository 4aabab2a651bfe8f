"""``get``, ``put`` and ``del`` compared with etcdctl 3.5.1's, in every output format
(``table`` included: etcdctl refuses it for these commands, and so must we).

Each case writes fresh keys under its own prefix ``{p}`` before each side runs (see
``tests/cli_v3/_compare.py``); normalisers are named in each case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest

from tests.cli_v3._compare import Gateway, Normaliser, compare, lease_ids, revisions, usage

pytestmark = pytest.mark.etcdctl

FORMATS = ("simple", "json", "fields", "table")

Prepare = Callable[[Gateway, str], Mapping[str, object]]


def nothing(gateway: Gateway, prefix: str) -> Mapping[str, object]:
    return {}


def three(gateway: Gateway, prefix: str) -> Mapping[str, object]:
    """``a=1``, ``b=22``, ``c=3`` (written c, a, b: creation order differs from key order),
    then ``a`` again; ``{rev_c}`` is the revision of the first write."""
    rev_c = gateway.put(f"{prefix}c", "3")
    gateway.put(f"{prefix}a", "1")
    gateway.put(f"{prefix}b", "22")
    gateway.put(f"{prefix}a", "one")
    return {"rev_c": rev_c}


def leased(gateway: Gateway, prefix: str) -> Mapping[str, object]:
    """``k`` with a lease; ``{lease}`` is a second lease, in hex."""
    first = gateway.grant(600)
    gateway.put(f"{prefix}k", "v", lease=first)
    return {"lease": f"{gateway.grant(600):x}"}


def run_case(
    url: str,
    prefix: str,
    args: Sequence[str],
    prepare: Prepare,
    write_out: str | None,
    normalise: Sequence[Normaliser] = (revisions, usage),
    input: str | None = None,
) -> None:
    def setup(gateway: Gateway) -> Mapping[str, object]:
        return {"p": prefix, **prepare(gateway, prefix)}

    extra = ["-w", write_out] if write_out else []
    compare(
        url,
        *args,
        *extra,
        setup=setup,
        reset=prefix,
        normalise=normalise,
        input=input,
        state=prefix,
    )


GET_CASES: dict[str, tuple[list[str], Prepare]] = {
    "one key": (["get", "{p}a"], three),
    "missing key": (["get", "{p}nothing"], three),
    "range": (["get", "{p}a", "{p}c"], three),
    "range ending before its key": (["get", "{p}c", "{p}a"], three),
    "prefix": (["get", "--prefix", "{p}"], three),
    "from key, limited": (["get", "--from-key", "{p}b", "--limit", "2"], three),
    "keys only": (["get", "--prefix", "--keys-only", "{p}"], three),
    "values only": (["get", "--prefix", "--print-value-only", "{p}"], three),
    "limit, more": (["get", "--prefix", "--limit=2", "{p}"], three),
    "at a revision": (["get", "--prefix", "--rev={rev_c}", "{p}"], three),
    "future revision": (["get", "--rev=99999999", "{p}a"], three),
    "sorted by value, descending": (
        ["get", "--prefix", "--sort-by=VALUE", "--order=DESCEND", "{p}"],
        three,
    ),
    "sorted by creation": (["get", "--prefix", "--sort-by=create", "{p}"], three),
    "sorted by modification": (["get", "--prefix", "--sort-by=MODIFY", "{p}"], three),
    "sorted by version, descending": (
        ["get", "--prefix", "--sort-by=VERSION", "--order=descend", "{p}"],
        three,
    ),
    "descending": (["get", "--prefix", "--order=DESCEND", "{p}"], three),
    "serializable": (["get", "--consistency=s", "--prefix", "{p}"], three),
    "count only": (["get", "--prefix", "--count-only", "{p}"], three),
    "hex": (["get", "--hex", "--prefix", "{p}"], three),
    "bad sort target": (["get", "--sort-by=SIZE", "{p}a"], three),
    "bad order": (["get", "--order=UP", "{p}a"], three),
    "bad consistency": (["get", "--consistency=x", "{p}a"], three),
    "prefix and from-key": (["get", "--prefix", "--from-key", "{p}a"], three),
    "prefix and range end": (["get", "--prefix", "{p}a", "{p}c"], three),
    "no key": (["get"], three),
    "bad limit": (["get", "--limit", "many", "{p}a"], three),
    "unknown flag": (["get", "--bogus", "{p}a"], three),
    "flag without value": (["get", "{p}a", "--limit"], three),
}


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("case", list(GET_CASES))
def test_get(url: str, prefix: str, case: str, write_out: str) -> None:
    args, prepare = GET_CASES[case]
    run_case(url, prefix, args, prepare, write_out)


PUT_CASES: dict[str, tuple[list[str], Prepare, str | None]] = {
    "new key": (["put", "{p}new", "value"], three, None),
    "overwrite, previous value": (["put", "--prev-kv", "{p}a", "again"], three, None),
    "previous value of a new key": (["put", "--prev-kv", "{p}new", "x"], three, None),
    "value from stdin": (["put", "{p}new"], three, "from\nstdin\n"),
    "no value and empty stdin": (["put", "{p}new"], three, ""),
    "no key": (["put"], three, None),
    "value that looks like a flag": (["put", "{p}new", "--", "-v"], three, None),
    "with a lease": (["put", "--lease={lease}", "{p}k2", "v"], leased, None),
    "lease not found": (["put", "--lease=1234abcd", "{p}new", "v"], three, None),
    "bad lease id": (["put", "--lease=xyz", "{p}new", "v"], three, None),
    "ignore value": (["put", "--ignore-value", "--prev-kv", "{p}k"], leased, None),
    "ignore value of a missing key": (["put", "--ignore-value", "{p}none"], three, None),
    "ignore value with a value": (["put", "--ignore-value", "{p}k", "v"], leased, None),
    "ignore lease": (["put", "--ignore-lease", "{p}k", "w"], leased, None),
    "ignore lease of a missing key": (["put", "--ignore-lease", "{p}none", "w"], three, None),
    "hex previous value": (["put", "--hex", "--prev-kv", "{p}a", "z"], three, None),
}


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("case", list(PUT_CASES))
def test_put(url: str, prefix: str, case: str, write_out: str) -> None:
    args, prepare, input = PUT_CASES[case]
    run_case(url, prefix, args, prepare, write_out, (revisions, lease_ids, usage), input)


DEL_CASES: dict[str, tuple[list[str], Prepare]] = {
    "one key": (["del", "{p}a"], three),
    "missing key": (["del", "{p}nothing"], three),
    "previous value": (["del", "--prev-kv", "{p}b"], three),
    "prefix": (["del", "--prefix", "{p}"], three),
    "prefix, previous values": (["del", "--prefix", "--prev-kv", "{p}"], three),
    "range": (["del", "--prev-kv", "{p}a", "{p}c"], three),
    "prefix and from-key": (["del", "--prefix", "--from-key", "{p}a"], three),
    "prefix and range end": (["del", "--prefix", "{p}a", "{p}c"], three),
    "no key": (["del"], three),
    "three arguments": (["del", "{p}a", "{p}b", "{p}c"], three),
    "hex": (["del", "--hex", "--prev-kv", "{p}a"], three),
}


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("case", list(DEL_CASES))
def test_del(url: str, prefix: str, case: str, write_out: str) -> None:
    args, prepare = DEL_CASES[case]
    run_case(url, prefix, args, prepare, write_out)
