"""``python -m aio_etcd``: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._exceptions import EtcdException
from ._server import EtcdNotFoundError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aio-etcd", description="aio_etcd command line")
    commands = parser.add_subparsers(dest="command", required=True)
    tour = commands.add_parser(
        "tour", help="walk through the client's calls against etcd, printing what happens"
    )
    tour.add_argument(
        "--endpoint",
        help="an etcd client URL (default: start a throwaway etcd on 127.0.0.1)",
    )
    args = parser.parse_args(argv)

    from . import _tour

    try:
        _tour.run(args.endpoint)
    except (EtcdException, EtcdNotFoundError) as exc:
        print(f"aio-etcd: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
