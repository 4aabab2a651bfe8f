"""``alarm``, ``defrag`` and ``snapshot save`` compared with etcdctl's, in every output
format.

Alarms are raised (``NOSPACE``, through the gateway's alarm call, as etcd raises it when its
quota is exceeded) on an etcd of this module's own: a member with the alarm refuses writes.

Normalisers (``tests/cli_v3/_admin.py``): ``revisions``, ``timings``, ``column_widths``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aio_etcd._server import LocalEtcd
from tests.cli_v3 import _compare
from tests.cli_v3._admin import alarm, column_widths, members, timings
from tests.cli_v3._compare import Gateway, compare, revisions
from tests.cli_v3._inprocess import in_process

pytestmark = pytest.mark.etcdctl

FORMATS = ("simple", "json", "fields", "table")


@pytest.fixture(autouse=True)
def _aio_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    in_process(monkeypatch)


@pytest.fixture(scope="module")
def alarmed() -> Iterator[LocalEtcd]:
    with LocalEtcd(enable_v2=False, name="alarmed") as server:
        yield server


@pytest.fixture
def alarmed_url(alarmed: LocalEtcd) -> Iterator[str]:
    yield alarmed.client_url
    gateway = Gateway(alarmed.client_url)
    for each in gateway.call("maintenance/alarm", {}).get("alarms", []):
        gateway.call("maintenance/alarm", {"action": "DEACTIVATE", **each})


def raised(kind: str = "NOSPACE") -> Callable[[Gateway], None]:
    def setup(gateway: Gateway) -> None:
        alarm(gateway, "ACTIVATE", int(str(members(gateway)[0]["ID"])), kind)

    return setup


@pytest.mark.parametrize("write_out", FORMATS)
def test_alarm_list(alarmed_url: str, write_out: str) -> None:
    compare(alarmed_url, "alarm", "list", "-w", write_out, setup=raised(), normalise=[revisions])


@pytest.mark.parametrize("write_out", FORMATS)
def test_alarm_list_without_alarms(url: str, write_out: str) -> None:
    compare(url, "alarm", "list", "-w", write_out, normalise=[revisions])


@pytest.mark.parametrize("write_out", ["simple", "json", "table"])
def test_alarm_disarm(alarmed_url: str, write_out: str) -> None:
    """Every alarm raised is cleared (``table`` is refused after clearing them, as etcdctl
    does). Not ``fields``: etcdctl 3.5.1 crashes there (listed in docs/cli.md)."""
    compare(alarmed_url, "alarm", "disarm", "-w", write_out, setup=raised())
    assert not Gateway(alarmed_url).call("maintenance/alarm", {}).get("alarms")


@pytest.mark.parametrize("write_out", ["simple", "json"])
def test_alarm_disarm_without_alarms(url: str, write_out: str) -> None:
    compare(url, "alarm", "disarm", "-w", write_out)


@pytest.mark.parametrize("write_out", FORMATS)
def test_endpoint_health_with_an_alarm(alarmed_url: str, write_out: str) -> None:
    """A member with an alarm is unhealthy, and the command fails."""
    outcome = compare(
        alarmed_url,
        "endpoint",
        "health",
        "-w",
        write_out,
        setup=raised(),
        normalise=[timings, column_widths],
    )
    assert outcome.aio.code == 1


@pytest.mark.parametrize("write_out", FORMATS)
@pytest.mark.parametrize("cluster", [False, True], ids=["endpoints", "cluster"])
def test_defrag(url: str, write_out: str, cluster: bool) -> None:
    flags = ["--cluster"] if cluster else []
    compare(url, "defrag", *flags, "-w", write_out)


def test_defrag_of_a_member_that_is_down(url: str) -> None:
    down = "127.0.0.1:9"
    outcome = compare(
        url,
        f"--endpoints={url.removeprefix('http://')},{down}",
        "--command-timeout=1s",
        "defrag",
    )
    assert outcome.aio.code == 1


@pytest.mark.parametrize("write_out", FORMATS)
def test_snapshot_save(url: str, tmp_path: Path, write_out: str) -> None:
    path = tmp_path / "backup.db"
    sizes = []

    def setup(gateway: Gateway) -> None:
        if path.exists():
            sizes.append(path.stat().st_size)
            path.unlink()

    compare(url, "snapshot", "save", str(path), "-w", write_out, setup=setup)
    assert path.stat().st_size > 0 and sizes[0] > 0
    assert not Path(f"{path}.part").exists()


def test_snapshot_save_errors(url: str, tmp_path: Path) -> None:
    compare(url, "snapshot", "save")
    compare(url, "snapshot", "save", str(tmp_path / "missing" / "backup.db"))
    two = f"--endpoints={url.removeprefix('http://')},127.0.0.1:9"
    compare(url, two, "snapshot", "save", str(tmp_path / "backup.db"))


def test_the_program_itself(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """One case through ``python -m aio_etcd`` in a process of its own."""
    monkeypatch.undo()
    assert _compare.aio is not None
    compare(url, "alarm", "list", "-w", "fields", normalise=[revisions])
