"""``aio-etcd`` run in the test's own process, for the comparisons with many cases.

Starting Python and importing aio_etcd takes about a second per run, against a tenth for
etcdctl; the administration commands have a hundred cases. In process, the run is the same
``aio_etcd.__main__.main(argv)`` that ``python -m aio_etcd`` calls, with its own standard
input, output and error (bytes, as a pipe gives them) and no ``ETCDCTL_*`` of the person
running the tests; each module keeps cases that start the real program too.
"""

from __future__ import annotations

import io
import os
import sys

import pytest

import aio_etcd.__main__
from tests.cli_v3 import _compare
from tests.cli_v3._compare import Run


def aio_in_process(endpoint: str, *args: str, input: str | None = None, **_: object) -> Run:
    streams = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    # Held here: a wrapper that is dropped closes the buffer under it.
    wrappers = (
        io.TextIOWrapper(io.BytesIO((input or "").encode())),
        io.TextIOWrapper(out, write_through=True),
        io.TextIOWrapper(err, write_through=True),
    )
    sys.stdin, sys.stdout, sys.stderr = wrappers
    try:
        code = aio_etcd.__main__.main([f"--endpoints={endpoint}", *args])
        for wrapper in wrappers[1:]:
            wrapper.flush()
        printed = out.getvalue(), err.getvalue()
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
    return Run(
        code,
        printed[0].decode(errors="backslashreplace"),
        printed[1].decode(errors="backslashreplace"),
    )


def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make :func:`~tests.cli_v3._compare.compare` run aio-etcd in process."""
    for name in list(os.environ):
        if name.startswith("ETCDCTL_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(_compare, "aio", aio_in_process)
