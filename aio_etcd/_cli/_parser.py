"""The command line's grammar: global flags, then one command and its own flags."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .._constants import VERSION
from . import _auth, _cluster, _keys, _lock, _migrate, _watch
from ._command import Parser, Registry
from ._settings import PASSWORD_ENV, add_global_options

EXECUTES = ("lock", "exec-watch")
"""The commands that take a command to run, after ``--``."""

EPILOG = f"""\
environment: ETCDCTL_ENDPOINTS, ETCDCTL_DISCOVERY_SRV, ETCDCTL_CA_FILE, ETCDCTL_CERT_FILE,
ETCDCTL_KEY_FILE, ETCDCTL_USERNAME and {PASSWORD_ENV} stand in for flags not given.

exit codes: 0 success, 1 bad arguments, 2 etcd unreachable, 3 bad credentials,
4 error from etcd, 5 cluster not healthy, 130 interrupted; lock exits with its command's code.
"""


def build(*, split: bool = False) -> Parser:
    """The parser; with ``split``, for the part of a command line before ``--`` of the
    commands that run one (the command comes after it)."""
    common = Parser(add_help=False)
    add_global_options(common)
    parser = Parser(
        prog="aio-etcd",
        description="A command line client for etcd's v2 API, like etcdctl v2.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"aio-etcd version: {VERSION}\nAPI version: 2",
    )
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    commands = Registry(subparsers, common, split=split)
    _keys.register(commands)
    _watch.register(commands)
    _cluster.register(commands)
    _auth.register(commands)
    _lock.register(commands)
    _migrate.register(commands)
    tour = subparsers.add_parser(
        "tour", help="walk through the client's calls against etcd, printing what happens"
    )
    tour.add_argument(
        "--endpoint",
        help="an etcd client URL (default: start a throwaway etcd on 127.0.0.1)",
    )
    tour.add_argument(
        "--api",
        choices=("v2", "v3"),
        default="v2",
        help="the etcd API the calls run on (v3: Client(api='v3'); default: v2)",
    )
    tour.set_defaults(command=None)
    return parser


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The arguments. For ``lock`` and ``exec-watch`` everything after the first ``--`` is
    the command to run, whatever it looks like."""
    argv = list(argv)
    args = build().parse_args(argv)
    name = getattr(args, "command", None)
    if name is not None and name.name in EXECUTES and "--" in argv:
        cut = argv.index("--")
        args = build(split=True).parse_args(argv[:cut])
        before: list[str] = args.exec_command
        args.exec_command = [*before, "--", *argv[cut + 1 :]] if before else argv[cut + 1 :]
    return args
