"""The ``aio-etcd`` command line: etcdctl v2's commands, flags, output and exit codes.

One module per command group (``_keys``, ``_watch``, ``_cluster``, ``_auth``, ``_lock``);
global flags in ``_settings``, formats in ``_output``, and every failure's exit code and
message in ``_errors``.
"""

from ._main import main

__all__ = ["main"]
