"""A process that has imported ``aio_etcd`` once and forks a child per command line, so that
each ``aio-etcd`` run of the comparisons costs a fork rather than a Python start (about a
second of imports on a loaded machine).

Each child is a process of its own, as ``python -m aio_etcd ...`` would be: its standard
input, output and error are the files named in the request, its environment is the one
given, and its exit status is what ``aio_etcd.__main__.main`` returned. Nothing is imported
or run in it that the command line would not import or run.

Protocol, on a Unix socket: the test sends one JSON object ``{"argv", "env", "stdin",
"stdout", "stderr"}`` (paths) and closes its writing side; the server answers with the
child's exit code (``waitstatus_to_exitcode``: negative for a signal) as text.
"""

from __future__ import annotations

import json
import os
import socket
import sys

import aio_etcd._cli._v3
from aio_etcd.__main__ import main


def serve(path: str) -> None:
    aio_etcd._cli._v3.registry()  # every command module imported before forking
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    while True:
        connection, _ = server.accept()
        with connection:
            data = b""
            while chunk := connection.recv(65536):
                data += chunk
            request = json.loads(data)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                server.close()
                _child(request)
            _, status = os.waitpid(pid, 0)
            connection.sendall(str(os.waitstatus_to_exitcode(status)).encode())


def _child(request: dict[str, object]) -> None:
    code = 1
    try:
        for fd, name, flags in (
            (0, "stdin", os.O_RDONLY),
            (1, "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            (2, "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        ):
            path = request[name]
            assert isinstance(path, str)
            opened = os.open(path, flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        env = request["env"]
        argv = request["argv"]
        assert isinstance(env, dict) and isinstance(argv, list)
        os.environ.clear()
        os.environ.update(env)
        code = main(argv)
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


if __name__ == "__main__":
    serve(sys.argv[1])
