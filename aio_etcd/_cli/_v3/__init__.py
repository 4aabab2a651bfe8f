"""The v3 command line: etcdctl 3.5's commands, flags, output formats and exit codes, run on
:class:`aio_etcd.Etcd3Client` (the JSON gateway, no gRPC).

``_parser`` holds the grammar, the global flags and their ``ETCDCTL_*`` variables;
``_printer`` the ``-w`` formats; ``_errors`` the exit codes and messages; one module per
command group registers its commands (``register(commands)``) in :func:`registry`.
"""

from ._main import main, registry

__all__ = ["main", "registry"]
