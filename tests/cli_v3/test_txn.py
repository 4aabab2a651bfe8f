"""``txn`` compared with etcdctl 3.5.1's: its standard-input format (compares, a blank line,
success requests, a blank line, failure requests, a blank line), ``-i`` prompts, and every
output format."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.cli_v3._compare import Gateway, compare, lease_ids, revisions, usage

pytestmark = pytest.mark.etcdctl

FORMATS = ("simple", "json", "fields", "table")


def two(gateway: Gateway, prefix: str) -> Mapping[str, object]:
    """``a=1`` (version 1) and ``b=2``; ``{rev_a}`` is a's revision, ``{lease}`` a lease
    (decimal) that ``b`` is attached to."""
    lease = gateway.grant(600)
    rev_a = gateway.put(f"{prefix}a", "1")
    gateway.put(f"{prefix}b", "2", lease=lease)
    return {"rev_a": rev_a, "lease": lease}


TXN_CASES: dict[str, str] = {
    "value equal: success": 'value("{p}a") = "1"\n\nput {p}c 3\nget {p}a\n\nput {p}d 4\n\n',
    "value differs: failure": 'val("{p}a") = "x"\n\nput {p}c 3\n\nput {p}d 4\nget {p}b\n\n',
    "not equal, greater, less": (
        'value("{p}a") != "2"\nver("{p}a") > "0"\nversion("{p}b") < "5"\n\ndel {p}b\n\n\n'
    ),
    "revisions": 'mod("{p}a") = "{rev_a}"\nc("{p}b") > "{rev_a}"\ncreate("{p}a") = "{rev_a}"\n\n'
    "get --prefix {p}\n\n\n",
    "revision differs": 'm("{p}a") < "{rev_a}"\n\nput {p}x 1\n\nget --keys-only {p}a\n\n',
    "no compares": "\nput {p}c 3\nput --prev-kv {p}a 9\n\n\n",
    "requests with flags": (
        '\nget --prefix --limit=1 {p}\ndel --prefix --prev-kv {p}b\nput "{p}q w" "two words"\n\n\n'
    ),
    "a missing key compares as empty": 'value("{p}zz") = ""\n\nget {p}zz\n\nput {p}zz x\n\n',
    "quoted escapes": '\nput "{p}tab\\there" "line\\nbreak"\nget "{p}tab\\there"\n\n\n',
    "nothing at all": "\n\n\n",
    "empty input": "",
    "failure section not ended": "\nput {p}c 3\n\nput {p}d 4\n",
    "compares not ended": 'value("{p}a") = "1"\n',
    "malformed compare": "bogus\n\n\n\n",
    "compare without quotes": "value({p}a) = 1\n\n\n\n",
    "unknown compare target": 'size("{p}a") = "1"\n\n\n\n',
    "version not a number": 'ver("{p}a") = "one"\n\n\n\n',
    "unknown request": "\nfrob {p}a b\n\n\n",
    "request without arguments": "\nget\n\n\n",
    "put without a value": "\nput {p}a\n\n\n",
    "bad flag in a request": "\nget --bogus {p}a\n\n\n",
    "two puts of one key": "\nput {p}a 1\nput {p}a 2\n\n\n",
}


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("case", list(TXN_CASES))
def test_txn(url: str, prefix: str, case: str, write_out: str) -> None:
    def setup(gateway: Gateway) -> Mapping[str, object]:
        return {"p": prefix, **two(gateway, prefix)}

    compare(
        url,
        "txn",
        "-w",
        write_out,
        input=TXN_CASES[case],
        setup=setup,
        reset=prefix,
        normalise=[revisions, lease_ids, usage],
        state=prefix,
    )


@pytest.mark.parametrize("write_out", ["simple", "json"])
def test_txn_interactive_prompts(url: str, prefix: str, write_out: str) -> None:
    def setup(gateway: Gateway) -> Mapping[str, object]:
        return {"p": prefix, **two(gateway, prefix)}

    compare(
        url,
        "txn",
        "--interactive",
        "-w",
        write_out,
        input='value("{p}a") = "1"\n\nput {p}c 3\n\nput {p}d 4\n\n',
        setup=setup,
        reset=prefix,
        normalise=[revisions],
        state=prefix,
    )


def test_txn_takes_no_arguments(url: str, prefix: str) -> None:
    compare(url, "txn", "-i", f"{prefix}a", normalise=[usage])


def test_single_quotes_are_removed_whole(url: str, prefix: str) -> None:
    """A deliberate difference: etcdctl 3.5 cuts a 'single-quoted' word by the number of
    words on the line (``argify``'s ``args[i][1 : len(args)-1]``); aio-etcd removes the
    quotes."""
    from tests.cli_v3._compare import Gateway as Plain
    from tests.cli_v3._compare import aio, etcdctl

    gateway = Plain(url)
    endpoint = url.removeprefix("http://")
    line = f"\nput '{prefix}single' 'quoted value'\n\n\n"
    theirs = etcdctl(endpoint, "txn", input=line)
    assert theirs.code == 0
    assert gateway.dump(prefix) == [(prefix[:1], "q", 1, False)] or gateway.dump(prefix) == []
    ours = aio(endpoint, "txn", input=line)
    assert (ours.code, ours.out) == (0, "SUCCESS\n\nOK\n"), ours.err
    assert gateway.dump(prefix) == [(f"{prefix}single", "quoted value", 1, False)]


def test_where_etcdctl_panics(url: str, prefix: str) -> None:
    """Deliberate differences: etcdctl 3.5.1 panics (exit 2) on a ``lease`` compare and on
    an operator other than ``=``, ``!=``, ``<``, ``>``; aio-etcd compares the lease, and
    refuses the operator as malformed input (exit 3)."""
    from tests.cli_v3._compare import Gateway as Plain
    from tests.cli_v3._compare import aio, etcdctl

    gateway = Plain(url)
    endpoint = url.removeprefix("http://")
    lease = gateway.grant(600)
    gateway.put(f"{prefix}a", "1", lease=lease)
    by_lease = f'lease("{prefix}a") = "{lease}"\n\nput {prefix}b 2\n\n\n'
    theirs = etcdctl(endpoint, "txn", input=by_lease)
    assert theirs.code == 2 and theirs.first_err == "panic: bad value"
    ours = aio(endpoint, "txn", input=by_lease)
    assert (ours.code, ours.out, ours.err) == (0, "SUCCESS\n\nOK\n", "")
    assert gateway.dump(prefix)[1][:2] == (f"{prefix}b", "2")
    doubled = f'value("{prefix}a") == "1"\n\n\n\n'
    theirs = etcdctl(endpoint, "txn", input=doubled)
    assert theirs.code == 2 and theirs.first_err == "panic: Unknown result op"
    ours = aio(endpoint, "txn", input=doubled)
    assert ours.code == 3
    assert (
        ours.err
        == f"Error: malformed comparison: {doubled.splitlines()[0]} (unknown operator ==)\n"
    )
