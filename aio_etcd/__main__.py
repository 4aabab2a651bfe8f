"""``python -m aio_etcd`` and ``aio-etcd``: the command line (see ``docs/cli.md``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import _cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); returns the exit code."""
    return _cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
