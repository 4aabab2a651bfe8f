"""``migrate``: copy the v2 store into v3 keys, check the copy, keep it in step.

The work is :mod:`aio_etcd._migrate`'s; this module reads the flags, makes the v3 client of
the target and wires SIGINT/SIGTERM to the end of ``--keep-syncing``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Iterator

from .._migrate import keep_syncing, migrate, verify
from .._v3._client import Etcd3Client
from ._command import Context, Registry
from ._errors import EXIT_SUCCESS, CliError
from ._settings import PASSWORD_ENV, Settings, _parse_endpoints, credentials

EXIT_DIFFERENT = 7
"""``--verify`` found keys that differ."""
TARGET_PASSWORD_ENV = "ETCDCTL_TARGET_PASSWORD"

DESCRIPTION = f"""\
Copy the v2 store (or the tree at --prefix) of the cluster at --endpoints into v3 keys of
the cluster at --target-endpoints (by default the same one), in the layout that
Client(api="v3") reads: a v2 path is the same v3 key, each directory D gets the marker key
D/, each key with a TTL a lease with the seconds it has left. Only what differs is
written: a second run changes nothing and says so. v3 keys below the prefix that v2 does
not have are listed (and deleted with --delete-extra). Names starting with '_' are hidden
from v2 listings and copied only when given as --prefix. Progress goes to stderr.

The target's TLS files and credentials default to the source's (the global flags); its
password comes from ${TARGET_PASSWORD_ENV} or a prompt.

exit codes: 0 done (or nothing to change; with --keep-syncing, stopped by SIGINT or
SIGTERM), 1 bad arguments, 2 etcd unreachable, 3 bad credentials, 4 error from etcd
(e.g. no v2 API at the source, or nothing at --prefix), {EXIT_DIFFERENT} --verify found differences
(listed on stdout), 130 interrupted before the copy ended.
"""


def register(commands: Registry) -> None:
    parser = commands.add(
        "migrate",
        _migrate,
        help="copy the v2 store into v3 keys (and keep syncing)",
        description=DESCRIPTION,
        bounded=False,
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the paragraphs
    parser.add_argument(
        "--prefix", default="/", help="the v2 key or directory to copy (default: /, all)"
    )
    parser.add_argument(
        "--target-endpoints", metavar="URLS", help="client URLs of the v3 target cluster"
    )
    parser.add_argument("--target-ca-file", metavar="FILE", help="default: --ca-file")
    parser.add_argument("--target-cert-file", metavar="FILE", help="default: --cert-file")
    parser.add_argument("--target-key-file", metavar="FILE", help="default: --key-file")
    parser.add_argument(
        "--target-username",
        metavar="USER[:PASSWORD]",
        help=f"default: --username; the password from ${TARGET_PASSWORD_ENV} or a prompt",
    )
    parser.add_argument("--dry-run", action="store_true", help="compare and report only")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="then read both back and compare every key (with --dry-run: only compare)",
    )
    parser.add_argument(
        "--delete-extra", action="store_true", help="delete v3 keys that v2 does not have"
    )
    parser.add_argument(
        "--keep-syncing",
        action="store_true",
        help="then apply every v2 change to v3 until SIGINT or SIGTERM",
    )


async def _migrate(context: Context) -> int:
    args = context.args
    if args.keep_syncing and args.dry_run:
        raise CliError("--keep-syncing cannot go with --dry-run")
    source = context.client
    async with target_client(context.settings, args) as target:
        report = await migrate(
            source,
            target,
            args.prefix,
            dry_run=args.dry_run,
            delete_extra=args.delete_extra,
            progress=_say,
        )
        if args.verify:
            differences = await verify(source, target, args.prefix)
            for difference in differences:
                print(difference, flush=True)
            if differences:
                _say(f"verify: {len(differences)} keys differ")
                return EXIT_DIFFERENT
            _say(f"verify: the {report.keys} keys are the same in v2 and v3")
        elif not report.deleted:
            for key in report.extra:
                print(f"extra {key}", flush=True)
        if args.keep_syncing:
            stop = asyncio.Event()
            with _signals_set(stop):
                await keep_syncing(
                    source, target, args.prefix, index=report.index + 1, stop=stop, progress=_say
                )
    return EXIT_SUCCESS


def target_client(settings: Settings, args: object) -> Etcd3Client:
    """The v3 client of ``--target-endpoints``, TLS and credentials defaulting to the
    source's."""
    endpoints = getattr(args, "target_endpoints", None)
    ca_file = getattr(args, "target_ca_file", None) or settings.ca_file
    cert_file = getattr(args, "target_cert_file", None)
    key_file = getattr(args, "target_key_file", None)
    cert = settings.cert
    if key_file and not cert_file:
        raise CliError("--target-key-file needs --target-cert-file")
    if cert_file:
        cert = (cert_file, key_file) if key_file else cert_file
    username, password = settings.username, settings.password
    user_flag = getattr(args, "target_username", None)
    if user_flag:
        username, password = credentials(
            user_flag, {PASSWORD_ENV: os.environ.get(TARGET_PASSWORD_ENV, "")}
        )
    if endpoints is None and settings.srv_domain is not None:
        protocol, hosts, srv = settings.protocol, [("127.0.0.1", 2379)], settings.srv_domain
    else:
        listed = [e.strip() for e in (endpoints or ",".join(settings.endpoints)).split(",")]
        protocol, hosts = _parse_endpoints([e for e in listed if e])
        srv = None
    tls = protocol == "https"
    return Etcd3Client(
        hosts if len(hosts) > 1 else hosts[0][0],
        hosts[0][1],
        srv_domain=srv,
        protocol=protocol,
        ca_cert=ca_file if tls else None,
        cert=cert if tls else None,
        username=username,
        password=password,
        read_timeout=settings.timeout,
    )


@contextlib.contextmanager
def _signals_set(stop: asyncio.Event) -> Iterator[None]:
    """SIGINT and SIGTERM set ``stop`` instead of interrupting. The SIGINT handler stays
    until the command's runner removes its own (``_main._ctrl_c_cancels``), so a second
    Ctrl-C during the shutdown does not cut it short."""
    loop = asyncio.get_running_loop()
    try:
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
    except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, Windows
        pass
    try:
        yield
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signal.SIGTERM)


def _say(line: str) -> None:
    print(f"migrate: {line}", file=sys.stderr, flush=True)
